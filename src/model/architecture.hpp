// What every model architecture on the device offers the public Model: a forward over [B, L, features]
// inputs and the facts callers need about shapes and memory.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "hyenavk/model.hpp"

namespace hyenavk::model {

class Architecture {
public:
    virtual ~Architecture() = default;

    virtual nlohmann::json config_json() const = 0;
    virtual uint64_t parameter_count() const = 0;
    virtual uint32_t input_features() const = 0;
    virtual uint32_t output_features() const = 0;
    virtual uint32_t default_length() const = 0;
    // False where the architecture always returns the whole sequence (hyena_operator).
    virtual bool has_last_step_output() const = 0;

    // Throws InvalidArgument unless batch, length >= 1, the length is supported and input holds
    // batch * length * input_features() values.
    virtual void validate_input(std::span<const float> input, uint32_t batch, uint32_t length) const = 0;
    virtual std::vector<float> forward(std::span<const float> input, uint32_t batch, uint32_t length,
                                       bool full_sequence) = 0;
    // Device memory the weights and one forward of this shape occupy.
    virtual uint64_t device_bytes(uint32_t batch, uint32_t length, bool full_sequence) const = 0;
    // How that memory is used; architectures without a tiled plan report the whole sequence as one tile.
    virtual MemoryPlan memory_plan(uint32_t batch, uint32_t length, bool full_sequence) const {
        MemoryPlan plan;
        plan.total_bytes = device_bytes(batch, length, full_sequence);
        plan.tile_rows = batch * length;
        return plan;
    }
};

}  // namespace hyenavk::model
