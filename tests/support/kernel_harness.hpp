// Kernel tests use the same guarded tensors and helpers as `hyenavk selftest`, plus an fp16-storage twin of
// the guarded tensor for the kernels' `_f16` variants.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "core/context_impl.hpp"
#include "diagnostics/guarded_tensor.hpp"
#include "io/float16.hpp"
#include "ops/view.hpp"

namespace hyenavk::test {
using diag::GuardedTensor;
using diag::random_floats;
using diag::run_once;
using diag::to_double;

// The bound for kernels whose inputs and output are stored as half, against the double reference computed
// from the same (rounded) inputs: the fp32 arithmetic adds a few 1e-6, and rounding the stored output to
// half's 11-bit significand adds up to 2^-11 = 4.9e-4 of each value; 2e-3 leaves room for both, while a
// wrong conversion (a truncated or misplaced half) is off by far more.
inline constexpr double kF16StoreBound = 2e-3;

// Each value rounded to the nearest half (what an f16 tensor holds), as float.
inline std::vector<float> round_to_half(std::span<const float> v) {
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = io::f16_to_f32(io::f32_to_f16(v[i]));
    return out;
}

// A device tensor of `count` halves (ElementType::F16 views) with canaries before and after it.
class GuardedHalfTensor {
public:
    static constexpr uint32_t kCanaryHalves = 64;
    static constexpr uint16_t kCanaryBits = 0x7d5a;  // a signalling-NaN half no kernel would write

    GuardedHalfTensor(detail::ContextImpl& ctx, size_t count)  // zero-filled
        : ctx_(ctx), count_(count), total_(count + 2 * kCanaryHalves + (count & 1)) {  // an even number of halves
        alloc_ = ctx.memory.allocate(gpu::Lifetime::Activations, total_ * sizeof(uint16_t));
        std::vector<uint16_t> init(total_, kCanaryBits);
        std::fill(init.begin() + kCanaryHalves, init.begin() + kCanaryHalves + count, uint16_t(0));
        ctx.transfer.upload(alloc_, 0, init.data(), total_ * sizeof(uint16_t));
    }
    // The values rounded to half.
    GuardedHalfTensor(detail::ContextImpl& ctx, std::span<const float> values) : GuardedHalfTensor(ctx, values.size()) {
        std::vector<uint16_t> h(values.size() + (values.size() & 1), kCanaryBits);
        for (size_t i = 0; i < values.size(); ++i) h[i] = io::f32_to_f16(values[i]);
        if (!h.empty()) ctx.transfer.upload(alloc_, kCanaryHalves * sizeof(uint16_t), h.data(), h.size() * sizeof(uint16_t));
    }

    // [rows, cols] f16 view of the tensor (row stride cols).
    ops::View view(uint32_t rows, uint32_t cols) const {
        if (static_cast<size_t>(rows) * cols > count_) throw Error(ErrorCode::Internal, "view larger than tensor");
        return ops::View{alloc_.slice(), rows, cols, kCanaryHalves, cols, 1, ops::ElementType::F16};
    }
    // The values, widened to float (exactly).
    std::vector<float> read() const {
        const std::vector<uint16_t> all = raw();
        std::vector<float> out(count_);
        for (size_t i = 0; i < count_; ++i) out[i] = io::f16_to_f32(all[kCanaryHalves + i]);
        return out;
    }
    bool canaries_intact() const {
        const std::vector<uint16_t> all = raw();
        for (size_t i = 0; i < kCanaryHalves; ++i)
            if (all[i] != kCanaryBits || all[total_ - 1 - i] != kCanaryBits) return false;
        return true;
    }
    const gpu::Allocation& allocation() const { return alloc_; }

private:
    std::vector<uint16_t> raw() const {
        std::vector<uint16_t> all(total_);
        ctx_.transfer.download(alloc_, 0, all.data(), total_ * sizeof(uint16_t));
        return all;
    }
    detail::ContextImpl& ctx_;
    size_t count_, total_;
    gpu::Allocation alloc_;
};

// Whether the device can run the `_f16` kernel variants (16-bit storage buffers).
inline bool has_f16_storage(const detail::ContextImpl& ctx) { return ctx.device->info().caps.storage_buffer_16bit; }

}  // namespace hyenavk::test
