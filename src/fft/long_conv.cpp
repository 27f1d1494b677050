#include "fft/long_conv.hpp"

#include <algorithm>
#include <string>

#include "core/sizes.hpp"
#include "fft/vkfft_plan.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::fft {
namespace {

using detail::mib;

struct PackPush {
    uint32_t b_first, b_count, t0, t_count;
    uint32_t used, channels, row_floats, t_end;
    ops::PushView src;
};

struct MulPush {
    uint32_t rows, channels, bins, row_floats;
    float scale;
};

struct UnpackPush {
    uint32_t b_first, b_count, t0, t_count;
    uint32_t channels, row_floats, has_gate, pad;
    ops::PushView dst, gate;
};

// Whether each row of a [rows, channels] view holds its channels as aligned groups of 4 (vec4 access).
bool vec4_channels(const ops::View& v, uint32_t rows, uint32_t channels) {
    return v.col_stride == 1 && channels % 4 == 0 && v.offset % 4 == 0 && (rows <= 1 || v.row_stride % 4 == 0);
}

// Estimated work of one batched FFT (for bounding submissions): 5 n log2 n per row, plus its memory passes.
uint64_t fft_work(uint64_t n, uint64_t rows) {
    uint64_t log2n = 1;
    while ((uint64_t(1) << log2n) < n) ++log2n;
    return rows * (5 * n * log2n + 8 * row_floats(n) * sizeof(float));
}

const char* variant(const char* base_f32, const char* base_f16, ops::ElementType e) {
    return e == ops::ElementType::F16 ? base_f16 : base_f32;
}

}  // namespace

uint64_t LongConv::fft_size_for(uint32_t length, uint32_t taps) {
    if (length == 0 || taps == 0)
        throw Error(ErrorCode::InvalidArgument, "a long convolution needs length and taps >= 1 (got L = " +
                                                    std::to_string(length) + ", " + std::to_string(taps) + " taps)");
    return smooth_size(uint64_t(length) + std::min(taps, length) - 1);
}

// Sizes saturate rather than wrap: B and L near 2^32 with wide groups pass 2^64 bytes, and a wrapped size
// would pass the limits it is compared with.
uint64_t LongConv::workspace_bytes_for(uint32_t batch, uint32_t length, uint32_t taps, uint32_t group_channels) {
    return detail::saturating_product({batch, group_channels, row_floats(fft_size_for(length, taps)), sizeof(float)});
}

uint64_t LongConv::spectrum_bytes_for(uint32_t length, uint32_t taps, uint32_t group_channels) {
    return detail::saturating_product({group_channels, row_floats(fft_size_for(length, taps)), sizeof(float)});
}

uint64_t LongConv::traffic_bytes_for(uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps,
                                     uint32_t io_bytes, bool gated) {
    const uint64_t workspace = workspace_bytes_for(batch, length, taps, channels);
    const uint64_t spectrum = spectrum_bytes_for(length, taps, channels);
    const uint64_t io = uint64_t(batch) * length * channels * io_bytes;
    // pack writes it; each FFT reads and writes it; the product reads it and the spectrum and writes it;
    // unpack reads the first L samples of each row.
    const uint64_t in_workspace = workspace + 2 * workspace + 2 * workspace + spectrum + 2 * workspace +
                                  uint64_t(batch) * length * channels * sizeof(float);
    return in_workspace + io * (gated ? 3 : 2);
}

uint32_t LongConv::fit_group_channels(uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps,
                                      uint64_t max_bytes) {
    for (uint32_t g = channels; g >= 1; --g)
        if (channels % g == 0 && workspace_bytes_for(batch, length, taps, g) <= max_bytes) return g;
    return 0;
}

