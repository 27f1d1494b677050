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

    // frames is [streams, embed_dim]; returns [streams, hidden]. Every stream advances one step.
    std::vector<float> push(std::span<const float> frames);
    // Every stream, or one, starts over.
    void reset();
    void reset(uint32_t stream);
    uint64_t steps(uint32_t stream) const;
    uint32_t streams() const { return streams_; }

    // One stream's state (its step count and the rings of its convolutions) as bytes, and back into any
    // stream of a set made from the same model: a save game, a rewind, an agent moved between sets.
    std::vector<uint8_t> save(uint32_t stream) const;
    void restore(uint32_t stream, std::span<const uint8_t> state);

private:
    void record();
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
};

}  // namespace hyenavk::model
