// Element-wise kernels against the double-precision reference, on ragged shapes and strided views.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "ops/elementwise.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedHalfTensor;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kElementwiseBound;

struct Shape {
    uint32_t rows, cols;
};
// Aligned rows of a multiple of 4 columns take the vec4 path; few long contiguous rows are split into many.
const Shape kShapes[] = {{1, 1}, {1, 7}, {13, 1}, {37, 61}, {1000, 3}, {257, 256}, {16, 12}, {3, 1024}, {1, 4100}};
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("element-wise add, mul, silu, sigmoid, the fused silu * b and a * sigmoid(b), scale") {
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
        check([&](gpu::Recorder& r) { ops::silu_mul(r, o, va, vb); }, ref::mul(ref::silu(ad), bd));
        check([&](gpu::Recorder& r) { ops::mul_sigmoid(r, o, va, vb); }, ref::mul(ad, ref::sigmoid(bd)));
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

TEST_CASE("element-wise on fp16 storage: every op, broadcasts, slices") {
    auto& ctx = test::context().impl();
    if (!test::has_f16_storage(ctx)) {
        MESSAGE("the device has no 16-bit storage buffers: fp16 variants not tested");
        return;
    }
    constexpr double kBound = test::kF16StoreBound;
    for (const Shape s : kShapes) {
        CAPTURE(s.rows);
        CAPTURE(s.cols);
        const size_t n = size_t(s.rows) * s.cols;
        // The reference sees exactly what the device holds: the inputs rounded to half.
        const auto a = test::round_to_half(test::random_floats(n, 11, -8.0f, 8.0f));
        const auto b = test::round_to_half(test::random_floats(n, 12, -3.0f, 3.0f));
        GuardedHalfTensor ga(ctx, a), gb(ctx, b), out(ctx, n);
        const auto ad = test::to_double(a), bd = test::to_double(b);
        auto check = [&](auto&& record, const std::vector<double>& expected, double bound) {
            test::run_once(ctx, record);
            CHECK(ref::relative_error(out.read(), expected) <= bound);
            CHECK(out.canaries_intact());
        };
        const auto o = out.view(s.rows, s.cols), va = ga.view(s.rows, s.cols), vb = gb.view(s.rows, s.cols);
        check([&](gpu::Recorder& r) { ops::copy(r, o, va); }, ad, 0.0);  // half -> float -> half is exact
        check([&](gpu::Recorder& r) { ops::add(r, o, va, vb); }, ref::add(ad, bd), kBound);
        check([&](gpu::Recorder& r) { ops::mul(r, o, va, vb); }, ref::mul(ad, bd), kBound);
        check([&](gpu::Recorder& r) { ops::silu(r, o, va); }, ref::silu(ad), kBound);
        check([&](gpu::Recorder& r) { ops::sigmoid(r, o, va); }, ref::sigmoid(ad), kBound);
        check([&](gpu::Recorder& r) { ops::silu_mul(r, o, va, vb); }, ref::mul(ref::silu(ad), bd), kBound);
        check([&](gpu::Recorder& r) { ops::mul_sigmoid(r, o, va, vb); }, ref::mul(ad, ref::sigmoid(bd)), kBound);
        const std::vector<double> ones(s.cols, 1.0);
        check([&](gpu::Recorder& r) { ops::sin(r, o, va); }, ref::sin_freq(ad, s.rows, s.cols, ones), kBound);
        std::vector<double> scaled(ad);
        for (double& x : scaled) x *= -0.25;
        check([&](gpu::Recorder& r) { ops::scale(r, o, va, -0.25f); }, scaled, kBound);
    }

    // Broadcast operands (row and column broadcasts) and a column slice of a wider tensor.
    const uint32_t L = 101, C = 17, wide = 3 * C;
    const auto x = test::round_to_half(test::random_floats(size_t(L) * wide, 13, -2.0f, 2.0f));
    const auto freq = test::round_to_half(test::random_floats(C, 14, 0.5f, 3.0f));
    const auto deltas = test::round_to_half(test::random_floats(C, 15, -5.0f, 5.0f));
    std::vector<float> t(L);
    for (uint32_t i = 0; i < L; ++i) t[i] = float(i) / float(L - 1);
    t = test::round_to_half(t);
    GuardedHalfTensor gx(ctx, x), gf(ctx, freq), gd(ctx, deltas), gt(ctx, t), out(ctx, size_t(L) * C);
    const auto xs = gx.view(L, wide).columns(C, C);
    const auto x_used = ref::slice_columns(test::to_double(x), L, wide, C, C);
    ops::View freq_rows = gf.view(1, C), d_rows = gd.view(1, C), t_cols = gt.view(L, 1);
    freq_rows.rows = d_rows.rows = L;
    freq_rows.row_stride = d_rows.row_stride = 0;
    t_cols.cols = C;
    t_cols.row_stride = 1;
    t_cols.col_stride = 0;
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::sin_freq(r, out.view(L, C), xs, freq_rows); });
    CHECK(ref::relative_error(out.read(), ref::sin_freq(x_used, L, C, test::to_double(freq))) <= kBound);
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::exp_decay(r, out.view(L, C), xs, t_cols, d_rows, 0.125f); });
    CHECK(ref::relative_error(out.read(), ref::exp_decay(x_used, L, C, test::to_double(t), test::to_double(deltas),
                                                         0.125)) <= kBound);
    // In place on a slice: y = y * y.
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::mul(r, xs, xs, xs); });
    CHECK(ref::relative_error(ref::slice_columns(test::to_double(gx.read()), L, wide, C, C), ref::mul(x_used, x_used)) <=
          kBound);
    CHECK(out.canaries_intact());
    CHECK(gx.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("element-wise: mixed element types and fp16 without 16-bit storage are refused") {
    auto& ctx = test::context().impl();
    GuardedTensor a(ctx, 12), out(ctx, 12);
    {
        GuardedHalfTensor h(ctx, 12);
        gpu::Recorder rec(*ctx.device, ctx.pipelines);
        try {
            ops::add(rec, out.view(3, 4), a.view(3, 4), h.view(3, 4));
            FAIL("an f32 + f16 call was accepted");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::Internal);
        }
        CHECK_THROWS_AS(ops::copy(rec, h.view(3, 4), a.view(3, 4)), Error);
        CHECK(rec.finish().dispatch_count() == 0);
    }
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.disable_16bit = true;
    Context no16 = Context::create(options);
    REQUIRE(!test::has_f16_storage(no16.impl()));
    GuardedHalfTensor h(no16.impl(), 12), ho(no16.impl(), 12);
    gpu::Recorder rec(*no16.impl().device, no16.impl().pipelines);
    try {
        ops::silu(rec, ho.view(3, 4), h.view(3, 4));
        FAIL("an f16 call was accepted without 16-bit storage");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::Unsupported);
        CHECK(std::string(e.what()).find("storageBuffer16BitAccess") != std::string::npos);
    }
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
