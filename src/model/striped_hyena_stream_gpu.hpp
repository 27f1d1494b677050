// Incremental streaming of `striped_hyena` on the device: a set of independent streams (one per agent, say)
// advances one frame per push, and each push returns, per stream, the last step of a whole-sequence forward
// over every frame that stream was given. The causal convolutions read rings of their past inputs
// (ops::ring_causal_conv), so a push costs one row of position-wise work per stream plus O(taps) per
// convolution, however long the history. The double-precision oracle is ref::StripedHyenaStream.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "gpu/memory.hpp"
#include "gpu/recorder.hpp"
#include "model/striped_hyena_gpu.hpp"

namespace hyenavk::model {

class StripedHyenaStreamGpu {
public:
    // The model must outlive the stream set and store fp32 (Unsupported otherwise). window 0: incremental,
    // each output over every frame of its stream; window W: each output over the stream's last W frames (the
    // incremental output while a stream has at most W, a forward of the model's own (streams, W) plan over a
    // ring of the last W frames after that). `prepare` builds that plan under the model's build lock.
    StripedHyenaStreamGpu(StripedHyenaGpu& model, uint32_t streams, uint32_t window = 0,
                          const std::function<std::shared_ptr<PreparedForward>(uint32_t, uint32_t)>& prepare = {});

    // frames is [streams, embed_dim]; returns [streams, hidden]. Every stream advances one step.
    std::vector<float> push(std::span<const float> frames);
    // Every stream, or one, starts over.
    void reset();
    void reset(uint32_t stream);
    uint64_t steps(uint32_t stream) const;
    uint32_t streams() const { return streams_; }
    uint32_t window() const { return window_; }
    uint32_t input_features() const;

    // One stream's state (its step count and the rings of its convolutions) as bytes, and back into any
    // stream of a set made from the same model: a save game, a rewind, an agent moved between sets.
    std::vector<uint8_t> save(uint32_t stream) const;
    void restore(uint32_t stream, std::span<const uint8_t> state);

private:
    // Throws DeviceLimit, OutOfMemory or Unsupported, naming the set's size, where a buffer of the set would
    // not fit the device or all of them the budget: before anything is allocated, on the device or the host.
    void check_sizes() const;
    void record();
    void record_window(const std::function<std::shared_ptr<PreparedForward>(uint32_t, uint32_t)>& prepare);
    std::vector<float> windowed_outputs();
    void check_stream(uint32_t stream, const char* what) const;
    struct Ring {
        gpu::Allocation rows;  // [streams * taps, hidden]
        uint32_t taps = 0;
    };

    StripedHyenaGpu& model_;
    detail::ContextImpl& ctx_;
    uint32_t streams_;
    gpu::Allocation input_, output_, x_, a_, t_, p_, y_, u_, steps_;
    std::vector<Ring> rings_;  // per convolution, in the order the blocks run them
    gpu::Plan plan_;
    std::vector<uint32_t> steps_taken_;  // per stream: the steps before the next push
    // Windowed mode: the last W frames of each stream ([streams * W, E], stream s at rows s*W + step % W), the
    // chronological order of each window for the gather, and the model's (streams, W) forward it feeds.
    uint32_t window_ = 0;
    gpu::Allocation frames_ring_, window_rows_;
    gpu::Plan gather_plan_;
    std::shared_ptr<PreparedForward> window_forward_;
};

}  // namespace hyenavk::model
