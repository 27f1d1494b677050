// LayerNorm (with Axon's variance clamp) and RMSNorm against the double-precision reference: ragged widths,
// more rows than one dispatch has workgroups, constant rows, rows below the clamp, rows far from zero.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "ops/norm.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedHalfTensor;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kNormBound;

struct Shape {
    uint32_t rows, cols;
};
// 70000 rows is more than the 65535 workgroups one dispatch may have: rows are revisited by a stride.
const Shape kShapes[] = {{1, 1}, {1, 7}, {13, 64}, {5, 65}, {3, 1000}, {2, 4099}, {70000, 7}};

enum class Norm { Layer, Rms };

// Runs one norm over x [rows, C] (in place when asked) and returns its relative error.
double norm_error(Norm norm, const std::vector<float>& x, uint32_t rows, uint32_t C, uint32_t seed, float eps = 1e-5f,
                  bool in_place = false, detail::ContextImpl& ctx = test::context().impl()) {
    const auto gamma = test::random_floats(C, seed, 0.5f, 2.0f), beta = test::random_floats(C, seed + 1);
    GuardedTensor gx(ctx, x), gg(ctx, gamma), gb(ctx, beta), out(ctx, x.size());
    GuardedTensor& dst = in_place ? gx : out;
    test::run_once(ctx, [&](gpu::Recorder& r) {
        if (norm == Norm::Layer)
            ops::layer_norm(r, dst.view(rows, C), gx.view(rows, C), gg.view(1, C), gb.view(1, C), eps);
        else
            ops::rms_norm(r, dst.view(rows, C), gx.view(rows, C), gg.view(1, C), eps);
    });
    const auto expected = norm == Norm::Layer
                              ? ref::layer_norm(test::to_double(x), rows, C, test::to_double(gamma),
                                                test::to_double(beta), double(eps))
                              : ref::rms_norm(test::to_double(x), rows, C, test::to_double(gamma), double(eps));
    CHECK(dst.canaries_intact());
    return ref::relative_error(dst.read(), expected);
}