LongConv::LongConv(detail::ContextImpl& ctx, uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps,
                   uint32_t group_channels, ops::ElementType io, gpu::BufferSlice workspace)
    : ctx_(ctx), batch_(batch), length_(length), channels_(channels), taps_(taps),
      group_(group_channels ? group_channels : channels), io_(io) {
    if (batch == 0 || length == 0 || channels == 0 || taps == 0)
        throw Error(ErrorCode::InvalidArgument, "long convolution needs batch, length, channels and taps >= 1");
    if (channels % group_ != 0)
        throw Error(ErrorCode::Internal, "long convolution: the channel group must divide the channels");
    n_ = fft_size_for(length, taps);
    const uint64_t bytes = workspace_bytes();
    const DeviceCaps& caps = ctx.device->caps();
    if (bytes > caps.max_storage_buffer_range || bytes > caps.max_memory_allocation_size)
        throw Error(ErrorCode::DeviceLimit,
                    "long convolution of B = " + std::to_string(batch) + ", L = " + std::to_string(length) +
                        ", C = " + std::to_string(group_) + " needs an FFT workspace of " + mib(bytes) +
                        ", beyond the device's " +
                        (bytes > caps.max_storage_buffer_range
                             ? "storage-buffer range (maxStorageBufferRange = " + mib(caps.max_storage_buffer_range)
                             : "allocation size (maxMemoryAllocationSize = " + mib(caps.max_memory_allocation_size)) +
                        ")");
    if (workspace.buffer == VK_NULL_HANDLE) {
        own_workspace_ = ctx.memory.allocate_dedicated(gpu::Lifetime::Activations, bytes);
        workspace_ = own_workspace_.slice();
    } else {
        if (workspace.size < bytes) throw Error(ErrorCode::Internal, "long convolution: workspace too small");
        workspace_ = workspace.sub(0, bytes);
    }
}

LongConv::~LongConv() {
    // Whoever owns the workspace frees it after this; plans bound to it must not outlive it in the cache.
    plan_.reset();
    ctx_.fft_plans.forget(workspace_.buffer);
}

gpu::Allocation LongConv::make_spectrum() const {
    return ctx_.memory.allocate(gpu::Lifetime::Activations, spectrum_bytes());
}

FftPlan& LongConv::plan() {
    if (!plan_) plan_ = ctx_.fft_plans.get(n_, uint64_t(batch_) * group_, workspace_.buffer, workspace_.offset);
    return *plan_;
}

void LongConv::record_pack(gpu::Recorder& rec, const ops::View& src, const ops::SequenceTile& tile, uint32_t used,
                           uint32_t t_end) {
    if (t_end <= tile.t0) return;
    const uint32_t rf = static_cast<uint32_t>(row_floats(n_));
    PackPush p{tile.b_first, tile.b_count, tile.t0, tile.t_count, used, group_, rf, t_end, ops::push_view(src)};
    const uint32_t spec[] = {vec4_channels(src, tile.rows(), group_) ? 1u : 0u, tile.t0 % 2 == 0 ? 1u : 0u};
    const uint64_t blocks = uint64_t(tile.b_count) * ((group_ + 3) / 4) * ((t_end - tile.t0 + 3) / 4);
    using gpu::Access;
    rec.dispatch(variant("fft_pack", "fft_pack_f16", src.element), spec,
                 {{workspace_, Access::Write}, {src.slice, Access::Read}}, p, ops::grid_1d(rec.caps(), blocks, 64),
                 uint64_t(tile.b_count) * group_ * (t_end - tile.t0) * gpu::Recorder::kOpsPerInvocation);
}

void LongConv::record_filter_spectrum(gpu::Recorder& rec, const ops::TiledView& h, uint32_t group,
                                      const gpu::BufferSlice& spectrum) {
    const uint64_t spectrum_bytes = this->spectrum_bytes();
    if (spectrum.size < spectrum_bytes) throw Error(ErrorCode::Internal, "long convolution: spectrum buffer too small");
    if (group >= group_count()) throw Error(ErrorCode::Internal, "long convolution: no such channel group");
    // The filter goes through the workspace (its first rows), so one FFT plan serves filters and signals.
    // Everything else is zeroed first: VkFFT may transform rows in pairs, so stale NaNs would leak in. Taps
    // beyond L never reach an output, so only min(S, L) are transformed.
    rec.fill(workspace_, 0);
    const uint32_t used = std::min(taps_, length_);
    for (size_t i = 0; i < h.size(); ++i) {
        const ops::SequenceTile& tile = h.tile(i);
        if (h.views[i].cols != channels_ || tile.b_first != 0 || tile.b_count != 1)
            throw Error(ErrorCode::Internal, "long convolution: the filter must be [taps, channels], one sequence");
        record_pack(rec, h.views[i].columns(group * group_, group_), tile, used,
                    std::min(tile.t0 + tile.t_count, used));
    }
    FftPlan& fft = plan();
    const uint64_t work = fft_work(n_, uint64_t(batch_) * group_);
    rec.external({{workspace_, gpu::Access::ReadWrite}}, [&fft](VkCommandBuffer cmd) { fft.record_forward(cmd); }, work);
    rec.copy(workspace_.sub(0, spectrum_bytes), spectrum.sub(0, spectrum_bytes));
}

