#include "ref/reference.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace hyenavk::ref {
namespace {

// Shape products are checked so a wrapped size_t cannot pass validation.
std::size_t checked_mul(std::size_t a, std::size_t b) {
    if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a)
        throw std::invalid_argument("hyenavk::ref: shape product overflows size_t");
    return a * b;
}

void expect_size(std::size_t actual, std::size_t expected, const char* what) {
    if (actual != expected)
        throw std::invalid_argument(std::string("hyenavk::ref: ") + what + " has " +
                                    std::to_string(actual) + " elements, expected " +
                                    std::to_string(expected));
}

// Optional per-channel vectors (bias) may be empty, meaning zero.
void expect_empty_or(std::size_t actual, std::size_t expected, const char* what) {
    if (actual != 0) expect_size(actual, expected, what);
}

double sigmoid_scalar(double v) {
    // Branching keeps exp() from overflowing for large |v|.
    if (v >= 0.0) return 1.0 / (1.0 + std::exp(-v));
    const double e = std::exp(v);
    return e / (1.0 + e);
}

// Twiddles for one power-of-two size, reused by every transform of that size.
// Each twiddle comes straight from cos/sin of its own angle instead of a running
// product, so errors do not accumulate with n.
class FftPlan {
public:
    explicit FftPlan(std::size_t n) : n_(n), twiddle_re_(n / 2), twiddle_im_(n / 2) {
        if (n == 0 || !std::has_single_bit(n))
            throw std::invalid_argument("hyenavk::ref::fft: size must be a power of two, got " +
                                        std::to_string(n));
        for (std::size_t k = 0; k < n / 2; ++k) {
            const double angle =
                -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
            twiddle_re_[k] = std::cos(angle);
            twiddle_im_[k] = std::sin(angle);
        }
    }

    std::size_t size() const { return n_; }

    void run(std::complex<double>* data, bool inverse) const {
        const std::size_t n = n_;
        if (n <= 1) return;
        // std::complex<double> is layout-compatible with double[2]; raw access
        // avoids the NaN-handling slow path of complex operator*.
        double* d = reinterpret_cast<double*>(data);

        for (std::size_t i = 1, j = 0; i < n; ++i) {
            std::size_t bit = n >> 1;
            for (; j & bit; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) {
                std::swap(d[2 * i], d[2 * j]);
                std::swap(d[2 * i + 1], d[2 * j + 1]);
            }
        }

        const double sign = inverse ? -1.0 : 1.0;
        for (std::size_t half = 1; half < n; half *= 2) {
            const std::size_t stride = n / (2 * half);
            for (std::size_t start = 0; start < n; start += 2 * half) {
                for (std::size_t j = 0; j < half; ++j) {
                    const double wr = twiddle_re_[j * stride];
                    const double wi = sign * twiddle_im_[j * stride];
                    double* top = d + 2 * (start + j);
                    double* bottom = d + 2 * (start + j + half);
                    const double tr = bottom[0] * wr - bottom[1] * wi;
                    const double ti = bottom[0] * wi + bottom[1] * wr;
                    bottom[0] = top[0] - tr;
                    bottom[1] = top[1] - ti;
                    top[0] += tr;
                    top[1] += ti;
                }
            }
        }

        if (inverse) {
            const double scale = 1.0 / static_cast<double>(n);
            for (std::size_t i = 0; i < 2 * n; ++i) d[i] *= scale;
        }
    }

private:
    std::size_t n_;
    std::vector<double> twiddle_re_;
    std::vector<double> twiddle_im_;
};

// Splits Z = FFT(a + i*b) of two real signals into A = FFT(a) and B = FFT(b)
// using conjugate symmetry: A[k] = (Z[k] + conj Z[-k]) / 2,
// B[k] = (Z[k] - conj Z[-k]) / (2i).
void split_real_pair(const std::vector<std::complex<double>>& z,
                     std::vector<std::complex<double>>& a,
                     std::vector<std::complex<double>>& b) {
    const std::size_t n = z.size();
    for (std::size_t k = 0; k < n; ++k) {
        const std::complex<double> zk = z[k];
        const std::complex<double> zm = std::conj(z[(n - k) % n]);
        a[k] = {0.5 * (zk.real() + zm.real()), 0.5 * (zk.imag() + zm.imag())};
        const double ur = zk.real() - zm.real();
        const double ui = zk.imag() - zm.imag();
        b[k] = {0.5 * ui, -0.5 * ur};
    }
}

std::vector<double> elementwise_binary(std::span<const double> a, std::span<const double> b,
                                       const char* what, double (*op)(double, double)) {
    expect_size(b.size(), a.size(), what);
    std::vector<double> y(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) y[i] = op(a[i], b[i]);
    return y;
}

