// Double-precision CPU reference of the whole `striped_hyena` model (SPEC.md section 1), built from the
// per-kernel reference in reference.hpp. It is the oracle the GPU model is judged against.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "hyenavk/striped_hyena.hpp"
#include "ref/weights.hpp"

namespace hyenavk::ref {

// Weights (ref/weights.hpp) are keyed by SPEC's names; dense kernels are stored [in, out] (Axon), depthwise conv
// kernels [K, 1, C].

// The implicit filter h_k of Hyena block `block` (1-based, odd), k in 0..N-1: [Ls, H] with Ls = cfg.taps(),
// evaluated at pos[s] = s / max(Ls - 1, 1).
std::vector<double> striped_hyena_filter(const StripedHyenaConfig& cfg, const Weights& weights,
                                         uint32_t block, uint32_t k);

// x is [B, L, E]; returns the final LayerNorm's output [B, L, H] for every step (the model's output is step
// L - 1). Any L >= 1: each long convolution uses the first min(L, Ls) taps of its filter. A missing tensor or
// one with the wrong shape throws std::invalid_argument naming it and the expected shape.
std::vector<double> striped_hyena_forward(const StripedHyenaConfig& cfg, const Weights& weights,
                                          std::span<const double> x, uint32_t batch, uint32_t length);

// Every tensor the model has (input_projection only when E != H) with its shape, filled from a seeded
// generator: uniform in [-0.5, 0.5], LayerNorm gammas uniform in [0.8, 1.2].
Weights striped_hyena_random_weights(const StripedHyenaConfig& cfg, uint32_t seed);

}  // namespace hyenavk::ref