// rows x C values f(row, col).
std::vector<float> make_rows(uint32_t rows, uint32_t C, const std::function<float(uint32_t, uint32_t)>& f) {
    std::vector<float> v(size_t(rows) * C);
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < C; ++c) v[size_t(r) * C + c] = f(r, c);
    return v;
}
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("layer_norm and rms_norm: ragged widths and many rows") {
    // The default context takes the subgroup kernel where the device has subgroup arithmetic (lavapipe does);
    // a context without subgroup operations takes the workgroup kernel.
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.disable_subgroup_ops = true;
    Context plain = Context::create(options);
    for (detail::ContextImpl* ctx : {&test::context().impl(), &plain.impl()}) {
        uint32_t seed = 400;
        for (const Shape s : kShapes) {
            CAPTURE(s.rows);
            CAPTURE(s.cols);
            CAPTURE(ctx == &plain.impl());
            const auto x = test::random_floats(size_t(s.rows) * s.cols, ++seed, -2.0f, 3.0f);
            CHECK(norm_error(Norm::Layer, x, s.rows, s.cols, ++seed, 1e-5f, false, *ctx) <= kBound);
            CHECK(norm_error(Norm::Rms, x, s.rows, s.cols, ++seed, 1e-5f, false, *ctx) <= kBound);
        }
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("layer_norm: constant rows, rows below the variance clamp, rows with a large mean") {
    const uint32_t rows = 6, C = 333;
    const auto noise = test::random_floats(size_t(rows) * C, 500);
    // Constant rows: var = 0, so y = beta exactly.
    const auto constant = make_rows(rows, C, [](uint32_t r, uint32_t) { return float(r) * 2.5f - 7.0f; });
    CHECK(norm_error(Norm::Layer, constant, rows, C, 501) <= kBound);
    // var about 1.3e-6 < eps: r must be 1/sqrt(eps), not 1/sqrt(var + eps).
    const auto tiny = make_rows(rows, C, [&](uint32_t r, uint32_t c) { return 0.5f + 0.002f * noise[r * C + c]; });
    CHECK(norm_error(Norm::Layer, tiny, rows, C, 502) <= kBound);
    // Variances of 0.5, 0.9, 1.1, 1.5 and 3 eps (rows 0.5 +- a, alternating): the clamp switches between
    // the second and third row.
    const float var_over_eps[] = {0.5f, 0.9f, 1.1f, 1.5f, 3.0f, 0.5f};
    const auto near = make_rows(rows, C + 1, [&](uint32_t r, uint32_t c) {
        const float a = std::sqrt(var_over_eps[r] * 1e-5f);
        return c % 2 ? 0.5f + a : 0.5f - a;
    });
    CHECK(norm_error(Norm::Layer, near, rows, C + 1, 506) <= kBound);
    // The same rows with a larger eps, still clamped.
    CHECK(norm_error(Norm::Layer, tiny, rows, C, 503, 1e-3f) <= kBound);
    // Far from zero: the mean must not swallow the noise (E[x^2] - mean^2 would lose it entirely).
    const auto offset = make_rows(rows, C, [&](uint32_t r, uint32_t c) { return 1000.0f + noise[r * C + c]; });
    CHECK(norm_error(Norm::Layer, offset, rows, C, 504) <= kBound);
    const auto offset_small = make_rows(rows, C, [&](uint32_t r, uint32_t c) {
        return (r % 2 ? -1000.0f : 1000.0f) + 0.05f * noise[r * C + c];
    });
    CHECK(norm_error(Norm::Layer, offset_small, rows, C, 505) <= kBound);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("rms_norm: large values, zero rows, another eps") {
    const uint32_t rows = 5, C = 129;
    const auto noise = test::random_floats(size_t(rows) * C, 600);
    const auto offset = make_rows(rows, C, [&](uint32_t r, uint32_t c) { return 1000.0f + noise[r * C + c]; });
    CHECK(norm_error(Norm::Rms, offset, rows, C, 601) <= kBound);
    const auto zeros = make_rows(rows, C, [](uint32_t, uint32_t) { return 0.0f; });
    CHECK(norm_error(Norm::Rms, zeros, rows, C, 602) <= kBound);
    const auto small = make_rows(rows, C, [&](uint32_t r, uint32_t c) { return 0.01f * noise[r * C + c]; });
    CHECK(norm_error(Norm::Rms, small, rows, C, 603, 1e-3f) <= kBound);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("layer_norm and rms_norm: in place and on column slices") {
    const uint32_t rows = 9, C = 70;
    const auto x = test::random_floats(size_t(rows) * C, 700, -4.0f, 4.0f);
    CHECK(norm_error(Norm::Layer, x, rows, C, 701, 1e-5f, true) <= kBound);
    CHECK(norm_error(Norm::Rms, x, rows, C, 702, 1e-5f, true) <= kBound);

    auto& ctx = test::context().impl();
    const uint32_t wide = 3 * C, first = C + 3, out_cols = C + 1;
    const auto xw = test::random_floats(size_t(rows) * wide, 703);
    const auto gamma = test::random_floats(C, 704), beta = test::random_floats(C, 705);
    GuardedTensor gx(ctx, xw), gg(ctx, gamma), gb(ctx, beta), out(ctx, size_t(rows) * out_cols);
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::layer_norm(r, out.view(rows, out_cols).columns(1, C), gx.view(rows, wide).columns(first, C),
                        gg.view(1, C), gb.view(1, C));
    });
    const auto expected = ref::layer_norm(ref::slice_columns(test::to_double(xw), rows, wide, first, C), rows, C,
                                          test::to_double(gamma), test::to_double(beta));
    std::vector<double> expected_all(size_t(rows) * out_cols, 0.0);  // column 0 stays zero
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < C; ++c) expected_all[size_t(r) * out_cols + 1 + c] = expected[size_t(r) * C + c];
    CHECK(ref::relative_error(out.read(), expected_all) <= kBound);
    CHECK(out.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("l1_normalize_rows: ragged widths, many rows, in place") {
    auto& ctx = test::context().impl();
    for (const Shape s : kShapes) {
        CAPTURE(s.rows);
        CAPTURE(s.cols);
        const auto x = test::random_floats(size_t(s.rows) * s.cols, 77, -3.0f, 1.0f);
        GuardedTensor gx(ctx, x), out(ctx, x.size());
        test::run_once(ctx, [&](gpu::Recorder& r) { ops::l1_normalize_rows(r, out.view(s.rows, s.cols), gx.view(s.rows, s.cols)); });
        const auto expected = ref::l1_normalize_rows(test::to_double(x), s.rows, s.cols);
        CHECK(ref::relative_error(out.read(), expected) <= kBound);
        CHECK(out.canaries_intact());
        test::run_once(ctx, [&](gpu::Recorder& r) { ops::l1_normalize_rows(r, gx.view(s.rows, s.cols), gx.view(s.rows, s.cols)); });
        CHECK(ref::relative_error(gx.read(), expected) <= kBound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("layer_norm and rms_norm: mismatched shapes are refused") {
    auto& ctx = test::context().impl();
    GuardedTensor x(ctx, 4 * 6), g(ctx, 6), out(ctx, 4 * 6);
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    CHECK_THROWS_AS(ops::layer_norm(rec, out.view(4, 5), x.view(4, 6), g.view(1, 6), g.view(1, 6)), Error);
    CHECK_THROWS_AS(ops::layer_norm(rec, out.view(4, 6), x.view(4, 6), g.view(1, 5), g.view(1, 6)), Error);
    CHECK_THROWS_AS(ops::layer_norm(rec, out.view(4, 6), x.view(4, 6), g.view(1, 6), g.view(1, 6), 0.0f), Error);
    CHECK_THROWS_AS(ops::rms_norm(rec, out.view(4, 6), x.view(4, 6), g.view(2, 3)), Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("layer_norm, rms_norm and l1_normalize_rows on fp16 storage") {
    auto& ctx = test::context().impl();
    if (!test::has_f16_storage(ctx)) {
        MESSAGE("the device has no 16-bit storage buffers: fp16 variants not tested");
        return;
    }
    constexpr double kF16Bound = test::kF16StoreBound;
    uint32_t seed = 1600;
    for (const Shape s : kShapes) {
        CAPTURE(s.rows);
        CAPTURE(s.cols);
        const uint32_t rows = s.rows, C = s.cols;
        // The reference sees exactly what the device holds: the inputs rounded to half.
        const auto x = test::round_to_half(test::random_floats(size_t(rows) * C, ++seed, -2.0f, 3.0f));
        const auto gamma = test::round_to_half(test::random_floats(C, ++seed, 0.5f, 2.0f));
        const auto beta = test::round_to_half(test::random_floats(C, ++seed));
        GuardedHalfTensor gx(ctx, x), gg(ctx, gamma), gb(ctx, beta), out(ctx, x.size());
        const auto xd = test::to_double(x), gd = test::to_double(gamma), bd = test::to_double(beta);
        test::run_once(ctx, [&](gpu::Recorder& r) {
            ops::layer_norm(r, out.view(rows, C), gx.view(rows, C), gg.view(1, C), gb.view(1, C));
        });
        CHECK(ref::relative_error(out.read(), ref::layer_norm(xd, rows, C, gd, bd, 1e-5)) <= kF16Bound);
        test::run_once(ctx, [&](gpu::Recorder& r) { ops::rms_norm(r, out.view(rows, C), gx.view(rows, C), gg.view(1, C)); });
        CHECK(ref::relative_error(out.read(), ref::rms_norm(xd, rows, C, gd, 1e-5)) <= kF16Bound);
        CHECK(out.canaries_intact());
        // In place.
        test::run_once(ctx, [&](gpu::Recorder& r) { ops::l1_normalize_rows(r, gx.view(rows, C), gx.view(rows, C)); });
        CHECK(ref::relative_error(gx.read(), ref::l1_normalize_rows(xd, rows, C)) <= kF16Bound);
        CHECK(gx.canaries_intact());
    }
    // A column slice of a wider tensor into a column slice.
    const uint32_t rows = 9, C = 70, wide = 3 * C, first = C + 3, out_cols = C + 1;
    const auto xw = test::round_to_half(test::random_floats(size_t(rows) * wide, 1700));
    const auto gamma = test::round_to_half(test::random_floats(C, 1701)), beta = test::round_to_half(test::random_floats(C, 1702));
    GuardedHalfTensor gx(ctx, xw), gg(ctx, gamma), gb(ctx, beta), out(ctx, size_t(rows) * out_cols);
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::layer_norm(r, out.view(rows, out_cols).columns(1, C), gx.view(rows, wide).columns(first, C),
                        gg.view(1, C), gb.view(1, C));
    });
    const auto expected = ref::layer_norm(ref::slice_columns(test::to_double(xw), rows, wide, first, C), rows, C,
                                          test::to_double(gamma), test::to_double(beta));
    std::vector<double> expected_all(size_t(rows) * out_cols, 0.0);  // column 0 stays zero
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < C; ++c) expected_all[size_t(r) * out_cols + 1 + c] = expected[size_t(r) * C + c];
    CHECK(ref::relative_error(out.read(), expected_all) <= kF16Bound);
    CHECK(out.canaries_intact());

    // Mixed element types are refused.
    GuardedTensor g32(ctx, C);
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    CHECK_THROWS_AS(ops::rms_norm(rec, out.view(rows, C), gx.view(rows, C), g32.view(1, C)), Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