void validate_long_conv(std::span<const double> x, std::size_t batch, std::size_t length,
                        std::size_t channels, std::span<const double> h,
                        std::size_t filter_len) {
    expect_size(x.size(), checked_mul(checked_mul(batch, length), channels), "long_conv x");
    expect_size(h.size(), checked_mul(filter_len, channels), "long_conv h");
}

}  // namespace

std::vector<double> dense(std::span<const double> x, std::size_t rows, std::size_t in,
                          std::span<const double> w, WeightLayout layout,
                          std::span<const double> bias, std::size_t out) {
    expect_size(x.size(), checked_mul(rows, in), "dense x");
    expect_size(w.size(), checked_mul(in, out), "dense w");
    expect_empty_or(bias.size(), out, "dense bias");
    std::vector<double> y(rows * out);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t o = 0; o < out; ++o) {
            double acc = bias.empty() ? 0.0 : bias[o];
            for (std::size_t i = 0; i < in; ++i) {
                const double weight =
                    layout == WeightLayout::InOut ? w[i * out + o] : w[o * in + i];
                acc += x[r * in + i] * weight;
            }
            y[r * out + o] = acc;
        }
    }
    return y;
}

std::vector<double> depthwise_causal_conv(std::span<const double> x, std::size_t batch,
                                          std::size_t length, std::size_t channels,
                                          std::span<const double> w, std::size_t taps,
                                          std::span<const double> bias) {
    expect_size(x.size(), checked_mul(checked_mul(batch, length), channels), "dwconv x");
    if (taps == 0) throw std::invalid_argument("hyenavk::ref: dwconv needs at least one tap");
    expect_size(w.size(), checked_mul(taps, channels), "dwconv w");
    expect_empty_or(bias.size(), channels, "dwconv bias");
    std::vector<double> y(x.size());
    for (std::size_t b = 0; b < batch; ++b) {
        const std::size_t base = b * length * channels;
        for (std::size_t t = 0; t < length; ++t) {
            for (std::size_t c = 0; c < channels; ++c) {
                double acc = bias.empty() ? 0.0 : bias[c];
                // Tap j reads step t + j - (K-1); taps reaching before t = 0 see zeros.
                for (std::size_t j = 0; j < taps; ++j) {
                    const std::size_t lag = taps - 1 - j;
                    if (lag > t) continue;
                    acc += w[j * channels + c] * x[base + (t - lag) * channels + c];
                }
                y[base + t * channels + c] = acc;
            }
        }
    }
    return y;
}

std::vector<double> layer_norm(std::span<const double> x, std::size_t rows,
                               std::size_t channels, std::span<const double> gamma,
                               std::span<const double> beta, double eps) {
    expect_size(x.size(), checked_mul(rows, channels), "layer_norm x");
    expect_size(gamma.size(), channels, "layer_norm gamma");
    expect_size(beta.size(), channels, "layer_norm beta");
    if (channels == 0) return {};
    std::vector<double> y(x.size());
    const double n = static_cast<double>(channels);
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = x.data() + r * channels;
        double sum = 0.0;
        for (std::size_t c = 0; c < channels; ++c) sum += row[c];
        const double mean = sum / n;
        double sq = 0.0;
        for (std::size_t c = 0; c < channels; ++c) sq += (row[c] - mean) * (row[c] - mean);
        const double var = sq / n;
        const double inv_std = var >= eps ? 1.0 / std::sqrt(var + eps) : 1.0 / std::sqrt(eps);
        for (std::size_t c = 0; c < channels; ++c)
            y[r * channels + c] = (row[c] - mean) * inv_std * gamma[c] + beta[c];
    }
    return y;
}

std::vector<double> rms_norm(std::span<const double> x, std::size_t rows,
                             std::size_t channels, std::span<const double> scale, double eps) {
    expect_size(x.size(), checked_mul(rows, channels), "rms_norm x");
    expect_size(scale.size(), channels, "rms_norm scale");
    if (channels == 0) return {};
    std::vector<double> y(x.size());
    for (std::size_t r = 0; r < rows; ++r) {
        const double* row = x.data() + r * channels;
        double sq = 0.0;
        for (std::size_t c = 0; c < channels; ++c) sq += row[c] * row[c];
        const double inv_rms = 1.0 / std::sqrt(sq / static_cast<double>(channels) + eps);
        for (std::size_t c = 0; c < channels; ++c)
            y[r * channels + c] = row[c] * inv_rms * scale[c];
    }
    return y;
}

std::vector<double> add(std::span<const double> a, std::span<const double> b) {
    return elementwise_binary(a, b, "add rhs", [](double p, double q) { return p + q; });
}

std::vector<double> mul(std::span<const double> a, std::span<const double> b) {
    return elementwise_binary(a, b, "mul rhs", [](double p, double q) { return p * q; });
}

