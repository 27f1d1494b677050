#include <string>

#include "fft/long_conv.hpp"
#include "hyenavk/striped_hyena.hpp"
#include "model/striped_hyena_tensors.hpp"

namespace hyenavk {

uint64_t StripedHyenaConfig::parameter_count() const {
    uint64_t n = 0;
    for (const auto& t : model::striped_hyena_tensors(*this)) n += t.elements();
    return n;
}

void StripedHyenaConfig::validate() const {
    auto require = [](bool ok, const std::string& what) {
        if (!ok) throw Error(ErrorCode::InvalidArgument, "striped_hyena config: " + what);
    };
    require(embed_dim >= 1, "embed_dim is required and must be >= 1");
    require(hidden_size >= 1, "hidden_size must be >= 1");
    require(order >= 1, "order must be >= 1");
    require(filter_size >= 1, "filter_size must be >= 1");
    require(conv_kernel_size >= 1, "conv_kernel_size must be >= 1");
    require(num_layers >= 1, "num_layers must be >= 1");
    require(window_size >= 1, "window_size must be >= 1");
    require(dropout >= 0.0 && dropout < 1.0, "dropout must be in [0, 1)");
    // Kernels index with 32-bit integers; these caps keep every tensor well inside that.
    auto at_most = [&require](const char* key, uint32_t value, uint32_t limit) {
        require(value <= limit, std::string(key) + " must be at most " + std::to_string(limit) + " (got " +
                                    std::to_string(value) + ")");
    };
    at_most("hidden_size", hidden_size, 65536);
    at_most("embed_dim", embed_dim, 1u << 20);
    at_most("filter_size", filter_size, 65536);
    at_most("order", order, 64);
    at_most("conv_kernel_size", conv_kernel_size, 4096);
    at_most("num_layers", num_layers, 1024);
    // Filters of seq_len taps (window_size where 0) are made at load, and no longer sequence can reach them.
    at_most("window_size", window_size, fft::LongConv::kMaxLength);
    at_most("seq_len", seq_len, fft::LongConv::kMaxLength);
}

StripedHyenaConfig StripedHyenaConfig::recommended_defaults(uint32_t embed_dim) {
    StripedHyenaConfig c;
    c.embed_dim = embed_dim;
    return c;
}

}  // namespace hyenavk
