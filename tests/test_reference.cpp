// Checks the double-precision reference against hand-computed cases, so the
// oracle that judges the GPU kernels is itself trustworthy.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

#include "ref/reference.hpp"

namespace ref = hyenavk::ref;

TEST_SUITE_BEGIN("reference");

namespace {

void check_close(const std::vector<double>& actual, const std::vector<double>& expected,
                 double tol = 1e-12) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(actual[i] == doctest::Approx(expected[i]).epsilon(tol));
    }
}

std::vector<double> random_values(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    std::vector<double> v(count);
    for (double& e : v) e = dist(rng);
    return v;
}

std::vector<std::complex<double>> naive_dft(const std::vector<std::complex<double>>& a,
                                            bool inverse) {
    const std::size_t n = a.size();
    const double sign = inverse ? 1.0 : -1.0;
    std::vector<std::complex<double>> out(n);
    for (std::size_t k = 0; k < n; ++k) {
        std::complex<double> acc{};
        for (std::size_t j = 0; j < n; ++j) {
            // Reduce k*j mod n first so the angle stays small and accurate.
            const double angle = sign * 2.0 * std::numbers::pi *
                                 static_cast<double>((k * j) % n) / static_cast<double>(n);
            acc += a[j] * std::polar(1.0, angle);
        }
        out[k] = inverse ? acc / static_cast<double>(n) : acc;
    }
    return out;
}

double max_abs_complex_diff(const std::vector<std::complex<double>>& a,
                            const std::vector<std::complex<double>>& b) {
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    return worst;
}

}  // namespace

TEST_CASE("dense 2x3 by hand, both weight layouts, with and without bias") {
    const std::vector<double> x = {1, 2, 3, 4, 5, 6};  // [2, 3]
    // W(i, o) = [[1, -1], [0, 2], [3, 0.5]]
    const std::vector<double> w_in_out = {1, -1, 0, 2, 3, 0.5};
    const std::vector<double> w_out_in = {1, 0, 3, -1, 2, 0.5};
    const std::vector<double> bias = {0.5, -1};

    check_close(ref::dense(x, 2, 3, w_in_out, ref::WeightLayout::InOut, bias, 2),
                {10.5, 3.5, 22.5, 8});
    check_close(ref::dense(x, 2, 3, w_out_in, ref::WeightLayout::OutIn, bias, 2),
                {10.5, 3.5, 22.5, 8});
    check_close(ref::dense(x, 2, 3, w_in_out, ref::WeightLayout::InOut, {}, 2),
                {10, 4.5, 22, 9});
    // Reading OutIn data as InOut must give a different answer.
    const auto swapped = ref::dense(x, 2, 3, w_out_in, ref::WeightLayout::InOut, {}, 2);
    CHECK(swapped[0] != doctest::Approx(10));

    CHECK_THROWS_AS(ref::dense(x, 2, 3, w_in_out, ref::WeightLayout::InOut, bias, 3),
                    std::invalid_argument);
    CHECK_THROWS_AS(ref::dense(x, 3, 3, w_in_out, ref::WeightLayout::InOut, bias, 2),
                    std::invalid_argument);
}

TEST_CASE("depthwise causal conv with K > L and batches that must not leak") {
    // B = 2, L = 2, C = 2, K = 4: only taps 2 and 3 can reach real samples.
    const std::vector<double> x = {1, 10, 2, 20,  // batch 0
                                   3, 30, 4, 40};  // batch 1
    const std::vector<double> w = {100, 1000, 7, 70, 3, 30, 5, 50};  // [K, C]
    const std::vector<double> bias = {0.25, -0.5};
    // y[t=0] = w[3]*x[0]; y[t=1] = w[3]*x[1] + w[2]*x[0].
    check_close(ref::depthwise_causal_conv(x, 2, 2, 2, w, 4, bias),
                {5.25, 499.5, 13.25, 1299.5,  //
                 15.25, 1499.5, 29.25, 2899.5});
    check_close(ref::depthwise_causal_conv(x, 2, 2, 2, w, 4, {}),
                {5, 500, 13, 1300, 15, 1500, 29, 2900});
}