std::vector<double> sigmoid(std::span<const double> x) {
    std::vector<double> y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = sigmoid_scalar(x[i]);
    return y;
}

std::vector<double> silu(std::span<const double> x) {
    std::vector<double> y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * sigmoid_scalar(x[i]);
    return y;
}

std::vector<double> sin_freq(std::span<const double> x, std::size_t rows,
                             std::size_t channels, std::span<const double> freq) {
    expect_size(x.size(), checked_mul(rows, channels), "sin_freq x");
    expect_size(freq.size(), channels, "sin_freq freq");
    std::vector<double> y(x.size());
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < channels; ++c)
            y[r * channels + c] = std::sin(freq[c] * x[r * channels + c]);
    return y;
}

std::vector<double> exp_decay(std::span<const double> h, std::size_t length,
                              std::size_t channels, std::span<const double> positions,
                              std::span<const double> deltas, double shift) {
    expect_size(h.size(), checked_mul(length, channels), "exp_decay h");
    expect_size(positions.size(), length, "exp_decay positions");
    expect_size(deltas.size(), channels, "exp_decay deltas");
    std::vector<double> y(h.size());
    for (std::size_t t = 0; t < length; ++t)
        for (std::size_t c = 0; c < channels; ++c)
            y[t * channels + c] =
                h[t * channels + c] * (std::exp(-positions[t] * std::abs(deltas[c])) + shift);
    return y;
}

std::vector<double> gate_slice(std::span<const double> y, std::size_t rows,
                               std::size_t channels, std::span<const double> p,
                               std::size_t p_cols, std::size_t p_col_offset) {
    expect_size(y.size(), checked_mul(rows, channels), "gate_slice y");
    expect_size(p.size(), checked_mul(rows, p_cols), "gate_slice p");
    if (p_col_offset > p_cols || channels > p_cols - p_col_offset)
        throw std::invalid_argument("hyenavk::ref: gate_slice column window exceeds p_cols");
    std::vector<double> out(y.size());
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < channels; ++c)
            out[r * channels + c] = y[r * channels + c] * p[r * p_cols + p_col_offset + c];
    return out;
}

std::vector<double> gather_rows(std::span<const double> x, std::size_t rows,
                                std::size_t channels, std::span<const std::uint32_t> indices) {
    expect_size(x.size(), checked_mul(rows, channels), "gather_rows x");
    std::vector<double> out(checked_mul(indices.size(), channels));
    for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] >= rows)
            throw std::invalid_argument("hyenavk::ref: gather_rows index " +
                                        std::to_string(indices[i]) + " out of range " +
                                        std::to_string(rows));
        std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(indices[i] * channels), channels,
                    out.begin() + static_cast<std::ptrdiff_t>(i * channels));
    }
    return out;
}

std::vector<double> slice_columns(std::span<const double> x, std::size_t rows,
                                  std::size_t cols, std::size_t col_offset, std::size_t width) {
    expect_size(x.size(), checked_mul(rows, cols), "slice_columns x");
    if (col_offset > cols || width > cols - col_offset)
        throw std::invalid_argument("hyenavk::ref: slice_columns window exceeds cols");
    std::vector<double> out(checked_mul(rows, width));
    for (std::size_t r = 0; r < rows; ++r)
        std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(r * cols + col_offset), width,
                    out.begin() + static_cast<std::ptrdiff_t>(r * width));
    return out;
}

std::vector<double> long_conv_direct(std::span<const double> x, std::size_t batch,
                                     std::size_t length, std::size_t channels,
                                     std::span<const double> h, std::size_t filter_len) {
    validate_long_conv(x, batch, length, channels, h, filter_len);
    std::vector<double> y(x.size(), 0.0);
    for (std::size_t b = 0; b < batch; ++b) {
        const std::size_t base = b * length * channels;
        for (std::size_t t = 0; t < length; ++t) {
            const std::size_t last_tap = std::min(t + 1, filter_len);
            for (std::size_t c = 0; c < channels; ++c) {
                double acc = 0.0;
                for (std::size_t s = 0; s < last_tap; ++s)
                    acc += h[s * channels + c] * x[base + (t - s) * channels + c];
                y[base + t * channels + c] = acc;
            }
        }
    }
    return y;
}

