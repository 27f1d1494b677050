// Incremental streaming of `striped_hyena` on the device: a set of independent streams (one per agent, say)
// advances one frame per push, and each push returns, per stream, the last step of a whole-sequence forward
// over every frame that stream was given. The causal convolutions read rings of their past inputs
// (ops::ring_causal_conv), so a push costs one row of position-wise work per stream plus O(taps) per
// convolution, however long the history. The double-precision oracle is ref::StripedHyenaStream.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "gpu/memory.hpp"
#include "gpu/recorder.hpp"
#include "model/striped_hyena_gpu.hpp"

namespace hyenavk::model {

class StripedHyenaStreamGpu {
public:
    // The model must outlive the stream set and store fp32 (Unsupported otherwise).
    StripedHyenaStreamGpu(StripedHyenaGpu& model, uint32_t streams);

    // frames is [streams, embed_dim]; returns [streams, hidden].
    std::vector<float> push(std::span<const float> frames);
    // Every stream starts over.
    void reset() { steps_taken_ = 0; }
    uint64_t steps() const { return steps_taken_; }
    uint32_t streams() const { return streams_; }

private:
    void record();

    StripedHyenaGpu& model_;
    detail::ContextImpl& ctx_;
    uint32_t streams_;
    gpu::Allocation input_, output_, x_, a_, t_, p_, y_, u_, steps_;
    std::vector<gpu::Allocation> rings_;  // per convolution, in the order the blocks run them
    gpu::Plan plan_;
    uint64_t steps_taken_ = 0;
};

}  // namespace hyenavk::model
