// What every model architecture on the device offers the public Model: prepared forwards over
// [B, L, features] inputs and the facts callers need about shapes and memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
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

    // Throws InvalidArgument unless batch, length >= 1, the shape's inputs and outputs can be counted in 64
    // bits (check_shape) and the length is supported.
    virtual void validate_shape(uint32_t batch, uint32_t length) const = 0;
    // The recorded forward of a shape, built on first use and kept (a few shapes, the least recently used
    // dropped when memory or the count runs short). The caller serialises calls (Model's build lock).
    virtual std::shared_ptr<PreparedForward> prepare(uint32_t batch, uint32_t length, bool full_sequence) = 0;
    virtual detail::ContextImpl& context() const = 0;

    // A whole forward of host values, waited for: prepare, submit, wait.
    std::vector<float> forward(std::span<const float> input, uint32_t batch, uint32_t length, bool full_sequence,
                               bool check_finite = true);
    // Device memory the weights and one forward of this shape occupy, after validate_shape.
    virtual uint64_t device_bytes(uint32_t batch, uint32_t length, bool full_sequence) const = 0;
    // How that memory is used; architectures without a tiled plan report the whole sequence as one tile.
    virtual MemoryPlan memory_plan(uint32_t batch, uint32_t length, bool full_sequence) const = 0;
};

// The element type weights and activations are stored in at `precision`.
inline ops::ElementType element_of(Precision precision) {
    return precision == Precision::Fp16 ? ops::ElementType::F16 : ops::ElementType::F32;
}

// What a model keeps on the device from its load on, known from its config before its file is read. Device
// sizes are what the memory pools reserve for each buffer; blocks may round up a little more.
struct ResidentNeed {
    uint64_t weights = 0;      // the weights as stored on the device (in the model's precision, or fp32)
    uint64_t filters = 0;      // what loading computes from them (striped_hyena's filters and their scratch)
    std::string filters_what;  // those, for messages: "the filters of seq_len 1048576 (2 x [1048576, 8])"
    uint64_t host_bytes = 0;   // the weights read into host memory as fp32 while loading
};

// Throws OutOfMemory, naming `path`, what needs the memory and the limit, where the weights (or the filters
// with them) would not fit what the context's budget leaves, or the weights' host copy the host's memory.
void check_resident_need(const detail::ContextImpl& ctx, const ResidentNeed& need, const std::string& path);

// What every validate_shape checks first: batch and length >= 1, and [batch, length, features] of the input
// and of a whole-sequence output countable in bytes in 64 bits (later sizes are products of these).
void check_shape(const Architecture& net, uint32_t batch, uint32_t length);

// The architecture behind a public Model (for the stream sets and tools built on it).
Architecture& architecture_of(Model& model);
// A public Model's prepared forward of a shape, built under its build lock where missing.
std::shared_ptr<PreparedForward> prepared_forward_of(Model& model, uint32_t batch, uint32_t length, bool full);
// Whether the model was loaded to refuse NaN and Inf in its inputs (LoadOptions::check_finite).
bool checks_finite_inputs(const Model& model);

}  // namespace hyenavk::model
