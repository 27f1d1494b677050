// Streaming: a game feeds its model one new frame per tick for many agents at once. A StreamSet holds
// `streams` independent streams of a striped_hyena model that advance together, one frame each per push.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "hyenavk/model.hpp"

namespace hyenavk {

enum class StreamMode {
    // Each push returns, per stream, the last-step output of a whole forward over every frame the stream was
    // given since it started (or was reset). Per-layer caches of what each causal convolution reaches back to
    // make a push cost one frame of dense work per stream plus O(taps) per long convolution, however long
    // the history.
    Incremental,
    // What a model trained on fixed windows expects: each push returns, per stream, the output of a whole
    // forward over the stream's last `window` frames (over all of them while it has fewer). The frames stay in
    // a ring on the device, so a push uploads one frame per stream, never the window.
    Windowed,
};

struct StreamOptions {
    uint32_t streams = 1;  // independent streams (agents), all pushed together
    StreamMode mode = StreamMode::Incremental;
    uint32_t window = 0;  // Windowed: frames per forward (0: the model's window_size)
};

namespace detail {
class StreamSetImpl;
}

// Not thread-safe: push, reset, save and restore one at a time (the model itself may be used meanwhile).
// The model must outlive the set; it must be a striped_hyena model stored in fp32.
class HYENAVK_API StreamSet {
public:
    // Every buffer of the set (streams x the taps of each convolution, streams x window) is checked against the
    // device's limits (DeviceLimit) and the budget (OutOfMemory) before anything is allocated.
    static StreamSet create(Model& model, const StreamOptions& options = {});

    StreamSet(StreamSet&&) noexcept;
    StreamSet& operator=(StreamSet&&) noexcept;
    ~StreamSet();

    uint32_t streams() const;
    // Steps stream `stream` has taken since it started or was reset.
    uint64_t steps(uint32_t stream) const;

    // frames is [streams, input_features], one new frame per stream; returns [streams, output_features].
    // NaN and Inf are refused with their position unless the model was loaded with check_finite = false.
    std::vector<float> push(std::span<const float> frames);
    // One stream, or all, starts over (an agent leaves and another joins in its place).
    void reset(uint32_t stream);
    void reset_all();
    // One stream's state as bytes (a save game, a rewind), and back into any stream of a set of the same
    // model. Throws Format for bytes that are not such a state.
    std::vector<uint8_t> save(uint32_t stream) const;
    void restore(uint32_t stream, std::span<const uint8_t> state);

private:
    explicit StreamSet(std::unique_ptr<detail::StreamSetImpl> impl);
    std::unique_ptr<detail::StreamSetImpl> impl_;
};

}  // namespace hyenavk
