#include "fft/long_conv.hpp"

#include <algorithm>
#include <string>

#include "fft/vkfft_plan.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::fft {
namespace {

struct PackPush {
    uint32_t batch, length, channels, length_used;  // length_used: samples copied, the rest of each row is zero
    uint32_t row_floats;
    uint32_t pad0, pad1, pad2;
    ops::PushView src;
};

struct MulPush {
    uint32_t rows, channels, bins, row_floats;
    float scale;
};

struct UnpackPush {
    uint32_t batch, length, channels, row_floats;
    ops::PushView dst;
};

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

LongConv::LongConv(detail::ContextImpl& ctx, uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps)
    : ctx_(ctx), batch_(batch), length_(length), channels_(channels), taps_(taps) {
    if (batch == 0 || length == 0 || channels == 0 || taps == 0)
        throw Error(ErrorCode::InvalidArgument, "long convolution needs batch, length, channels and taps >= 1");
    const uint64_t used_taps = std::min(taps, length);
    n_ = smooth_size(uint64_t(length) + used_taps - 1);
    const uint64_t rows = uint64_t(batch) * channels;
    const uint64_t bytes = rows * row_floats(n_) * sizeof(float);
    const DeviceCaps& caps = ctx.device->caps();
    if (bytes > caps.max_storage_buffer_range || bytes > caps.max_memory_allocation_size)
        throw Error(ErrorCode::DeviceLimit,
                    "long convolution of B = " + std::to_string(batch) + ", L = " + std::to_string(length) +
                        ", C = " + std::to_string(channels) + " needs an FFT workspace of " + mib(bytes) +
                        ", beyond the device's " +
                        (bytes > caps.max_storage_buffer_range
                             ? "storage-buffer range (maxStorageBufferRange = " + mib(caps.max_storage_buffer_range)
                             : "allocation size (maxMemoryAllocationSize = " + mib(caps.max_memory_allocation_size)) +
                        ")");
    workspace_ = ctx.memory.allocate(gpu::Lifetime::Activations, bytes);
}

gpu::Allocation LongConv::make_spectrum() const {
    return ctx_.memory.allocate(gpu::Lifetime::Activations, uint64_t(channels_) * row_floats(n_) * sizeof(float));
}

FftPlan& LongConv::plan() const {
    return ctx_.fft_plans.get(n_, uint64_t(batch_) * channels_, workspace_.slice().buffer, workspace_.slice().offset);
}

void LongConv::record_pack(gpu::Recorder& rec, const ops::View& src, uint32_t batch, uint32_t length_used) {
    const uint32_t rf = static_cast<uint32_t>(row_floats(n_));
    PackPush p{batch, src.rows / batch, channels_, length_used, rf, 0, 0, 0, ops::push_view(src)};
    using gpu::Access;
    rec.dispatch("fft_pack", {}, {{workspace_.slice(), Access::Write}, {src.slice, Access::Read}}, p,
                 ops::grid_1d(rec.caps(), uint64_t(batch) * channels_ * rf, 256));
}

void LongConv::record_filter_spectrum(gpu::Recorder& rec, const ops::View& h, const gpu::Allocation& spectrum) {
    if (h.rows != taps_ || h.cols != channels_)
        throw Error(ErrorCode::Internal, "long convolution: filter view must be [taps, channels]");
    const uint64_t spectrum_bytes = uint64_t(channels_) * row_floats(n_) * sizeof(float);
    if (spectrum.size() < spectrum_bytes) throw Error(ErrorCode::Internal, "long convolution: spectrum buffer too small");
    // The filter goes through the workspace (its first C rows), so one FFT plan serves filters and signals.
    // The other rows are zeroed: VkFFT may transform rows in pairs, so stale NaNs there would leak in. Taps
    // beyond L never reach an output, so only min(S, L) are transformed.
    record_pack(rec, h, 1, std::min(taps_, length_));
    if (batch_ > 1) rec.fill(workspace_.slice().sub(spectrum_bytes, workspace_.size() - spectrum_bytes), 0);
    FftPlan& fft = plan();
    rec.external({{workspace_.slice(), gpu::Access::ReadWrite}}, [&fft](VkCommandBuffer cmd) { fft.record_forward(cmd); });
    rec.copy(workspace_.slice().sub(0, spectrum_bytes), spectrum.slice().sub(0, spectrum_bytes));
}

void LongConv::record(gpu::Recorder& rec, const ops::View& out, const ops::View& x, const gpu::Allocation& spectrum) {
    const uint64_t rows = uint64_t(batch_) * length_;
    if (x.rows != rows || x.cols != channels_ || out.rows != rows || out.cols != channels_)
        throw Error(ErrorCode::Internal, "long convolution: x and out must be [batch * length, channels]");
    using gpu::Access;
    const uint32_t rf = static_cast<uint32_t>(row_floats(n_));
    record_pack(rec, x, batch_, length_);
    FftPlan& fft = plan();
    rec.external({{workspace_.slice(), Access::ReadWrite}}, [&fft](VkCommandBuffer cmd) { fft.record_forward(cmd); });

    const uint32_t bins = static_cast<uint32_t>(n_ / 2 + 1);
    MulPush m{batch_ * channels_, channels_, bins, rf, 1.0f / static_cast<float>(n_)};
    rec.dispatch("fft_spectral_mul", {}, {{workspace_.slice(), Access::ReadWrite}, {spectrum.slice(), Access::Read}},
                 m, ops::grid_1d(rec.caps(), uint64_t(batch_) * channels_ * bins, 256));

    rec.external({{workspace_.slice(), Access::ReadWrite}}, [&fft](VkCommandBuffer cmd) { fft.record_inverse(cmd); });
    UnpackPush u{batch_, length_, channels_, rf, ops::push_view(out)};
    rec.dispatch("fft_unpack", {}, {{out.slice, Access::Write}, {workspace_.slice(), Access::Read}}, u,
                 ops::grid_1d(rec.caps(), rows * channels_, 256));
}

}  // namespace hyenavk::fft
