// What every model architecture on the device offers the public Model: prepared forwards over
// [B, L, features] inputs and the facts callers need about shapes and memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/context_impl.hpp"
#include "hyenavk/model.hpp"
#include "model/prepared_forward.hpp"

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

    // Throws InvalidArgument unless batch, length >= 1 and the length is supported.
    virtual void validate_shape(uint32_t batch, uint32_t length) const = 0;
    // The recorded forward of a shape, built on first use and kept (a few shapes, the least recently used
    // dropped when memory or the count runs short). The caller serialises calls (Model's build lock).
    virtual std::shared_ptr<PreparedForward> prepare(uint32_t batch, uint32_t length, bool full_sequence) = 0;
    virtual detail::ContextImpl& context() const = 0;

    // A whole forward of host values, waited for: prepare, submit, wait.
    std::vector<float> forward(std::span<const float> input, uint32_t batch, uint32_t length, bool full_sequence,
                               bool check_finite = true);
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

// The architecture behind a public Model (for the stream sets and tools built on it).
Architecture& architecture_of(Model& model);
// A public Model's prepared forward of a shape, built under its build lock where missing.
std::shared_ptr<PreparedForward> prepared_forward_of(Model& model, uint32_t batch, uint32_t length, bool full);
// Whether the model was loaded to refuse NaN and Inf in its inputs (LoadOptions::check_finite).
bool checks_finite_inputs(const Model& model);

}  // namespace hyenavk::model
