#include "ref/hyena_operator.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

#include "ref/reference.hpp"

namespace hyenavk::ref {
namespace {

using Shape = std::vector<uint64_t>;

[[noreturn]] void fail(const std::string& what) {
    throw std::invalid_argument("hyenavk::ref::hyena_operator: " + what);
}

void check_config(const HyenaOperatorConfig& cfg) {
    if (cfg.d_model == 0) fail("d_model must be >= 1");
    if (cfg.l_max == 0) fail("l_max must be >= 1");
    if (cfg.order < 2) fail("order must be >= 2");
    if (cfg.filter_order == 0) fail("filter_order must be >= 1");
    if (cfg.emb_dim < 3 || cfg.emb_dim % 2 == 0) fail("emb_dim must be odd and >= 3");
}

void check_length(const HyenaOperatorConfig& cfg, uint32_t length) {
    if (length == 0) fail("length must be >= 1");
    if (length > cfg.l_max)
        fail("length " + std::to_string(length) + " exceeds l_max " + std::to_string(cfg.l_max) +
             " (the positional embedding holds l_max steps)");
}

// The tensor `name` with exactly `shape`; anything else throws naming both.
std::span<const double> get(const Weights& weights, const std::string& name, const Shape& shape) {
    return tensor(weights, name, shape, "hyenavk::ref::hyena_operator");
}

std::string mlp_layer(uint64_t index) { return "filter_fn.implicit_filter." + std::to_string(index); }

// Order o's D channels out of the D(N-1) filter channels of x [rows, D(N-1)], as [rows, D].
std::vector<double> order_chunk(const HyenaOperatorConfig& cfg, std::span<const double> x, std::size_t rows,
                                uint32_t o) {
    const std::size_t D = cfg.d_model, F = cfg.filter_channels(), N1 = cfg.order - 1;
    if (cfg.filter_layout == FilterLayout::Blocked) return slice_columns(x, rows, F, o * D, D);
    std::vector<double> out(rows * D);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t d = 0; d < D; ++d) out[r * D + d] = x[r * F + d * N1 + o];
    return out;
}

}  // namespace

std::vector<double> hyena_operator_filter(const HyenaOperatorConfig& cfg, const Weights& weights, uint32_t length) {
    check_config(cfg);
    check_length(cfg, length);
    const uint64_t L = length, Lmax = cfg.l_max, E = cfg.emb_dim, W = cfg.filter_order, F = cfg.filter_channels(),
                   M = cfg.num_inner_mlps;
    // The stored positional tensors, first L steps: [1, l_max, C] is row-major with time outermost.
    const auto z = get(weights, "filter_fn.pos_emb.z", {1, Lmax, E}).first(L * E);
    const auto t = get(weights, "filter_fn.pos_emb.t", {1, Lmax, 1}).first(L);

    std::vector<double> h(z.begin(), z.end());
    for (uint64_t j = 0; j <= M; ++j) {
        const uint64_t in = j == 0 ? E : W;
        const std::string layer = mlp_layer(2 * j);
        h = dense(h, L, in, get(weights, layer + ".weight", {W, in}), WeightLayout::OutIn,
                  get(weights, layer + ".bias", {W}), W);
        h = sin_freq(h, L, W, get(weights, mlp_layer(2 * j + 1) + ".freq", {1, W}));
    }
    h = dense(h, L, W, get(weights, mlp_layer(2 * M + 2) + ".weight", {F, W}), WeightLayout::OutIn, {}, F);

    if (cfg.modulate) h = exp_decay(h, L, F, t, get(weights, "filter_fn.modulation.deltas", {1, 1, F}), cfg.shift);
    if (cfg.normalized) h = l1_normalize_rows(h, L, F);
    return h;
}

std::vector<double> hyena_operator_forward(const HyenaOperatorConfig& cfg, const Weights& weights,
                                           std::span<const double> x, uint32_t batch, uint32_t length) {
    check_config(cfg);
    check_length(cfg, length);
    const uint64_t D = cfg.d_model, N = cfg.order, C = (N + 1) * D, F = cfg.filter_channels();
    const std::size_t rows = static_cast<std::size_t>(batch) * length;
    if (x.size() != rows * D)
        fail("input has " + std::to_string(x.size()) + " values, expected [B, L, D] = " +
             shape_string({batch, length, D}));

    const auto u = dense(x, rows, D, get(weights, "in_proj.weight", {C, D}), WeightLayout::OutIn,
                         get(weights, "in_proj.bias", {C}), C);
    // Conv1d stores the depthwise kernel [C, 1, 3]; the reference kernel takes it [3, C].
    const auto stored = get(weights, "short_filter.weight", {C, 1, 3});
    std::vector<double> taps(3 * C);
    for (uint64_t c = 0; c < C; ++c)
        for (uint64_t j = 0; j < 3; ++j) taps[j * C + c] = stored[c * 3 + j];
    const auto uc = depthwise_causal_conv(u, batch, length, C, taps, 3, get(weights, "short_filter.bias", {C}));

    // N + 1 chunks of D channels: gates x_0 .. x_{N-1}, then v.
    auto chunk = [&](uint64_t i) { return slice_columns(uc, rows, C, i * D, D); };
    const auto k = hyena_operator_filter(cfg, weights, length);
    const auto skip = get(weights, "filter_fn.bias", {F});
    std::vector<double> v = chunk(N);
    for (uint32_t o = 0; o + 1 < N; ++o) {
        v = mul(v, chunk(N - 1 - o));
        const auto k_o = order_chunk(cfg, k, length, o);
        const auto bias_o = order_chunk(cfg, skip, 1, o);
        auto conv = long_conv_fft(v, batch, length, D, k_o, length);
        for (std::size_t r = 0; r < rows; ++r)
            for (uint64_t d = 0; d < D; ++d) conv[r * D + d] += bias_o[d] * v[r * D + d];
        v = std::move(conv);
    }
    return dense(mul(v, chunk(0)), rows, D, get(weights, "out_proj.weight", {D, D}), WeightLayout::OutIn,
                 get(weights, "out_proj.bias", {D}), D);
}

}  // namespace hyenavk::ref
