// Element-wise kernels against the double-precision reference, on ragged shapes and strided views.
#include <doctest/doctest.h>

#include <cmath>

#include "ops/elementwise.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kElementwiseBound;

struct Shape {
    uint32_t rows, cols;
};
const Shape kShapes[] = {{1, 1}, {1, 7}, {13, 1}, {37, 61}, {1000, 3}, {257, 256}};
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("element-wise add, mul, silu, sigmoid, scale") {
    auto& ctx = test::context().impl();
    for (const Shape s : kShapes) {
        CAPTURE(s.rows);
        CAPTURE(s.cols);
        const size_t n = size_t(s.rows) * s.cols;
        const auto a = test::random_floats(n, 1, -8.0f, 8.0f), b = test::random_floats(n, 2, -3.0f, 3.0f);
        GuardedTensor ga(ctx, a), gb(ctx, b), out(ctx, n);
        const auto ad = test::to_double(a), bd = test::to_double(b);
        auto check = [&](auto&& record, const std::vector<double>& expected) {
            test::run_once(ctx, record);
            CHECK(ref::relative_error(out.read(), expected) <= kBound);
            CHECK(out.canaries_intact());
        };
        const auto o = out.view(s.rows, s.cols), va = ga.view(s.rows, s.cols), vb = gb.view(s.rows, s.cols);
        check([&](gpu::Recorder& r) { ops::add(r, o, va, vb); }, ref::add(ad, bd));
        check([&](gpu::Recorder& r) { ops::mul(r, o, va, vb); }, ref::mul(ad, bd));
        check([&](gpu::Recorder& r) { ops::silu(r, o, va); }, ref::silu(ad));
        check([&](gpu::Recorder& r) { ops::sigmoid(r, o, va); }, ref::sigmoid(ad));
        const std::vector<double> ones(s.cols, 1.0);
        check([&](gpu::Recorder& r) { ops::sin(r, o, va); }, ref::sin_freq(ad, s.rows, s.cols, ones));
        std::vector<double> scaled(ad);
        for (double& x : scaled) x *= -0.25;
        check([&](gpu::Recorder& r) { ops::scale(r, o, va, -0.25f); }, scaled);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("element-wise on strided views: gating by a slice, slices, in place") {
    auto& ctx = test::context().impl();
    const uint32_t rows = 29, h = 11, wide = 3 * h;  // p is [rows, 3H]; gate by its middle third
    const auto y = test::random_floats(size_t(rows) * h, 3), p = test::random_floats(size_t(rows) * wide, 4);
    GuardedTensor gy(ctx, y), gp(ctx, p), out(ctx, size_t(rows) * h);
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::mul(r, out.view(rows, h), gy.view(rows, h), gp.view(rows, wide).columns(h, h));
    });
    CHECK(ref::relative_error(out.read(), ref::gate_slice(test::to_double(y), rows, h, test::to_double(p), wide, h)) <=
          kBound);
    // Slice = copy of a column range.
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::copy(r, out.view(rows, h), gp.view(rows, wide).columns(2 * h, h)); });
    CHECK(ref::relative_error(out.read(), ref::slice_columns(test::to_double(p), rows, wide, 2 * h, h)) == 0.0);
    // In place: y = y + y.
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::add(r, gy.view(rows, h), gy.view(rows, h), gy.view(rows, h)); });
    CHECK(ref::relative_error(gy.read(), ref::add(test::to_double(y), test::to_double(y))) == 0.0);
    CHECK(out.canaries_intact());
    CHECK(gy.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("sin with a frequency vector and the exponential decay window") {
    auto& ctx = test::context().impl();
    const uint32_t L = 101, C = 17;
    const auto x = test::random_floats(size_t(L) * C, 5, -2.0f, 2.0f);
    const auto freq = test::random_floats(C, 6, 0.5f, 3.0f);
    const auto deltas = test::random_floats(C, 7, -5.0f, 5.0f);
    std::vector<float> t(L);
    for (uint32_t i = 0; i < L; ++i) t[i] = float(i) / float(L - 1);
    GuardedTensor gx(ctx, x), gf(ctx, freq), gd(ctx, deltas), gt(ctx, t), out(ctx, size_t(L) * C);
    const ops::View freq_rows{gf.view(1, C).slice, L, C, GuardedTensor::kCanaryFloats, 0, 1};
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::sin_freq(r, out.view(L, C), gx.view(L, C), freq_rows); });
    CHECK(ref::relative_error(out.read(), ref::sin_freq(test::to_double(x), L, C, test::to_double(freq))) <= kBound);

    const ops::View t_cols{gt.view(L, 1).slice, L, C, GuardedTensor::kCanaryFloats, 1, 0};
    const ops::View d_rows{gd.view(1, C).slice, L, C, GuardedTensor::kCanaryFloats, 0, 1};
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::exp_decay(r, out.view(L, C), gx.view(L, C), t_cols, d_rows, 0.125f); });
    CHECK(ref::relative_error(out.read(), ref::exp_decay(test::to_double(x), L, C, test::to_double(t),
                                                         test::to_double(deltas), 0.125)) <= kBound);
    CHECK(out.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