TEST_CASE("depthwise causal conv K = 3 over a longer sequence") {
    // C = 1, taps (oldest to current) = [1, 2, 3].
    const std::vector<double> x = {1, 2, 3, 4};
    const std::vector<double> w = {1, 2, 3};
    // y[t] = 3 x[t] + 2 x[t-1] + 1 x[t-2]
    check_close(ref::depthwise_causal_conv(x, 1, 4, 1, w, 3, {}), {3, 8, 14, 20});
    CHECK_THROWS_AS(ref::depthwise_causal_conv(x, 1, 4, 1, w, 2, {}), std::invalid_argument);
}

TEST_CASE("layer_norm: normal row, constant row, and the small-variance clamp") {
    const std::vector<double> gamma = {2, 0.5};
    const std::vector<double> beta = {1, -1};
    const double eps = 1e-5;

    SUBCASE("normal row") {
        // mean 2, var 1
        const double r = 1.0 / std::sqrt(1.0 + eps);
        check_close(ref::layer_norm(std::vector<double>{1, 3}, 1, 2, gamma, beta),
                    {-1.0 * r * 2 + 1, 1.0 * r * 0.5 - 1});
    }
    SUBCASE("constant row gives beta") {
        check_close(ref::layer_norm(std::vector<double>{3, 3}, 1, 2, gamma, beta), {1, -1});
    }
    SUBCASE("variance below eps uses 1/sqrt(eps), not 1/sqrt(var+eps)") {
        // x = [1e-3, -1e-3]: mean 0, var 1e-6 < eps.
        const double r = 1.0 / std::sqrt(eps);
        const auto y = ref::layer_norm(std::vector<double>{1e-3, -1e-3}, 1, 2, gamma, beta);
        check_close(y, {1e-3 * r * 2 + 1, -1e-3 * r * 0.5 - 1});
        const double unclamped = 1e-3 / std::sqrt(1e-6 + eps) * 2 + 1;
        CHECK(y[0] != doctest::Approx(unclamped).epsilon(1e-6));
    }
    SUBCASE("rows are independent") {
        const auto y = ref::layer_norm(std::vector<double>{1, 3, 3, 3}, 2, 2, gamma, beta);
        const double r = 1.0 / std::sqrt(1.0 + eps);
        check_close(y, {-r * 2 + 1, r * 0.5 - 1, 1, -1});
    }
}

TEST_CASE("rms_norm by hand") {
    // x = [3, 4]: mean square 12.5
    const double r = 1.0 / std::sqrt(12.5 + 1e-5);
    check_close(ref::rms_norm(std::vector<double>{3, 4}, 1, 2, std::vector<double>{1, 2}),
                {3 * r, 8 * r});
    // An all-zero row stays zero; the other row uses the custom eps.
    check_close(ref::rms_norm(std::vector<double>{0, 0, 1, -1}, 2, 2,
                              std::vector<double>{1, 1}, 1e-3),
                {0, 0, 1 / std::sqrt(1 + 1e-3), -1 / std::sqrt(1 + 1e-3)});
}

