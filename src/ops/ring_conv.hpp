// Causal depthwise convolution of streams that advance one step per dispatch (shaders/ring_conv.comp): the
// short and long convolutions of streaming inference, each stream's past inputs kept in a ring on the device.
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

// Which way a filter's taps run.
enum class TapOrder {
    Lag,  // row 0 multiplies the current step, row 1 the step before (a long convolution's filter)
    Tap,  // row taps-1 multiplies the current step (a depthwise conv kernel as stored)
};

// x and out are [streams, C] (one new step per stream). ring is a contiguous [streams * capacity, C] view,
// capacity >= taps; steps is a contiguous [1, streams] view of 4-byte elements holding uint32 counts: the steps
// each stream took before this one. The new row
// of stream s is written into ring slot steps[s] % capacity, then
//   out[s, c] = bias[c] + sum_{lag < min(steps[s] + 1, taps)} w(lag, c) * (the row lag steps back)[c].
// The caller advances steps after the dispatch (a stream's later convolutions in the same step read the same
// count). w is a contiguous [taps, C] view in `order`; bias a contiguous [1, C] view or nullptr. out must not
// overlap x or the ring.
void ring_causal_conv(gpu::Recorder& rec, const View& out, const View& x, const View& ring, uint32_t capacity,
                      const View& steps, const View& w, uint32_t taps, TapOrder order,
                      const View* bias = nullptr);

}  // namespace hyenavk::ops
