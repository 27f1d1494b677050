// The `striped_hyena` forward on the device. Weights stay resident; the implicit filters are evaluated once
// when the model is loaded. The forward for a (batch, length) is planned against the context's memory
// budget (see ForwardLayout), recorded once and replayed.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/context_impl.hpp"
#include "hyenavk/model.hpp"
#include "hyenavk/striped_hyena.hpp"
#include "model/architecture.hpp"
#include "model/host_weights.hpp"
#include "model/tiled_tensor.hpp"
#include "ops/view.hpp"

namespace hyenavk::model {

// How one forward of a (batch, length) uses device memory. Long sequences are cut into tiles along time:
// the residual stream and the long convolutions' signal are kept whole (tile by tile), position-wise work
// (norms, short convolutions, dense layers, gates, FFNs) runs one tile at a time in scratch buffers that
// are reused by lifetime, and the FFT sees whole sequences for a group of channels at a time. Within the
// budget, the gates are kept (else recomputed from the stream) and filter spectra cached (else computed
// per call).
struct ForwardLayout {
    std::vector<ops::SequenceTile> tiles;
    uint32_t tile_rows = 0;       // rows of the largest tile
    uint32_t halo = 0;            // rows before a tile that its short convolutions read
    uint32_t group_channels = 0;  // channels per FFT pass
    bool store_gates = false;
    bool cache_spectra = false;
    bool separate_input = false;  // the input is wider than the stream and gets buffers of its own
    uint64_t stream_bytes = 0, signal_bytes = 0, gates_bytes = 0, input_bytes = 0, output_bytes = 0;
    uint64_t scratch_bytes = 0, spectra_bytes = 0;
    uint64_t total() const {
        return stream_bytes + signal_bytes + gates_bytes + input_bytes + output_bytes + scratch_bytes + spectra_bytes;
    }
};

class StripedHyenaGpu final : public Architecture {
public:
    // spectrum_cache_bytes: the most device memory one shape's cached filter spectra may take (0: no cap
    // beyond the budget).
    StripedHyenaGpu(detail::ContextImpl& ctx, const StripedHyenaConfig& config, const HostWeights& weights,
                    Precision precision, uint64_t spectrum_cache_bytes = 0);
    ~StripedHyenaGpu() override;

    // What loading a model of this config keeps on ctx's device (weights and filters), before reading it.
    static ResidentNeed resident_need(const detail::ContextImpl& ctx, const StripedHyenaConfig& config,
                                      Precision precision);

    nlohmann::json config_json() const override;
    uint64_t parameter_count() const override { return config_.parameter_count(); }
    uint32_t input_features() const override { return config_.embed_dim; }
    uint32_t output_features() const override { return config_.output_size(); }
    uint32_t default_length() const override { return config_.window_size; }
    bool has_last_step_output() const override { return true; }

    // Input [batch, length, embed_dim]; output [batch, hidden] (the last step) or [batch, length, hidden].
    std::shared_ptr<PreparedForward> prepare(uint32_t batch, uint32_t length, bool full_sequence) override;
    void validate_shape(uint32_t batch, uint32_t length) const override;
    detail::ContextImpl& context() const override { return ctx_; }
    uint64_t device_bytes(uint32_t batch, uint32_t length, bool full_sequence) const override;
    MemoryPlan memory_plan(uint32_t batch, uint32_t length, bool full_sequence) const override;

    // The plan a forward of this shape gets when `available` bytes are free for it. Throws OutOfMemory,
    // naming the need and the budget, where even the leanest plan does not fit.
    ForwardLayout layout(uint32_t batch, uint32_t length, bool full_sequence, uint64_t available) const;

    // Plan every later shape as if memory were short: gates recomputed, spectra computed per call. For tests
    // of those paths on small shapes.
    void force_lean_plans(bool lean) { lean_ = lean; }

private:
    friend class StripedHyenaStreamGpu;  // records its per-step plan from the same weights and filters
    struct Forward;
    uint64_t resident_bytes() const;
    ops::View weight(const std::string& name, uint32_t rows, uint32_t cols) const;
    const ops::View* bias(const std::string& name, ops::View& storage) const;
    void upload_weight(const std::string& name, std::span<const float> data, ops::ElementType element);
    void compute_filters();

    detail::ContextImpl& ctx_;
    StripedHyenaConfig config_;
    ops::ElementType element_;
    uint64_t spectrum_cache_limit_;
    std::map<std::string, std::pair<gpu::Allocation, ops::ElementType>> weights_;
    std::vector<ops::SequenceTile> filter_tiles_;  // [1 sequence, taps steps]
    std::vector<TiledTensor> filters_;             // one [taps, H] filter per (Hyena block, k), in block order
    uint64_t load_peak_ = 0;
    bool lean_ = false;
    using Shape = std::tuple<uint32_t, uint32_t, bool>;
    std::map<Shape, std::shared_ptr<Forward>> forwards_;
    static constexpr size_t kMaxCachedShapes = 4;
};

}  // namespace hyenavk::model
