// Named parameters for the double-precision model references, and strict lookup by name and shape.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace hyenavk::ref {

// A named parameter: row-major values with their shape.
struct Tensor {
    std::vector<uint64_t> shape;
    std::vector<double> data;
};

// Parameters keyed by their safetensors names ("hyena_block_1_proj.kernel", "in_proj.weight", ...).
using Weights = std::map<std::string, Tensor>;

std::string shape_string(const std::vector<uint64_t>& shape);

// The values of tensor `name`, which must exist with exactly `shape`; otherwise std::invalid_argument that
// starts with `who` and names the tensor and the expected shape.
std::span<const double> tensor(const Weights& weights, const std::string& name, const std::vector<uint64_t>& shape,
                               const std::string& who);

}  // namespace hyenavk::ref
