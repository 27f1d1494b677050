#include <string>

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
    require(d_model <= 65536 && order <= 64 && filter_order <= 65536 && emb_dim <= 4097 && num_inner_mlps <= 64,
            "a size is beyond what hyenavk supports (d_model <= 65536, order <= 64, ...)");
}

}  // namespace hyenavk
