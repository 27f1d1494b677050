// What the kernel tests and `hyenavk selftest` share: device tensors surrounded by canary values (to catch
// out-of-bounds writes), random inputs, and one-shot recording.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/context_impl.hpp"
#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::diag {

// A device tensor of `count` floats with kCanaryFloats canaries before and after it.
class GuardedTensor {
public:
    static constexpr uint32_t kCanaryFloats = 64;
    static constexpr uint32_t kCanaryBits = 0x7f8a5a5au;  // a signalling-NaN pattern no kernel would write

    GuardedTensor(detail::ContextImpl& ctx, std::span<const float> values);
    GuardedTensor(detail::ContextImpl& ctx, size_t count);  // zero-filled

    // [rows, cols] view of the tensor (row stride cols).
    ops::View view(uint32_t rows, uint32_t cols) const;
    std::vector<float> read() const;
    // True when every canary still holds its pattern.
    bool canaries_intact() const;
    const gpu::Allocation& allocation() const { return alloc_; }

private:
    detail::ContextImpl& ctx_;
    size_t count_;
    gpu::Allocation alloc_;
};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
std::vector<double> to_double(std::span<const float> v);

// Records with `record`, submits, and returns nothing; failures surface as exceptions.
template <class F>
void run_once(detail::ContextImpl& ctx, F&& record) {
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    record(rec);
    rec.finish().submit();
}

}  // namespace hyenavk::diag