void LongConv::record(gpu::Recorder& rec, const ops::TiledView& out, const ops::TiledView& x,
                      const ops::TiledView* gate, uint32_t group, const gpu::BufferSlice& spectrum) {
    if (x.size() != out.size() || (gate && gate->size() != x.size()))
        throw Error(ErrorCode::Internal, "long convolution: x, out and gate must have the same tiles");
    if (group >= group_count()) throw Error(ErrorCode::Internal, "long convolution: no such channel group");
    uint64_t rows = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const uint32_t r = x.tile(i).rows();
        if (x.views[i].rows != r || out.views[i].rows != r || x.views[i].cols != channels_ ||
            out.views[i].cols != channels_ || (gate && (gate->views[i].rows != r || gate->views[i].cols != channels_)))
            throw Error(ErrorCode::Internal, "long convolution: every tile of x, out and gate must be [rows, channels]");
        rows += r;
    }
    if (rows != uint64_t(batch_) * length_)
        throw Error(ErrorCode::Internal, "long convolution: the tiles must cover [batch * length] rows");
    using gpu::Access;
    const uint32_t rf = static_cast<uint32_t>(row_floats(n_));
    const uint32_t c0 = group * group_;
    for (size_t i = 0; i < x.size(); ++i) {
        const ops::SequenceTile& tile = x.tile(i);
        const bool ends_sequence = tile.t0 + tile.t_count == length_;
        record_pack(rec, x.views[i].columns(c0, group_), tile, length_, ends_sequence ? rf : tile.t0 + tile.t_count);
    }
    FftPlan& fft = plan();
    const uint64_t work = fft_work(n_, uint64_t(batch_) * group_);
    rec.external({{workspace_, Access::ReadWrite}}, [&fft](VkCommandBuffer cmd) { fft.record_forward(cmd); }, work);

    const uint32_t bins = static_cast<uint32_t>(n_ / 2 + 1);
    MulPush m{batch_ * group_, group_, bins, rf, 1.0f / static_cast<float>(n_)};
    rec.dispatch("fft_spectral_mul", {}, {{workspace_, Access::ReadWrite}, {spectrum, Access::Read}}, m,
                 ops::grid_1d(rec.caps(), uint64_t(batch_) * group_, 1),
                 uint64_t(batch_) * group_ * bins * gpu::Recorder::kOpsPerInvocation);

    rec.external({{workspace_, Access::ReadWrite}}, [&fft](VkCommandBuffer cmd) { fft.record_inverse(cmd); }, work);
    for (size_t i = 0; i < out.size(); ++i) {
        const ops::SequenceTile& tile = out.tile(i);
        const ops::View dst = out.views[i].columns(c0, group_);
        const ops::View g = gate ? gate->views[i].columns(c0, group_) : dst;
        UnpackPush u{tile.b_first, tile.b_count, tile.t0, tile.t_count, group_, rf, gate ? 1u : 0u, 0,
                     ops::push_view(dst), ops::push_view(g)};
        const bool vec4 = vec4_channels(dst, tile.rows(), group_) && vec4_channels(g, tile.rows(), group_);
        const uint32_t spec[] = {vec4 ? 1u : 0u, tile.t0 % 2 == 0 ? 1u : 0u};
        const uint64_t blocks = uint64_t(tile.b_count) * ((tile.t_count + 3) / 4) * ((group_ + 3) / 4);
        rec.dispatch(variant("fft_unpack", "fft_unpack_f16", dst.element), spec,
                     {{dst.slice, Access::Write}, {workspace_, Access::Read}, {g.slice, Access::Read}}, u,
                     ops::grid_1d(rec.caps(), blocks, 64),
                     uint64_t(tile.rows()) * group_ * gpu::Recorder::kOpsPerInvocation);
    }
}

void LongConv::record_filter_spectrum(gpu::Recorder& rec, const ops::View& h, const gpu::Allocation& spectrum) {
    if (h.rows != taps_ || h.cols != channels_ || group_ != channels_)
        throw Error(ErrorCode::Internal, "long convolution: filter view must be [taps, channels], one group");
    const std::vector<ops::SequenceTile> tiles{{0, 1, 0, taps_, 0}};
    record_filter_spectrum(rec, ops::TiledView{&tiles, {h}}, 0, spectrum.slice());
}

void LongConv::record(gpu::Recorder& rec, const ops::View& out, const ops::View& x, const gpu::Allocation& spectrum) {
    if (group_ != channels_) throw Error(ErrorCode::Internal, "long convolution: untiled form needs one group");
    const std::vector<ops::SequenceTile> tiles{{0, batch_, 0, length_, 0}};
    record(rec, ops::TiledView{&tiles, {out}}, ops::TiledView{&tiles, {x}}, nullptr, 0, spectrum.slice());
}

}  // namespace hyenavk::fft
