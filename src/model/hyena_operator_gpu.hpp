// The `hyena_operator` forward on the device (SPEC.md section 2): input projection, short conv, then
// N - 1 rounds of gate, long convolution with an implicit filter and skip term, and the output projection.
// The implicit filter depends on the length, so it and its spectra are evaluated once per (batch, length),
// when that length's plan is built.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/context_impl.hpp"
#include "hyenavk/hyena_operator.hpp"
#include "model/architecture.hpp"
#include "model/host_weights.hpp"
#include "ops/view.hpp"

namespace hyenavk::model {

class HyenaOperatorGpu final : public Architecture {
public:
    HyenaOperatorGpu(detail::ContextImpl& ctx, const HyenaOperatorConfig& config, const HostWeights& weights);
    ~HyenaOperatorGpu() override;

    nlohmann::json config_json() const override;
    uint64_t parameter_count() const override { return config_.parameter_count(); }
    uint32_t input_features() const override { return config_.d_model; }
    uint32_t output_features() const override { return config_.d_model; }
    uint32_t default_length() const override { return config_.l_max; }
    bool has_last_step_output() const override { return false; }

    void validate_input(std::span<const float> input, uint32_t batch, uint32_t length) const override;
    // Always the whole sequence, [batch, length, d_model]; full_sequence is ignored.
    std::vector<float> forward(std::span<const float> input, uint32_t batch, uint32_t length,
                               bool full_sequence) override;
    uint64_t device_bytes(uint32_t batch, uint32_t length, bool full_sequence) const override;

private:
    struct Forward;
    Forward& prepare(uint32_t batch, uint32_t length);
    ops::View weight(const std::string& name, uint32_t rows, uint32_t cols) const;
    // Chunk o of the D(N-1) filter channels (or of filter_fn.bias) as a [rows, D] view, per the filter layout.
    ops::View filter_chunk(const gpu::Allocation& buffer, uint32_t rows, uint32_t row_stride, uint32_t o) const;

    detail::ContextImpl& ctx_;
    HyenaOperatorConfig config_;
    std::map<std::string, gpu::Allocation> weights_;
    uint64_t weight_bytes_ = 0;
    std::map<std::pair<uint32_t, uint32_t>, std::unique_ptr<Forward>> forwards_;
};

}  // namespace hyenavk::model
