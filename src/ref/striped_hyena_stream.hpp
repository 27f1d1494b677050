// Double-precision CPU reference of `striped_hyena` fed one frame at a time: each push returns the output of
// the last step of a whole-sequence forward over every frame pushed so far, computed from per-layer caches
// (the last rows each causal convolution reaches back to) instead of the whole history. The oracle for
// incremental streaming; it is checked against striped_hyena_forward.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hyenavk/striped_hyena.hpp"
#include "ref/weights.hpp"

namespace hyenavk::ref {

class StripedHyenaStream {
public:
    // `weights` must outlive the stream. Throws std::invalid_argument where a tensor is missing or has the
    // wrong shape.
    StripedHyenaStream(const StripedHyenaConfig& cfg, const Weights& weights);

    // frame is [E]; returns the final LayerNorm's output [H] at the new step.
    std::vector<double> push(std::span<const double> frame);
    uint64_t steps() const { return steps_; }
    void reset();

private:
    // The last `capacity` rows of a [t, channels] signal, oldest first; earlier rows are never read again.
    struct History {
        std::size_t capacity = 0, channels = 0;
        std::vector<double> rows;  // at most capacity * channels values
        void append(std::span<const double> row);
        std::size_t count() const { return rows.size() / channels; }
    };

    const StripedHyenaConfig cfg_;
    const Weights& weights_;
    std::vector<std::vector<double>> filters_;  // per (Hyena block, k) in block order: [min(Ls), H]
    std::vector<History> short_conv_in_;        // per Hyena block: the normed input of its 3-tap conv
    std::vector<History> long_conv_in_;         // per (Hyena block, k): the long convolution's input
    std::vector<History> gated_conv_in_;        // per gated block: the first half of its projection
    uint64_t steps_ = 0;
};

}  // namespace hyenavk::ref
