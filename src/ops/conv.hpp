// Short causal depthwise convolution (shaders/dwconv_causal.comp).
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

// x and out are views of [batch * length, C] rows (batch b owns rows b*length .. b*length + length - 1);
// w is a contiguous [taps, C] view whose tap taps-1 multiplies the current step; bias is a contiguous
// [1, C] view or nullptr. Each batch starts from zeros:
//   out[b, t, c] = bias[c] + sum_j w[j, c] * x[b, t + j - (taps-1), c].
// `out` must not overlap `x`: later steps still read the inputs an in-place write would replace.
void depthwise_causal_conv(gpu::Recorder& rec, const View& out, const View& x, uint32_t batch, uint32_t length,
                           const View& w, uint32_t taps, const View* bias = nullptr);

}  // namespace hyenavk::ops
