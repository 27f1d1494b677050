#include "diagnostics/guarded_tensor.hpp"

#include <cstring>

namespace hyenavk::diag {

GuardedTensor::GuardedTensor(detail::ContextImpl& ctx, size_t count) : ctx_(ctx), count_(count) {
    const size_t total = count + 2 * kCanaryFloats;
    alloc_ = ctx.memory.allocate(gpu::Lifetime::Activations, total * sizeof(float));
    std::vector<uint32_t> init(total, kCanaryBits);
    std::fill(init.begin() + kCanaryFloats, init.begin() + kCanaryFloats + count, 0u);
    ctx.transfer.upload(alloc_, 0, init.data(), total * sizeof(float));
}

GuardedTensor::GuardedTensor(detail::ContextImpl& ctx, std::span<const float> values)
    : GuardedTensor(ctx, values.size()) {
    if (!values.empty())
        ctx.transfer.upload(alloc_, kCanaryFloats * sizeof(float), values.data(), values.size_bytes());
}

ops::View GuardedTensor::view(uint32_t rows, uint32_t cols) const {
    if (static_cast<size_t>(rows) * cols > count_) throw Error(ErrorCode::Internal, "view larger than tensor");
    return ops::View{alloc_.slice(), rows, cols, kCanaryFloats, cols, 1};
}

std::vector<float> GuardedTensor::read() const {
    std::vector<float> out(count_);
    if (count_) ctx_.transfer.download(alloc_, kCanaryFloats * sizeof(float), out.data(), count_ * sizeof(float));
    return out;
}

bool GuardedTensor::canaries_intact() const {
    const size_t total = count_ + 2 * kCanaryFloats;
    std::vector<uint32_t> all(total);
    ctx_.transfer.download(alloc_, 0, all.data(), total * sizeof(uint32_t));
    for (size_t i = 0; i < kCanaryFloats; ++i)
        if (all[i] != kCanaryBits || all[total - 1 - i] != kCanaryBits) return false;
    return true;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

std::vector<double> to_double(std::span<const float> v) { return {v.begin(), v.end()}; }

}  // namespace hyenavk::diag
