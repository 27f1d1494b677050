// The pieces of the striped_hyena reference shared by the whole-sequence forward and the stream: named dense
// and norm layers and the feed-forward residual, applied to [rows, channels] arrays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ref/weights.hpp"

namespace hyenavk::ref::striped_hyena_layers {

std::string block_prefix(uint32_t block);  // "hyena_block_1", "gated_conv_block_2", ...
std::span<const double> get(const Weights& weights, const std::string& name, const std::vector<uint64_t>& shape);
std::vector<double> apply_dense(const Weights& w, const std::string& name, std::span<const double> x,
                                std::size_t rows, uint64_t in, uint64_t out);
std::vector<double> apply_norm(const Weights& w, const std::string& name, std::span<const double> x,
                               std::size_t rows, uint64_t channels);
// x + ffn(layernorm(x, n_ffn_norm)), ffn(a) = dense(silu(dense(a, gate)) * dense(a, up), down).
std::vector<double> ffn_residual(const Weights& w, const std::string& n, const std::vector<double>& x,
                                 std::size_t rows, uint64_t H);

}  // namespace hyenavk::ref::striped_hyena_layers
