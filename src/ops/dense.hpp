// Dense layer (shaders/dense.comp): out[M, N] = a[M, K] @ W + bias.
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

enum class WeightLayout {
    InOut,  // W is [K, N]: w[k * N + n] (Axon checkpoints)
    OutIn,  // W is [N, K]: w[n * K + k] (PyTorch Linear.weight)
};

// `a` [M, K] and `out` [M, N] are any views (column slices of wider tensors included); `w` is a contiguous
// view shaped as `layout` says and `bias` a contiguous [1, N] view or nullptr. K must be at least 1.
// `out` must not overlap `a`, `w` or `bias`: other invocations are still reading them.
void dense(gpu::Recorder& rec, const View& out, const View& a, const View& w, WeightLayout layout,
           const View* bias = nullptr);

}  // namespace hyenavk::ops
