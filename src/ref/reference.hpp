// Double-precision CPU reference ("oracle") for every GPU kernel.
//
// Written directly from the model math, independent of the shader code, so a
// disagreement always points at one side or the other rather than at shared
// assumptions. Tensors are row-major with explicit shapes; [B, L, C] means
// batch, time, channel with channel fastest. Shape mismatches throw
// std::invalid_argument.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace hyenavk::ref {

// How a dense weight matrix W(i, o) is stored.
enum class WeightLayout {
    InOut,  // [in, out]: w[i * out + o] (Axon checkpoints)
    OutIn,  // [out, in]: w[o * in + i] (PyTorch Linear.weight)
};

// y[r, o] = bias[o] + sum_i x[r, i] * W(i, o). x is [rows, in]; an empty bias
// means zero. Returns [rows, out].
std::vector<double> dense(std::span<const double> x, std::size_t rows, std::size_t in,
                          std::span<const double> w, WeightLayout layout,
                          std::span<const double> bias, std::size_t out);

// Short causal depthwise convolution over time. x is [B, L, C], w is [K, C]
// with tap K-1 applied to the current step:
//   y[b, t, c] = bias[c] + sum_{j<K} w[j, c] * x[b, t + j - (K-1), c]
// with x = 0 before t = 0 (per batch). Any K >= 1, including K > L. An empty
// bias means zero.
std::vector<double> depthwise_causal_conv(std::span<const double> x, std::size_t batch,
                                          std::size_t length, std::size_t channels,
                                          std::span<const double> w, std::size_t taps,
                                          std::span<const double> bias);

// Per row over C: mean, biased variance var,
//   r = var >= eps ? 1/sqrt(var + eps) : 1/sqrt(eps)   (Axon's clamp)
//   y = (x - mean) * r * gamma + beta.
std::vector<double> layer_norm(std::span<const double> x, std::size_t rows,
                               std::size_t channels, std::span<const double> gamma,
                               std::span<const double> beta, double eps = 1e-5);

// Per row: y = x / sqrt(mean(x^2) + eps) * scale.
std::vector<double> rms_norm(std::span<const double> x, std::size_t rows,
                             std::size_t channels, std::span<const double> scale,
                             double eps = 1e-5);

// Per row: y = x / sum_c |x[r, c]| (safari's normalized filters; no eps).
std::vector<double> l1_normalize_rows(std::span<const double> x, std::size_t rows, std::size_t channels);

// Element-wise; a and b must have the same size.
std::vector<double> add(std::span<const double> a, std::span<const double> b);
std::vector<double> mul(std::span<const double> a, std::span<const double> b);
std::vector<double> sigmoid(std::span<const double> x);
std::vector<double> silu(std::span<const double> x);  // x * sigmoid(x)

// y[r, c] = sin(freq[c] * x[r, c]).
std::vector<double> sin_freq(std::span<const double> x, std::size_t rows,
                             std::size_t channels, std::span<const double> freq);

// Hyena filter decay window. h is [L, C], positions has L entries:
//   y[t, c] = h[t, c] * (exp(-positions[t] * |deltas[c]|) + shift).
std::vector<double> exp_decay(std::span<const double> h, std::size_t length,
                              std::size_t channels, std::span<const double> positions,
                              std::span<const double> deltas, double shift);

// y[r, c] = y_in[r, c] * p[r, p_col_offset + c], with p stored [rows, p_cols].
std::vector<double> gate_slice(std::span<const double> y, std::size_t rows,
                               std::size_t channels, std::span<const double> p,
                               std::size_t p_cols, std::size_t p_col_offset);

// out[i, :] = x[indices[i], :] (embedding lookup). x is [rows, C].
std::vector<double> gather_rows(std::span<const double> x, std::size_t rows,
                                std::size_t channels, std::span<const std::uint32_t> indices);

// Columns [col_offset, col_offset + width) of x [rows, cols]; returns [rows, width].
std::vector<double> slice_columns(std::span<const double> x, std::size_t rows,
                                  std::size_t cols, std::size_t col_offset, std::size_t width);

// Long causal convolution with a per-channel filter h stored [S, C]:
//   y[b, t, c] = sum_{s=0..min(t, S-1)} h[s, c] * x[b, t - s, c]
// x and y are [B, L, C]. The direct form is O(L*S) and serves as the ground
// truth for the FFT form, which is O(L log L) and must agree with it.
std::vector<double> long_conv_direct(std::span<const double> x, std::size_t batch,
                                     std::size_t length, std::size_t channels,
                                     std::span<const double> h, std::size_t filter_len);
std::vector<double> long_conv_fft(std::span<const double> x, std::size_t batch,
                                  std::size_t length, std::size_t channels,
                                  std::span<const double> h, std::size_t filter_len);

// In-place complex FFT for power-of-two sizes (including 1). Forward uses
// exp(-2*pi*i*k*n/N); inverse uses the conjugate and scales by 1/N.
void fft(std::vector<std::complex<double>>& a, bool inverse);

// Smallest power of two >= n (1 for n = 0).
std::size_t next_pow2(std::size_t n);

// max|out - ref| / max|ref| over the whole tensor; max|out - ref| when ref is
// all zero. Returns +infinity if any difference is not finite, so NaN output
// can never pass a tolerance check.
double relative_error(std::span<const float> out, std::span<const double> ref);
double relative_error(std::span<const double> out, std::span<const double> ref);

}  // namespace hyenavk::ref
