// The long causal convolution y[b, t, c] = sum_{s <= min(t, S-1)} h[s, c] * x[b, t - s, c] by FFT:
// x and h are packed channel-major and zero-padded to n >= L + min(S, L) - 1 (even, 2,3,5,7-smooth), real
// FFTs, a complex multiply by the filter spectrum (broadcast over the batch), an inverse FFT, and the first
// L samples unpacked. Arithmetic is fp32 throughout.
#pragma once

#include <cstdint>

#include "core/context_impl.hpp"
#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::fft {

class LongConv {
public:
    // Throws DeviceLimit, naming the limit, when the workspace would not fit one storage-buffer binding.
    LongConv(detail::ContextImpl& ctx, uint32_t batch, uint32_t length, uint32_t channels, uint32_t taps);

    uint64_t fft_size() const { return n_; }
    uint32_t batch() const { return batch_; }
    uint32_t length() const { return length_; }
    uint32_t channels() const { return channels_; }
    uint32_t taps() const { return taps_; }

    // Records the filter's spectrum from h, an [S, C] view; the spectrum is kept until the next call, so it is
    // recorded once per filter and length and reused by every convolution after it.
    void record_filter_spectrum(gpu::Recorder& rec, const ops::View& h);

    // Records out = x * h for [B * L, C] views (batch b's steps are rows b * L .. b * L + L - 1). out may alias x.
    void record(gpu::Recorder& rec, const ops::View& out, const ops::View& x);

private:
    void record_pack(gpu::Recorder& rec, const gpu::Allocation& dst, const ops::View& src, uint32_t batch,
                     uint32_t length_used);

    detail::ContextImpl& ctx_;
    uint32_t batch_, length_, channels_, taps_;
    uint64_t n_ = 0;
    gpu::Allocation workspace_;  // [B * C rows][row_floats(n)]
    gpu::Allocation spectrum_;   // [C rows][row_floats(n)]
};

}  // namespace hyenavk::fft
