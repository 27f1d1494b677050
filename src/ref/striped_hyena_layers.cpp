#include "ref/striped_hyena_layers.hpp"

#include "ref/reference.hpp"

namespace hyenavk::ref {

namespace striped_hyena_layers {

std::string block_prefix(uint32_t i) {
    return (i % 2 == 1 ? "hyena_block_" : "gated_conv_block_") + std::to_string(i);
}

// The tensor `name` with exactly `shape`; anything else throws naming both.
std::span<const double> get(const Weights& weights, const std::string& name, const std::vector<uint64_t>& shape) {
    return tensor(weights, name, shape, "hyenavk::ref::striped_hyena");
}

// The named dense layer applied to x [rows, in]; returns [rows, out].
std::vector<double> apply_dense(const Weights& w, const std::string& name, std::span<const double> x,
                                std::size_t rows, uint64_t in, uint64_t out) {
    const auto kernel = get(w, name + ".kernel", {in, out});
    const auto bias = get(w, name + ".bias", {out});
    return dense(x, rows, in, kernel, WeightLayout::InOut, bias, out);
}

std::vector<double> apply_norm(const Weights& w, const std::string& name, std::span<const double> x,
                               std::size_t rows, uint64_t channels) {
    const auto gamma = get(w, name + ".gamma", {channels});
    const auto beta = get(w, name + ".beta", {channels});
    return layer_norm(x, rows, channels, gamma, beta, 1e-5);
}

std::vector<double> ffn_residual(const Weights& w, const std::string& n, const std::vector<double>& x,
                                 std::size_t rows, uint64_t H) {
    const auto a = apply_norm(w, n + "_ffn_norm", x, rows, H);
    const auto gate = silu(apply_dense(w, n + "_ffn_gate", a, rows, H, 4 * H));
    const auto up = apply_dense(w, n + "_ffn_up", a, rows, H, 4 * H);
    return add(x, apply_dense(w, n + "_ffn_down", mul(gate, up), rows, 4 * H, H));
}

}  // namespace striped_hyena_layers

}  // namespace hyenavk::ref
