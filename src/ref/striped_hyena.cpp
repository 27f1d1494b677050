#include "ref/striped_hyena.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "ref/reference.hpp"
#include "ref/striped_hyena_layers.hpp"

namespace hyenavk::ref {


namespace {

using namespace striped_hyena_layers;

using Shape = std::vector<uint64_t>;

[[noreturn]] void fail(const std::string& what) {
    throw std::invalid_argument("hyenavk::ref::striped_hyena: " + what);
}

void check_config(const StripedHyenaConfig& cfg) {
    if (cfg.embed_dim == 0) fail("embed_dim must be >= 1");
    if (cfg.hidden_size == 0) fail("hidden_size must be >= 1");
    if (cfg.order == 0) fail("order must be >= 1");
    if (cfg.filter_size == 0) fail("filter_size must be >= 1");
    if (cfg.conv_kernel_size == 0) fail("conv_kernel_size must be >= 1");
    if (cfg.taps() == 0) fail("seq_len (or window_size) must be >= 1");
}

// Every tensor of the model with its shape, in a fixed order.
std::vector<std::pair<std::string, Shape>> tensor_specs(const StripedHyenaConfig& cfg) {
    const uint64_t E = cfg.embed_dim, H = cfg.hidden_size, N = cfg.order, F = cfg.filter_size,
                   K = cfg.conv_kernel_size;
    std::vector<std::pair<std::string, Shape>> specs;
    auto dense = [&](const std::string& n, uint64_t in, uint64_t out) {
        specs.emplace_back(n + ".kernel", Shape{in, out});
        specs.emplace_back(n + ".bias", Shape{out});
    };
    auto norm = [&](const std::string& n) {
        specs.emplace_back(n + ".gamma", Shape{H});
        specs.emplace_back(n + ".beta", Shape{H});
    };
    auto ffn = [&](const std::string& n) {
        dense(n + "_ffn_gate", H, 4 * H);
        dense(n + "_ffn_up", H, 4 * H);
        dense(n + "_ffn_down", 4 * H, H);
    };
    if (E != H) dense("input_projection", E, H);
    for (uint32_t i = 1; i <= cfg.num_layers; ++i) {
        const std::string n = block_prefix(i);
        norm(n + "_norm");
        norm(n + "_ffn_norm");
        if (i % 2 == 1) {
            specs.emplace_back(n + "_short_dw_conv.kernel", Shape{3, 1, H});
            specs.emplace_back(n + "_short_dw_conv.bias", Shape{H});
            dense(n + "_proj", H, (N + 1) * H);
            for (uint64_t k = 0; k < N; ++k) {
                const std::string f = n + "_filter" + std::to_string(k);
                dense(f + "_dense1", 1, F);
                dense(f + "_dense2", F, F);
                dense(f + "_dense3", F, H);
            }
            dense(n + "_out_proj", H, H);
        } else {
            norm(n + "_dw_conv_norm");
            dense(n + "_proj", H, 2 * H);
            specs.emplace_back(n + "_dw_conv_dw.kernel", Shape{K, 1, H});
            specs.emplace_back(n + "_dw_conv_dw.bias", Shape{H});
            dense(n + "_dw_conv_pw", H, H);
            dense(n + "_out_proj", H, H);
        }
        ffn(n);
    }
    norm("final_norm");
    return specs;
}

void sin_in_place(std::vector<double>& v) {
    for (double& e : v) e = std::sin(e);
}

std::vector<double> hyena_block(const StripedHyenaConfig& cfg, const Weights& w, uint32_t i,
                                const std::vector<double>& x, std::size_t batch, std::size_t length) {
    const uint64_t H = cfg.hidden_size, N = cfg.order;
    const std::size_t rows = batch * length;
    const std::string n = block_prefix(i);

    auto a = apply_norm(w, n + "_norm", x, rows, H);
    a = depthwise_causal_conv(a, batch, length, H, get(w, n + "_short_dw_conv.kernel", {3, 1, H}), 3,
                              get(w, n + "_short_dw_conv.bias", {H}));
    const auto p = apply_dense(w, n + "_proj", a, rows, H, (N + 1) * H);

    auto y = slice_columns(p, rows, (N + 1) * H, 0, H);
    const std::size_t taps = std::min<std::size_t>(length, cfg.taps());
    for (uint32_t k = 0; k < N; ++k) {
        const auto h = striped_hyena_filter(cfg, w, i, k);
        y = long_conv_fft(y, batch, length, H, std::span<const double>(h).first(taps * H), taps);
        y = gate_slice(y, rows, H, p, (N + 1) * H, (k + 1) * H);
    }
    const auto out = add(x, apply_dense(w, n + "_out_proj", y, rows, H, H));
    return ffn_residual(w, n, out, rows, H);
}

std::vector<double> gated_conv_block(const StripedHyenaConfig& cfg, const Weights& w, uint32_t i,
                                     const std::vector<double>& x, std::size_t batch, std::size_t length) {
    const uint64_t H = cfg.hidden_size, K = cfg.conv_kernel_size;
    const std::size_t rows = batch * length;
    const std::string n = block_prefix(i);

    const auto a = apply_norm(w, n + "_norm", x, rows, H);
    const auto p = apply_dense(w, n + "_proj", a, rows, H, 2 * H);
    auto c = depthwise_causal_conv(slice_columns(p, rows, 2 * H, 0, H), batch, length, H,
                                   get(w, n + "_dw_conv_dw.kernel", {K, 1, H}), K,
                                   get(w, n + "_dw_conv_dw.bias", {H}));
    c = apply_dense(w, n + "_dw_conv_pw", silu(apply_norm(w, n + "_dw_conv_norm", c, rows, H)), rows, H, H);
    const auto gated = mul(c, sigmoid(slice_columns(p, rows, 2 * H, H, H)));
    const auto out = add(x, apply_dense(w, n + "_out_proj", gated, rows, H, H));
    return ffn_residual(w, n, out, rows, H);
}

// Uniform in [0, 1) from the top 53 bits, the same on every platform.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<double> striped_hyena_filter(const StripedHyenaConfig& cfg, const Weights& weights,
                                         uint32_t block, uint32_t k) {
    check_config(cfg);
    if (block == 0 || block > cfg.num_layers || block % 2 == 0)
        fail("block " + std::to_string(block) + " is not a Hyena block (odd, 1.." +
             std::to_string(cfg.num_layers) + ")");
    if (k >= cfg.order) fail("filter " + std::to_string(k) + " out of range for order " + std::to_string(cfg.order));

    const uint64_t Ls = cfg.taps(), F = cfg.filter_size, H = cfg.hidden_size;
    const std::string f = block_prefix(block) + "_filter" + std::to_string(k);

    std::vector<double> pos(Ls);
    const double denom = static_cast<double>(std::max<uint64_t>(Ls - 1, 1));
    for (uint64_t s = 0; s < Ls; ++s) pos[s] = static_cast<double>(s) / denom;

    auto h = apply_dense(weights, f + "_dense1", pos, Ls, 1, F);
    sin_in_place(h);
    h = apply_dense(weights, f + "_dense2", h, Ls, F, F);
    sin_in_place(h);
    return apply_dense(weights, f + "_dense3", h, Ls, F, H);
}

std::vector<double> striped_hyena_forward(const StripedHyenaConfig& cfg, const Weights& weights,
                                          std::span<const double> x, uint32_t batch, uint32_t length) {
    check_config(cfg);
    if (length == 0) fail("length must be >= 1");
    const uint64_t E = cfg.embed_dim, H = cfg.hidden_size;
    const std::size_t rows = static_cast<std::size_t>(batch) * length;
    if (x.size() != rows * E)
        fail("input has " + std::to_string(x.size()) + " values, expected [B, L, E] = " +
             shape_string({batch, length, E}));

    std::vector<double> h = cfg.has_input_projection()
                                ? apply_dense(weights, "input_projection", x, rows, E, H)
                                : std::vector<double>(x.begin(), x.end());
    for (uint32_t i = 1; i <= cfg.num_layers; ++i)
        h = (i % 2 == 1) ? hyena_block(cfg, weights, i, h, batch, length)
                         : gated_conv_block(cfg, weights, i, h, batch, length);
    return apply_norm(weights, "final_norm", h, rows, H);
}

Weights striped_hyena_random_weights(const StripedHyenaConfig& cfg, uint32_t seed) {
    check_config(cfg);
    std::mt19937_64 rng(seed);
    Weights weights;
    for (auto& [name, shape] : tensor_specs(cfg)) {
        uint64_t count = 1;
        for (uint64_t d : shape) count *= d;
        Tensor t{shape, std::vector<double>(count)};
        const bool gamma = ends_with(name, ".gamma");
        for (double& v : t.data) {
            const double u = uniform01(rng) - 0.5;
            v = gamma ? 1.0 + 0.4 * u : u;
        }
        weights.emplace(name, std::move(t));
    }
    return weights;
}

}  // namespace hyenavk::ref
