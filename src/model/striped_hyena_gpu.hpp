// The `striped_hyena` forward on the device. Weights stay resident; the implicit filters are evaluated once
// when the model is loaded, their spectra once per (batch, length); the whole forward for a (batch, length)
// is recorded once as a plan and replayed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/context_impl.hpp"
#include "hyenavk/striped_hyena.hpp"
#include "model/architecture.hpp"
#include "model/host_weights.hpp"
#include "ops/view.hpp"

namespace hyenavk::model {

class StripedHyenaGpu final : public Architecture {
public:
    StripedHyenaGpu(detail::ContextImpl& ctx, const StripedHyenaConfig& config, const HostWeights& weights);
    ~StripedHyenaGpu() override;

    nlohmann::json config_json() const override;
    uint64_t parameter_count() const override { return config_.parameter_count(); }
    uint32_t input_features() const override { return config_.embed_dim; }
    uint32_t output_features() const override { return config_.output_size(); }
    uint32_t default_length() const override { return config_.window_size; }
    bool has_last_step_output() const override { return true; }

    // input is [batch, length, embed_dim]; returns [batch, hidden] (the last step) or [batch, length, hidden].
    std::vector<float> forward(std::span<const float> input, uint32_t batch, uint32_t length,
                               bool full_sequence) override;
    void validate_input(std::span<const float> input, uint32_t batch, uint32_t length) const override;
    uint64_t device_bytes(uint32_t batch, uint32_t length, bool full_sequence) const override {
        return weight_bytes_ + forward_bytes(config_, batch, length, full_sequence);
    }
    // Device memory a forward of this shape needs beyond the weights (activations, FFT workspace, spectra).
    static uint64_t forward_bytes(const StripedHyenaConfig& config, uint32_t batch, uint32_t length, bool full_sequence);

private:
    struct Forward;
    Forward& prepare(uint32_t batch, uint32_t length, bool full_sequence);
    ops::View weight(const std::string& name, uint32_t rows, uint32_t cols) const;
    const ops::View* bias(const std::string& name, ops::View& storage) const;
    void compute_filters();

    detail::ContextImpl& ctx_;
    StripedHyenaConfig config_;
    std::map<std::string, gpu::Allocation> weights_;
    uint64_t weight_bytes_ = 0;
    std::vector<gpu::Allocation> filters_;  // one [Ls, H] filter per (Hyena block, k), in block order
    std::map<std::tuple<uint32_t, uint32_t, bool>, std::unique_ptr<Forward>> forwards_;
};

}  // namespace hyenavk::model