TEST_CASE("element-wise kernels") {
    const std::vector<double> a = {1, -2, 0.5};
    const std::vector<double> b = {4, 3, -2};
    check_close(ref::add(a, b), {5, 1, -1.5});
    check_close(ref::mul(a, b), {4, -6, -1});
    CHECK_THROWS_AS(ref::add(a, std::vector<double>{1, 2}), std::invalid_argument);

    const auto s = ref::sigmoid(std::vector<double>{0, 1, -800, 800});
    CHECK(s[0] == doctest::Approx(0.5));
    CHECK(s[1] == doctest::Approx(0.7310585786300049).epsilon(1e-14));
    CHECK(s[2] == 0.0);
    CHECK(s[3] == 1.0);

    const auto y = ref::silu(std::vector<double>{1, -1, 0, -800});
    CHECK(y[0] == doctest::Approx(0.7310585786300049).epsilon(1e-14));
    CHECK(y[1] == doctest::Approx(-0.2689414213699951).epsilon(1e-14));
    CHECK(y[2] == 0.0);
    CHECK_FALSE(std::isnan(y[3]));

    // sin(freq[c] * x[r, c]) with freq per column.
    check_close(ref::sin_freq(std::vector<double>{1, 2, 3, 4}, 2, 2,
                              std::vector<double>{std::numbers::pi / 2, 0.5}),
                {1, std::sin(1.0), std::sin(3 * std::numbers::pi / 2), std::sin(2.0)});
}

TEST_CASE("exp_decay uses |delta| and adds the shift inside") {
    const std::vector<double> h = {1, 2, 3, 4};  // [L=2, C=2]
    const std::vector<double> positions = {0, 1};
    const std::vector<double> deltas = {-0.5, 2};
    check_close(ref::exp_decay(h, 2, 2, positions, deltas, 0.1),
                {1.1, 2.2, 3 * (std::exp(-0.5) + 0.1), 4 * (std::exp(-2.0) + 0.1)});
}

TEST_CASE("gate_slice, gather_rows, slice_columns") {
    // p is [2, 5]; gate with columns 2..3.
    const std::vector<double> p = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14};
    const std::vector<double> y = {1, 2, 3, 4};
    check_close(ref::gate_slice(y, 2, 2, p, 5, 2), {2, 6, 36, 52});
    CHECK_THROWS_AS(ref::gate_slice(y, 2, 2, p, 5, 4), std::invalid_argument);

    const std::vector<double> table = {0, 1, 10, 11, 20, 21};  // [3, 2]
    check_close(ref::gather_rows(table, 3, 2, std::vector<std::uint32_t>{2, 0, 2}),
                {20, 21, 0, 1, 20, 21});
    CHECK_THROWS_AS(ref::gather_rows(table, 3, 2, std::vector<std::uint32_t>{3}),
                    std::invalid_argument);

    check_close(ref::slice_columns(p, 2, 5, 1, 3), {1, 2, 3, 11, 12, 13});
    CHECK(ref::slice_columns(p, 2, 5, 5, 0).empty());
    CHECK_THROWS_AS(ref::slice_columns(p, 2, 5, 3, 3), std::invalid_argument);
}

TEST_CASE("next_pow2") {
    CHECK(ref::next_pow2(0) == 1);
    CHECK(ref::next_pow2(1) == 1);
    CHECK(ref::next_pow2(2) == 2);
    CHECK(ref::next_pow2(3) == 4);
    CHECK(ref::next_pow2(1000) == 1024);
    CHECK(ref::next_pow2(1024) == 1024);
    CHECK(ref::next_pow2(1025) == 2048);
}

TEST_CASE("fft matches a naive DFT, forward and inverse") {
    for (std::size_t n : {1u, 2u, 4u, 8u, 16u, 64u, 512u}) {
        CAPTURE(n);
        const auto re = random_values(n, 100 + n);
        const auto im = random_values(n, 200 + n);
        std::vector<std::complex<double>> a(n);
        for (std::size_t i = 0; i < n; ++i) a[i] = {re[i], im[i]};

        auto forward = a;
        ref::fft(forward, false);
        CHECK(max_abs_complex_diff(forward, naive_dft(a, false)) < 1e-12 * static_cast<double>(n));

        auto inverse = a;
        ref::fft(inverse, true);
        CHECK(max_abs_complex_diff(inverse, naive_dft(a, true)) < 1e-13);

        ref::fft(forward, true);
        CHECK(max_abs_complex_diff(forward, a) < 1e-14);
    }

    // A unit impulse at index 1 gives exp(-2*pi*i*k/n), which pins the sign convention.
    std::vector<std::complex<double>> impulse(8);
    impulse[1] = 1.0;
    ref::fft(impulse, false);
    CHECK(impulse[2].real() == doctest::Approx(0.0));
    CHECK(impulse[2].imag() == doctest::Approx(-1.0));

    std::vector<std::complex<double>> bad(6);
    CHECK_THROWS_AS(ref::fft(bad, false), std::invalid_argument);
}

