// The long causal convolution y[b, t, c] = sum_{s <= min(t, S-1)} h[s, c] * x[b, t - s, c] by FFT:
// x and h are packed channel-major and zero-padded to n >= L + min(S, L) - 1 (even, 2,3,5,7-smooth), real
// FFTs, a complex multiply by the filter spectrum (broadcast over the batch), an inverse FFT, and the first
// L samples unpacked. Arithmetic is fp32 throughout; x, out and gates may be stored in 16 bits.
//
// Channels go through the FFT in groups of group_channels() (all of them where the workspace fits), so the
// workspace stays within one storage-buffer binding and within a memory plan. Operands may be tiled along
// time (ops/tiles.hpp): the whole sequence is gathered from the tiles into the workspace.
#pragma once

#include <cstdint>
#include <memory>

#include "core/context_impl.hpp"
#include "gpu/recorder.hpp"
#include "ops/tiles.hpp"
#include "ops/view.hpp"

namespace hyenavk::fft {

class FftPlan;

class LongConv {
public:
    // group_channels: channels per FFT pass, a divisor of `channels` (0: all). workspace: where the FFT rows
    // live, workspace_bytes() at least (an empty slice: an allocation of its own). Throws DeviceLimit,
    // naming the limit, when one group's workspace would not fit one storage-buffer binding.
    LongConv(detail::ContextImpl& ctx, uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps,
             uint32_t group_channels = 0, ops::ElementType io = ops::ElementType::F32,
             gpu::BufferSlice workspace = {});
    ~LongConv();

    // The most bytes one pass's FFT workspace takes: wider channel groups are split to stay within it.
    static constexpr uint64_t kMaxWorkspaceBytes = 256ull << 20;
    // No sequence this long fits a convolution: one channel of one sequence, padded to its FFT size, needs
    // more than kMaxWorkspaceBytes. Configs cap their lengths and filters (seq_len, window_size, l_max) here.
    static constexpr uint32_t kMaxLength = uint32_t(kMaxWorkspaceBytes / sizeof(float));

    // FFT size and per-group buffer sizes for a shape, without making anything. InvalidArgument for length 0.
    static uint64_t fft_size_for(uint32_t length, uint32_t taps);
    static uint64_t workspace_bytes_for(uint32_t batch, uint32_t length, uint32_t taps, uint32_t group_channels);
    static uint64_t spectrum_bytes_for(uint32_t length, uint32_t taps, uint32_t group_channels);
    // The least memory traffic (bytes read plus bytes written) of one convolution over all channels with
    // spectra kept: pack, forward FFT, spectral product, inverse FFT and unpack each read and write the
    // workspace once; x, the gate (where `gated`) and out move once at io_bytes per element.
    static uint64_t traffic_bytes_for(uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps,
                                      uint32_t io_bytes, bool gated);
    // The largest divisor of `channels` whose workspace fits max_bytes; 0 where not even one channel does.
    static uint32_t fit_group_channels(uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps,
                                       uint64_t max_bytes);

    uint64_t fft_size() const { return n_; }
    uint32_t batch() const { return batch_; }
    uint32_t length() const { return length_; }
    uint32_t channels() const { return channels_; }
    uint32_t taps() const { return taps_; }
    uint32_t group_channels() const { return group_; }
    uint32_t group_count() const { return channels_ / group_; }
    uint64_t workspace_bytes() const { return workspace_bytes_for(batch_, length_, taps_, group_); }
    uint64_t spectrum_bytes() const { return spectrum_bytes_for(length_, taps_, group_); }

    // A buffer for one group's filter spectrum at this length ([group rows][row_floats(n)]).
    gpu::Allocation make_spectrum() const;

    // Records the spectrum of channel group `group` of h, an [S, C] operand tiled as one sequence of S steps,
    // into `spectrum`: done once per filter, group and length (or per call, where spectra are not kept).
    void record_filter_spectrum(gpu::Recorder& rec, const ops::TiledView& h, uint32_t group,
                                const gpu::BufferSlice& spectrum);
    // Records out = (x * h) for channel group `group`, multiplied by `gate` where given. out, x and gate are
    // [B * L, C] operands with the same tiles; out may alias x.
    void record(gpu::Recorder& rec, const ops::TiledView& out, const ops::TiledView& x, const ops::TiledView* gate,
                uint32_t group, const gpu::BufferSlice& spectrum);

    // Untiled, single-group forms: h is an [S, C] view, x and out [B * L, C] views.
    void record_filter_spectrum(gpu::Recorder& rec, const ops::View& h, const gpu::Allocation& spectrum);
    void record(gpu::Recorder& rec, const ops::View& out, const ops::View& x, const gpu::Allocation& spectrum);

private:
    void record_pack(gpu::Recorder& rec, const ops::View& src, const ops::SequenceTile& tile, uint32_t used,
                     uint32_t t_end);
    FftPlan& plan();

    detail::ContextImpl& ctx_;
    uint32_t batch_, length_, channels_, taps_, group_;
    ops::ElementType io_;
    uint64_t n_ = 0;
    gpu::Allocation own_workspace_;
    gpu::BufferSlice workspace_;  // [B * group rows][row_floats(n)], shared by every group and filter
    std::shared_ptr<FftPlan> plan_;
};

}  // namespace hyenavk::fft
