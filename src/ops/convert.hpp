// Conversion between storage types: out = in for views of the same shape, one fp32 and the other fp16.
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

// Throws Unsupported where the device lacks 16-bit storage buffers.
void convert(gpu::Recorder& rec, const View& out, const View& in);

}  // namespace hyenavk::ops