TEST_CASE("long_conv_direct by hand") {
    // C = 1, h = [1, 2], x = ones -> y = [1, 3, 3, 3]
    check_close(ref::long_conv_direct(std::vector<double>{1, 1, 1, 1}, 1, 4, 1,
                                      std::vector<double>{1, 2}, 2),
                {1, 3, 3, 3});
    // B = 2, L = 2, C = 2, S = 2; h = [[1, 10], [2, 20]]. Batch 1 must not see batch 0.
    const std::vector<double> x = {1, 2, 3, 4,  // batch 0: t0 = [1, 2], t1 = [3, 4]
                                   5, 6, 7, 8};
    check_close(ref::long_conv_direct(x, 2, 2, 2, std::vector<double>{1, 10, 2, 20}, 2),
                {1, 20, 3 + 2, 40 + 40,  //
                 5, 60, 7 + 10, 80 + 120});
}

TEST_CASE("long_conv_fft agrees with long_conv_direct on ragged sizes") {
    struct Shape {
        std::size_t batch, length, channels, filter_len;
    };
    const Shape shapes[] = {
        {1, 1, 1, 1},   {1, 1, 3, 4},    {1, 7, 2, 3},     {2, 7, 3, 3},   {1, 100, 2, 100},
        {2, 37, 3, 50}, {1, 37, 4, 50},  {3, 129, 5, 17},  {1, 64, 1, 64}, {1, 5, 2, 0},
        {1, 1000, 2, 1000},
    };
    std::uint64_t seed = 1;
    for (const Shape& s : shapes) {
        CAPTURE(s.batch);
        CAPTURE(s.length);
        CAPTURE(s.channels);
        CAPTURE(s.filter_len);
        const auto x = random_values(s.batch * s.length * s.channels, seed++);
        const auto h = random_values(s.filter_len * s.channels, seed++);
        const auto direct = ref::long_conv_direct(x, s.batch, s.length, s.channels, h, s.filter_len);
        const auto fast = ref::long_conv_fft(x, s.batch, s.length, s.channels, h, s.filter_len);
        CHECK(ref::relative_error(fast, direct) < 1e-12);
    }

    // The FFT path must not be a copy of the input or zero: compare with the hand case.
    check_close(ref::long_conv_fft(std::vector<double>{1, 1, 1, 1}, 1, 4, 1,
                                   std::vector<double>{1, 2}, 2),
                {1, 3, 3, 3});
    CHECK_THROWS_AS(ref::long_conv_fft(std::vector<double>{1, 2}, 1, 2, 1,
                                       std::vector<double>{1}, 2),
                    std::invalid_argument);
}

TEST_CASE("relative_error") {
    const std::vector<double> r = {1, -2};
    CHECK(ref::relative_error(std::vector<float>{1.0f, -2.5f}, r) == doctest::Approx(0.25));
    CHECK(ref::relative_error(std::vector<double>{1, -2}, r) == 0.0);
    // All-zero reference falls back to absolute error.
    CHECK(ref::relative_error(std::vector<float>{0.5f, 0.0f}, std::vector<double>{0, 0}) ==
          doctest::Approx(0.5));
    // NaN output must never pass a tolerance.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK(std::isinf(ref::relative_error(std::vector<float>{nan, -2.0f}, r)));
    CHECK_THROWS_AS(ref::relative_error(std::vector<float>{1.0f}, r), std::invalid_argument);
}

TEST_SUITE_END();
