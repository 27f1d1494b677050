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

    // A buffer for one filter's spectrum at this length ([C rows][row_floats(n)]).
    gpu::Allocation make_spectrum() const;
    // Records the spectrum of h, an [S, C] view, into `spectrum`: done once per filter and length, then reused
    // by every convolution with that filter.
    void record_filter_spectrum(gpu::Recorder& rec, const ops::View& h, const gpu::Allocation& spectrum);

    // Records out = x * h for [B * L, C] views (batch b's steps are rows b * L .. b * L + L - 1), h given by its
    // spectrum. out may alias x.
    void record(gpu::Recorder& rec, const ops::View& out, const ops::View& x, const gpu::Allocation& spectrum);

private:
    void record_pack(gpu::Recorder& rec, const ops::View& src, uint32_t batch, uint32_t length_used);
    class FftPlan& plan() const;

    detail::ContextImpl& ctx_;
    uint32_t batch_, length_, channels_, taps_;
    uint64_t n_ = 0;
    gpu::Allocation workspace_;  // [B * C rows][row_floats(n)], shared by every filter of this shape
};

}  // namespace hyenavk::fft