std::vector<double> long_conv_fft(std::span<const double> x, std::size_t batch,
                                  std::size_t length, std::size_t channels,
                                  std::span<const double> h, std::size_t filter_len) {
    validate_long_conv(x, batch, length, channels, h, filter_len);
    std::vector<double> y(x.size(), 0.0);
    // Taps at s >= L never reach an output, so they do not widen the transform.
    const std::size_t taps = std::min(filter_len, length);
    if (taps == 0 || channels == 0 || batch == 0) return y;

    // Any padded size >= L + taps - 1 makes the circular convolution equal the
    // linear one on the outputs we keep.
    const FftPlan plan(next_pow2(length + taps - 1));
    const std::size_t n = plan.size();

    std::vector<std::complex<double>> work(n);
    std::vector<std::complex<double>> filter_a(n), filter_b(n);

    // Two real channels share one complex transform: channel c_a in the real
    // part, c_b in the imaginary part. An odd last channel pairs with zeros.
    for (std::size_t c_a = 0; c_a < channels; c_a += 2) {
        const std::size_t c_b = c_a + 1;
        const bool has_b = c_b < channels;

        std::fill(work.begin(), work.end(), std::complex<double>{});
        for (std::size_t s = 0; s < taps; ++s)
            work[s] = {h[s * channels + c_a], has_b ? h[s * channels + c_b] : 0.0};
        plan.run(work.data(), false);
        split_real_pair(work, filter_a, filter_b);

        for (std::size_t b = 0; b < batch; ++b) {
            const std::size_t base = b * length * channels;
            std::fill(work.begin(), work.end(), std::complex<double>{});
            for (std::size_t t = 0; t < length; ++t)
                work[t] = {x[base + t * channels + c_a],
                           has_b ? x[base + t * channels + c_b] : 0.0};
            plan.run(work.data(), false);

            // Y = Xa*Ha + i*Xb*Hb, so the inverse holds y_a in the real part and
            // y_b in the imaginary part. Bins k and n-k are read together before
            // either is overwritten.
            for (std::size_t k = 0; k <= n / 2; ++k) {
                const std::size_t mirror = (n - k) % n;
                const std::complex<double> z_k = work[k];
                const std::complex<double> z_m = work[mirror];
                auto combine = [&](std::complex<double> zk, std::complex<double> zm,
                                   std::size_t bin) {
                    const std::complex<double> zmc = std::conj(zm);
                    const double ar = 0.5 * (zk.real() + zmc.real());
                    const double ai = 0.5 * (zk.imag() + zmc.imag());
                    const double br = 0.5 * (zk.imag() - zmc.imag());
                    const double bi = -0.5 * (zk.real() - zmc.real());
                    const double har = filter_a[bin].real(), hai = filter_a[bin].imag();
                    const double hbr = filter_b[bin].real(), hbi = filter_b[bin].imag();
                    const double pa_r = ar * har - ai * hai, pa_i = ar * hai + ai * har;
                    const double pb_r = br * hbr - bi * hbi, pb_i = br * hbi + bi * hbr;
                    return std::complex<double>{pa_r - pb_i, pa_i + pb_r};
                };
                const std::complex<double> y_k = combine(z_k, z_m, k);
                const std::complex<double> y_m = combine(z_m, z_k, mirror);
                work[k] = y_k;
                work[mirror] = y_m;
            }
            plan.run(work.data(), true);

            for (std::size_t t = 0; t < length; ++t) {
                y[base + t * channels + c_a] = work[t].real();
                if (has_b) y[base + t * channels + c_b] = work[t].imag();
            }
        }
    }
    return y;
}

void fft(std::vector<std::complex<double>>& a, bool inverse) {
    const FftPlan plan(a.size());
    plan.run(a.data(), inverse);
}

std::size_t next_pow2(std::size_t n) { return std::bit_ceil(n == 0 ? std::size_t{1} : n); }

double relative_error(std::span<const double> out, std::span<const double> ref) {
    expect_size(out.size(), ref.size(), "relative_error out");
    double max_diff = 0.0;
    double max_ref = 0.0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double diff = std::abs(out[i] - ref[i]);
        if (!std::isfinite(diff)) return std::numeric_limits<double>::infinity();
        max_diff = std::max(max_diff, diff);
        max_ref = std::max(max_ref, std::abs(ref[i]));
    }
    return max_ref == 0.0 ? max_diff : max_diff / max_ref;
}

double relative_error(std::span<const float> out, std::span<const double> ref) {
    const std::vector<double> widened(out.begin(), out.end());
    return relative_error(std::span<const double>(widened), ref);
}

std::vector<double> l1_normalize_rows(std::span<const double> x, std::size_t rows, std::size_t channels) {
    if (x.size() != rows * channels) throw std::invalid_argument("l1_normalize_rows: x must be [rows, channels]");
    std::vector<double> y(x.begin(), x.end());
    for (std::size_t r = 0; r < rows; ++r) {
        double sum = 0;
        for (std::size_t c = 0; c < channels; ++c) sum += std::abs(x[r * channels + c]);
        for (std::size_t c = 0; c < channels; ++c) y[r * channels + c] /= sum;
    }
    return y;
}

}  // namespace hyenavk::ref
