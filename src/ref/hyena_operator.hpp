// Double-precision CPU reference of the `hyena_operator` architecture (SPEC.md section 2, safari's
// HyenaOperator), built from the per-kernel reference in reference.hpp. It is the oracle the GPU model is
// judged against.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hyenavk/hyena_operator.hpp"
#include "ref/striped_hyena.hpp"

namespace hyenavk::ref {

// `weights` holds safari's state dict under its own keys and PyTorch shapes (Linear weights [out, in],
// short_filter.weight [(N+1)D, 1, 3], ...). A missing tensor or one with the wrong shape throws
// std::invalid_argument naming it and the expected shape, as does a length of 0 or above l_max.

// The implicit filter for `length` steps: [L, D(N-1)], after the decay window (when modulate) and the L1
// normalisation over channels (when normalized). Channels are in the stored order; cfg.filter_layout says
// which of them belong to which order.
std::vector<double> hyena_operator_filter(const HyenaOperatorConfig& cfg, const Weights& weights, uint32_t length);

// x is [B, L, D]; returns the operator's output [B, L, D].
std::vector<double> hyena_operator_forward(const HyenaOperatorConfig& cfg, const Weights& weights,
                                           std::span<const double> x, uint32_t batch, uint32_t length);

}  // namespace hyenavk::ref
