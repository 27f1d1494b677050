// Row gather, the embedding lookup (shaders/gather_rows.comp).
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

// out[i, :] = x[indices[i], :] for i < count. `indices` holds `count` uint32 values starting at its offset,
// which needs only 4-byte alignment. An index >= x.rows reads row x.rows - 1 (clamped, never out of
// bounds); callers validate ids on the host, this only keeps a bad one harmless. out is [count, x.cols], of
// x's element type (f32, or f16 with 16-bit storage: an exact copy either way).
void gather_rows(gpu::Recorder& rec, const View& out, const View& x, const gpu::BufferSlice& indices,
                 uint32_t count);

}  // namespace hyenavk::ops
