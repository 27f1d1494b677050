// The tensors a `hyena_operator` model holds (SPEC.md section 2): safari's state-dict keys with their PyTorch
// shapes, and a seeded model initialised the way safari initialises one.
#pragma once

#include <cstdint>
#include <vector>

#include "hyenavk/hyena_operator.hpp"
#include "model/host_weights.hpp"
#include "model/striped_hyena_tensors.hpp"

namespace hyenavk::model {

// Every state-dict key in safari's order. The specs' `init` only marks weight matrices (GlorotUniform) apart
// from the rest: HostWeights::random cannot build this model (its positional tensors, Sin frequencies and
// decay rates are not random), so use hyena_operator_random_weights.
std::vector<TensorSpec> hyena_operator_tensors(const HyenaOperatorConfig& config);

// safari's initialisation from a seeded generator: Linear and Conv1d weights and biases uniform in
// +-1/sqrt(fan_in) (PyTorch's default), filter_fn.bias standard normal, and the positional embedding, Sin
// frequencies and decay rates computed from the config as safari computes them.
HostWeights hyena_operator_random_weights(const HyenaOperatorConfig& config, uint64_t seed);

}  // namespace hyenavk::model
