// A model's weights in host memory as fp32, checked strictly against the tensors its architecture expects.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/striped_hyena_tensors.hpp"

namespace hyenavk::io {
class SafetensorsFile;
}

namespace hyenavk::model {

struct HostTensor {
    std::vector<uint64_t> shape;
    std::vector<float> data;
};

class HostWeights {
public:
    // Every expected tensor must be present with its exact shape and no other tensor may be: the error names
    // the first missing, unexpected or misshapen tensor and the expected shape. With check_finite, a NaN or
    // Inf is an error that gives the tensor and the position of the first one.
    static HostWeights from_file(const io::SafetensorsFile& file, const std::vector<TensorSpec>& expected,
                                 bool check_finite);
    // Axon's initialisation (glorot_uniform for kernels and LayerNorm gamma, zeros for biases and beta).
    static HostWeights random(const std::vector<TensorSpec>& specs, uint64_t seed);
    // Takes the tensors as they are, for architectures that build their own initial weights.
    static HostWeights from_tensors(std::map<std::string, HostTensor> tensors);

    const HostTensor& at(const std::string& name) const;
    const std::map<std::string, HostTensor>& all() const { return tensors_; }

private:
    std::map<std::string, HostTensor> tensors_;
};

std::string shape_string(const std::vector<uint64_t>& shape);

}  // namespace hyenavk::model
