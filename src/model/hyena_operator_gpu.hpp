// The `hyena_operator` forward on the device (SPEC.md section 2): input projection, short conv, then
// N - 1 rounds of gate, long convolution with an implicit filter and skip term, and the output projection.
// The implicit filter depends on the length, so it and its spectra are evaluated once per (batch, length),
// when that shape's plan is built.
//
// Weights and activations are stored in the model's precision (fp16 or fp32); the implicit filter's MLP, the
// filter itself and its spectra stay fp32. Every buffer of a forward is a dedicated allocation, so the memory a
// shape needs is known before it is planned (OperatorLayout) and checked against the context's budget.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/context_impl.hpp"
#include "hyenavk/hyena_operator.hpp"
#include "hyenavk/model.hpp"
#include "model/architecture.hpp"
#include "model/host_weights.hpp"
#include "ops/view.hpp"

namespace hyenavk::model {

// How one forward of a (batch, length) uses device memory, in bytes reserved. Building the plan holds the FFT
// workspace, the cached filter spectra and the filter (with its MLP scratch) while the spectra are made; the
// filter is released before the activations are allocated, so the two never coexist.
struct OperatorLayout {
    uint32_t group_channels = 0;  // channels per FFT pass
    uint32_t groups = 0;          // d_model / group_channels
    uint64_t workspace_bytes = 0;
    uint64_t spectra_bytes = 0;     // (N - 1) x groups spectra
    uint64_t filter_bytes = 0;      // the fp32 filter [L, D(N-1)] and two [L, filter_order] MLP buffers
    uint64_t activation_bytes = 0;  // N + 3 tensors of [B * L, D]
    uint64_t total() const {
        return workspace_bytes + spectra_bytes + (filter_bytes > activation_bytes ? filter_bytes : activation_bytes);
    }
};

class HyenaOperatorGpu final : public Architecture {
public:
    // Throws Unsupported for fp16 on a device without 16-bit storage buffers.
    HyenaOperatorGpu(detail::ContextImpl& ctx, const HyenaOperatorConfig& config, const HostWeights& weights,
                     Precision precision);
    ~HyenaOperatorGpu() override;

    // What loading a model of this config keeps on ctx's device (its weights), before reading it.
    static ResidentNeed resident_need(const detail::ContextImpl& ctx, const HyenaOperatorConfig& config,
                                      Precision precision);

    nlohmann::json config_json() const override;
    uint64_t parameter_count() const override { return config_.parameter_count(); }
    uint32_t input_features() const override { return config_.d_model; }
    uint32_t output_features() const override { return config_.d_model; }
    uint32_t default_length() const override { return config_.l_max; }
    bool has_last_step_output() const override { return false; }

    void validate_shape(uint32_t batch, uint32_t length) const override;
    // Always the whole sequence, [batch, length, d_model]; full_sequence is ignored.
    std::shared_ptr<PreparedForward> prepare(uint32_t batch, uint32_t length, bool full_sequence) override;
    detail::ContextImpl& context() const override { return ctx_; }
    uint64_t device_bytes(uint32_t batch, uint32_t length, bool full_sequence) const override;
    MemoryPlan memory_plan(uint32_t batch, uint32_t length, bool full_sequence) const override;

    // The plan a forward of this shape gets when `available` bytes are free for it: the widest channel group
    // whose FFT workspace fits one binding (and 256 MiB) and the whole forward fits `available`. Throws
    // DeviceLimit where a whole tensor exceeds the storage-buffer range, OutOfMemory (naming the need and the
    // budget) where even one channel per FFT pass does not fit.
    OperatorLayout layout(uint32_t batch, uint32_t length, uint64_t available) const;

    // Shapes whose plans are kept (at most kMaxCachedShapes, the least recently used dropped first).
    size_t cached_shapes() const { return forwards_.size(); }
    static constexpr size_t kMaxCachedShapes = 4;

private:
    struct Forward;
    OperatorLayout layout_for(uint32_t batch, uint32_t length, uint32_t group_channels) const;
    uint64_t resident_bytes() const;
    void upload_weight(const std::string& name, std::span<const float> data, ops::ElementType element);
    ops::View weight(const std::string& name, uint32_t rows, uint32_t cols) const;
    // Chunk o of the D(N-1) filter channels (or of filter_fn.bias) as a [rows, D] view, per the filter layout.
    ops::View filter_chunk(const ops::View& whole, uint32_t rows, uint32_t row_stride, uint32_t o) const;
    void compute_spectra(Forward& fw, uint32_t length);

    detail::ContextImpl& ctx_;
    HyenaOperatorConfig config_;
    ops::ElementType element_;
    std::map<std::string, std::pair<gpu::Allocation, ops::ElementType>> weights_;
    using Shape = std::pair<uint32_t, uint32_t>;
    std::map<Shape, std::shared_ptr<Forward>> forwards_;
};

}  // namespace hyenavk::model
