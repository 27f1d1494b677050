// Element-wise kernels over views (shaders/elementwise.comp). `out` may alias `a`. All operands of one call
// share one element type (f32, or f16 where the device has 16-bit storage); the arithmetic is fp32.
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

void copy(gpu::Recorder& rec, const View& out, const View& a);
void add(gpu::Recorder& rec, const View& out, const View& a, const View& b);
void mul(gpu::Recorder& rec, const View& out, const View& a, const View& b);  // also: gating by a slice
void silu(gpu::Recorder& rec, const View& out, const View& a);
void sigmoid(gpu::Recorder& rec, const View& out, const View& a);
// Fused forms, one pass instead of two: out = silu(a) * b (a gated FFN), out = a * sigmoid(b) (a sigmoid gate).
void silu_mul(gpu::Recorder& rec, const View& out, const View& a, const View& b);
void mul_sigmoid(gpu::Recorder& rec, const View& out, const View& a, const View& b);
void scale(gpu::Recorder& rec, const View& out, const View& a, float factor);
void sin(gpu::Recorder& rec, const View& out, const View& a);
// out[r, c] = sin(freq[r, c] * a[r, c]); freq is usually a row broadcast of a per-column vector.
void sin_freq(gpu::Recorder& rec, const View& out, const View& a, const View& freq);
// out[r, c] = a[r, c] * (exp(-t[r, c] * |deltas[r, c]|) + shift); t is a per-row column broadcast
// (col_stride 0), deltas a row broadcast.
void exp_decay(gpu::Recorder& rec, const View& out, const View& a, const View& t, const View& deltas, float shift);

// Workgroups for a grid-stride loop over `total` items with `per_group` items per workgroup pass.
std::array<uint32_t, 3> grid_1d(const DeviceCaps& caps, uint64_t total, uint32_t per_group);

}  // namespace hyenavk::ops
