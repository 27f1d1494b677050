#include <string>

#include "fft/long_conv.hpp"
#include "hyenavk/hyena_operator.hpp"

namespace hyenavk {

uint64_t HyenaOperatorConfig::parameter_count() const {
    const uint64_t D = d_model, N = order, W = filter_order, E = emb_dim, F = filter_channels(), L = l_max;
    uint64_t n = (N + 1) * D * D + (N + 1) * D;  // in_proj
    n += D * D + D;                              // out_proj
    n += (N + 1) * D * 3 + (N + 1) * D;          // short_filter
    n += F;                                      // filter_fn.bias
    n += L * E + L;                              // pos_emb.z, pos_emb.t (stored, not learned, but in the file)
    n += W * E + W;                              // first Linear
    n += uint64_t(num_inner_mlps) * (W * W + W);  // inner Linears
    n += (uint64_t(num_inner_mlps) + 1) * W;     // Sin freq copies
    n += F * W;                                  // last Linear, no bias
    n += F;                                      // modulation.deltas
    return n;
}

void HyenaOperatorConfig::validate() const {
    auto require = [](bool ok, const std::string& what) {
        if (!ok) throw Error(ErrorCode::InvalidArgument, "hyena_operator config: " + what);
    };
    require(d_model >= 1, "d_model is required and must be >= 1");
    require(l_max >= 1, "l_max is required and must be >= 1");
    require(order >= 2, "order must be >= 2");
    require(filter_order >= 1, "filter_order must be >= 1");
    require(emb_dim >= 3 && emb_dim % 2 == 1, "emb_dim must be odd and >= 3");
    require(target > 0.0 && target < 1.0, "target must be in (0, 1)");
    require(fast_decay_pct > 0.0 && slow_decay_pct > 0.0, "fast_decay_pct and slow_decay_pct must be > 0");
    auto at_most = [&require](const char* key, uint32_t value, uint32_t limit) {
        require(value <= limit, std::string(key) + " must be at most " + std::to_string(limit) + " (got " +
                                    std::to_string(value) + ")");
    };
    at_most("d_model", d_model, 65536);
    at_most("order", order, 64);
    at_most("filter_order", filter_order, 65536);
    at_most("emb_dim", emb_dim, 4097);
    at_most("num_inner_mlps", num_inner_mlps, 64);
    // A forward's filter is as long as its sequence, and no longer sequence fits a long convolution.
    at_most("l_max", l_max, fft::LongConv::kMaxLength);
}

}  // namespace hyenavk
