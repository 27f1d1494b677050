// Dense layer: out[M, N] = a[M, K] @ W + bias.
//
// Two kernels compute it. shaders/dense.comp (Plain) runs on any Vulkan 1.1 device. shaders/dense_sg.comp
// (Subgroup) is for CPU drivers such as lavapipe, which run a workgroup as SIMD lanes and turn every
// storage-buffer load into a loop over the lanes: a workgroup of one subgroup owns a 32 x (8 * lanes) tile of
// the output and passes each loaded value of `a` to all lanes with subgroupShuffle, so that few values are
// loaded per multiply-add (8 to 10 times the throughput of Plain on lavapipe). Auto picks Subgroup on a CPU
// device that reports subgroup shuffles and a subgroup size it is built for (4, 8 or 16), Plain elsewhere,
// including wherever CapsClamp::disable_subgroup_ops is set.
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

enum class WeightLayout {
    InOut,  // W is [K, N]: w[k * N + n] (Axon checkpoints)
    OutIn,  // W is [N, K]: w[n * K + k] (PyTorch Linear.weight)
};

enum class DenseKernel {
    Auto,      // Subgroup where dense_subgroup_supported(), else Plain
    Plain,     // any device
    Subgroup,  // a CPU device with subgroup shuffles and a subgroup size of 4, 8 or 16
};

// What the kernel does with each result v = (a @ W + bias)[r, n] and the value o that out already holds there
// (shaders/dense_epilogue.glsl). Fusing these saves an element-wise pass over the whole output.
enum class DenseEpilogue : uint32_t {
    Store = 0,          // out = v
    Accumulate = 1,     // out = o + v: a residual connection
    SiluGate = 2,       // out = silu(v) * o: a gated FFN, out holding the up projection
    SigmoidGated = 3,   // out = v * sigmoid(o): a sigmoid gate, out holding its logits
};

// Whether the Subgroup kernel can run on `device` (its type and its possibly clamped capabilities).
bool dense_subgroup_supported(const DeviceInfo& device);
// The kernel that DenseKernel::Auto records on `device`.
DenseKernel dense_kernel_for(const DeviceInfo& device);

// `a` [M, K] and `out` [M, N] are any views (column slices of wider tensors included); `w` is a contiguous
// view shaped as `layout` says and `bias` a contiguous [1, N] view or nullptr. K must be at least 1.
// All views share one element type: f32, or f16 where the device has 16-bit storage (Unsupported otherwise);
// products are accumulated in fp32 and only the stored result is rounded.
// `out` must not overlap `a`, `w` or `bias`: other invocations are still reading them. Each element of out is
// read (by epilogues other than Store) and written by one invocation only.
// Forcing DenseKernel::Subgroup where the device does not support it throws Unsupported.
void dense(gpu::Recorder& rec, const View& out, const View& a, const View& w, WeightLayout layout,
           const View* bias = nullptr, DenseKernel kernel = DenseKernel::Auto,
           DenseEpilogue epilogue = DenseEpilogue::Store);

}  // namespace hyenavk::ops
