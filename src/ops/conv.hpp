// Short causal depthwise convolution (shaders/dwconv_causal.comp).
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

// The rows of x and out are consecutive time steps of sequences of `length` steps; row r is at step
// t = (first_step + r) % length of its sequence. w is a contiguous [taps, C] view whose tap taps-1 multiplies
// the current step; bias is a contiguous [1, C] view or nullptr. Each sequence starts from zeros:
//   out[r, c] = bias[c] + sum_{j >= taps-1-t} w[j, c] * x[r + j - (taps-1), c].
//
// Whole sequences (first_step 0, x.rows == batch * length): batch b owns rows b*length .. b*length + length-1.
// Chunks (first_step > 0, or any other row count): x and out have the same number of rows, any count, and
// `batch` is not checked. Taps of the first rows then reach up to min(first_step, taps-1) rows before row 0
// of x: the caller keeps those "halo" rows (the previous chunk's last inputs) in place before x's offset, so
// a sequence computed chunk by chunk equals the one-shot result exactly. first_step must be < length.
//
// All views share one element type (f32, or f16 where the device has 16-bit storage); sums are fp32.
// `out` must not overlap `x` (halo rows included): later steps still read the inputs an in-place write would
// replace.
void depthwise_causal_conv(gpu::Recorder& rec, const View& out, const View& x, uint32_t batch, uint32_t length,
                           const View& w, uint32_t taps, const View* bias = nullptr, uint32_t first_step = 0);

}  // namespace hyenavk::ops
