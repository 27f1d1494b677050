#include "model/hyena_operator_tensors.hpp"

#include <cmath>
#include <map>
#include <numbers>
#include <random>
#include <string>
#include <utility>

namespace hyenavk::model {
namespace {

std::string mlp_layer(uint64_t index) { return "filter_fn.implicit_filter." + std::to_string(index); }

// torch.linspace: the first half counts up from start and the second half down from end, so both ends are
// exact.
double linspace(double start, double end, uint64_t steps, uint64_t i) {
    if (steps == 1) return start;
    const double step = (end - start) / double(steps - 1);
    return i < steps / 2 ? start + double(i) * step : end - double(steps - 1 - i) * step;
}

// Our own mappings from the generator's bits, so a seed gives the same model with every standard library.
class Random {
public:
    explicit Random(uint64_t seed) : rng_(seed) {}
    double uniform01() { return double(rng_() >> 11) * 0x1.0p-53; }
    double uniform(double limit) { return (2 * uniform01() - 1) * limit; }
    double normal() {  // Box-Muller; 1 - u keeps the logarithm finite
        const double u = 1.0 - uniform01(), v = uniform01();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
    }

private:
    std::mt19937_64 rng_;
};

}  // namespace

std::vector<TensorSpec> hyena_operator_tensors(const HyenaOperatorConfig& c) {
    c.validate();
    const uint64_t D = c.d_model, N = c.order, W = c.filter_order, E = c.emb_dim, F = c.filter_channels(),
                   L = c.l_max, M = c.num_inner_mlps;
    std::vector<TensorSpec> t;
    auto linear = [&t](const std::string& n, uint64_t in, uint64_t out) {
        t.push_back({n + ".weight", {out, in}, Init::GlorotUniform});
        t.push_back({n + ".bias", {out}, Init::Zeros});
    };
    linear("in_proj", D, (N + 1) * D);
    linear("out_proj", D, D);
    t.push_back({"short_filter.weight", {(N + 1) * D, 1, 3}, Init::GlorotUniform});
    t.push_back({"short_filter.bias", {(N + 1) * D}, Init::Zeros});
    t.push_back({"filter_fn.bias", {F}, Init::Zeros});
    t.push_back({"filter_fn.pos_emb.z", {1, L, E}, Init::Zeros});
    t.push_back({"filter_fn.pos_emb.t", {1, L, 1}, Init::Zeros});
    // nn.Sequential(Linear, Sin, [Linear, Sin] * M, Linear without bias): the one shared Sin module appears
    // once per use in the state dict.
    for (uint64_t j = 0; j <= M; ++j) {
        linear(mlp_layer(2 * j), j == 0 ? E : W, W);
        t.push_back({mlp_layer(2 * j + 1) + ".freq", {1, W}, Init::Zeros});
    }
    t.push_back({mlp_layer(2 * M + 2) + ".weight", {F, W}, Init::GlorotUniform});
    t.push_back({"filter_fn.modulation.deltas", {1, 1, F}, Init::Zeros});
    return t;
}

HostWeights hyena_operator_random_weights(const HyenaOperatorConfig& c, uint64_t seed) {
    const std::vector<TensorSpec> specs = hyena_operator_tensors(c);
    const uint64_t L = c.l_max, E = c.emb_dim, F = c.filter_channels(), bands = (E - 1) / 2;
    Random rng(seed);
    std::map<std::string, HostTensor> tensors;
    for (const TensorSpec& spec : specs)
        tensors[spec.name] = HostTensor{spec.shape, std::vector<float>(spec.elements())};
    auto fill = [&tensors](const std::string& name, auto value) {
        for (float& v : tensors.at(name).data) v = static_cast<float>(value());
    };
    // PyTorch's default for Linear and Conv1d: weight and bias uniform in +-1/sqrt(fan_in), where a weight
    // [out, in, k...] has fan_in = in * k....
    auto default_init = [&](const std::string& layer, bool bias) {
        const auto& shape = tensors.at(layer + ".weight").shape;
        double fan_in = 1;
        for (size_t i = 1; i < shape.size(); ++i) fan_in *= double(shape[i]);
        const double limit = 1.0 / std::sqrt(fan_in);
        fill(layer + ".weight", [&] { return rng.uniform(limit); });
        if (bias) fill(layer + ".bias", [&] { return rng.uniform(limit); });
    };
    default_init("in_proj", true);
    default_init("out_proj", true);
    default_init("short_filter", true);
    fill("filter_fn.bias", [&] { return rng.normal(); });
    for (uint64_t j = 0; j <= c.num_inner_mlps; ++j) {
        default_init(mlp_layer(2 * j), true);
        fill(mlp_layer(2 * j + 1) + ".freq", [&] { return c.w; });
    }
    default_init(mlp_layer(2 * uint64_t(c.num_inner_mlps) + 2), false);

    // safari's PositionalEmbedding: t = linspace(0, 1, l_max); z = [t, Re, Im] of exp(-i f w) with
    // w_s = 2 pi s / l_max and f = linspace(1e-4, bands - 1, bands), i.e. [t, cos(f w), -sin(f w)].
    auto& z = tensors.at("filter_fn.pos_emb.z").data;
    auto& t = tensors.at("filter_fn.pos_emb.t").data;
    for (uint64_t s = 0; s < L; ++s) {
        const double ts = linspace(0.0, 1.0, L, s);
        const double ws = 2.0 * std::numbers::pi * double(s) / double(L);
        t[s] = static_cast<float>(ts);
        z[s * E] = static_cast<float>(ts);
        for (uint64_t b = 0; b < bands; ++b) {
            const double fw = linspace(1e-4, double(bands) - 1.0, bands, b) * ws;
            z[s * E + 1 + b] = static_cast<float>(std::cos(fw));
            z[s * E + 1 + bands + b] = static_cast<float>(-std::sin(fw));
        }
    }
    // ExponentialModulation: decay rates from ln(target)/slow_decay_pct to ln(target)/fast_decay_pct.
    auto& deltas = tensors.at("filter_fn.modulation.deltas").data;
    const double min_decay = std::log(c.target) / c.slow_decay_pct, max_decay = std::log(c.target) / c.fast_decay_pct;
    for (uint64_t i = 0; i < F; ++i) deltas[i] = static_cast<float>(linspace(min_decay, max_decay, F, i));
    return HostWeights::from_tensors(std::move(tensors));
}

}  // namespace hyenavk::model
