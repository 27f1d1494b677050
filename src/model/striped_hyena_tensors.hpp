// The tensors a `striped_hyena` model holds (SPEC.md section 1): names, shapes and how Axon initialises them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hyenavk/striped_hyena.hpp"

namespace hyenavk::model {

enum class Init { GlorotUniform, Zeros };

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> shape;
    Init init;
    uint64_t elements() const {
        uint64_t n = 1;
        for (uint64_t d : shape) n *= d;
        return n;
    }
};

std::vector<TensorSpec> striped_hyena_tensors(const StripedHyenaConfig& config);

// 1-based block index -> tensor-name prefix ("hyena_block_3" or "gated_conv_block_2").
std::string block_prefix(uint32_t block);
inline bool is_hyena_block(uint32_t block) { return block % 2 == 1; }

}  // namespace hyenavk::model
