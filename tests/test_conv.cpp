// Short causal depthwise convolution against the double-precision reference: batches that must not leak
// into each other, filters longer than the sequence, a long sequence, column slices, with and without bias.
#include <doctest/doctest.h>

#include "ops/conv.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kDepthwiseConvBound;

struct Shape {
    uint32_t batch, length, channels, taps;
};
const Shape kShapes[] = {{1, 1, 1, 1}, {1, 1, 3, 4},  {3, 5, 7, 9},     {2, 37, 13, 4},
                         {4, 100, 64, 3}, {5, 2, 1, 3}, {1, 70000, 5, 4}};
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("depthwise causal conv: batches, K > L, a long sequence, with and without bias") {
    auto& ctx = test::context().impl();
    uint32_t seed = 200;
    for (const Shape s : kShapes) {
        for (const bool with_bias : {false, true}) {
            CAPTURE(s.batch);
            CAPTURE(s.length);
            CAPTURE(s.channels);
            CAPTURE(s.taps);
            CAPTURE(with_bias);
            const uint32_t rows = s.batch * s.length, C = s.channels;
            const auto x = test::random_floats(size_t(rows) * C, ++seed);
            const auto w = test::random_floats(size_t(s.taps) * C, ++seed);
            const auto bias = test::random_floats(C, ++seed);
            GuardedTensor gx(ctx, x), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(rows) * C);
            const auto bv = gb.view(1, C);
            test::run_once(ctx, [&](gpu::Recorder& r) {
                ops::depthwise_causal_conv(r, out.view(rows, C), gx.view(rows, C), s.batch, s.length,
                                           gw.view(s.taps, C), s.taps, with_bias ? &bv : nullptr);
            });
            const auto expected =
                ref::depthwise_causal_conv(test::to_double(x), s.batch, s.length, C, test::to_double(w), s.taps,
                                           with_bias ? test::to_double(bias) : std::vector<double>{});
            CHECK(ref::relative_error(out.read(), expected) <= kBound);
            CHECK(out.canaries_intact());
        }
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("depthwise causal conv: column slices and strided columns of wider tensors") {
    auto& ctx = test::context().impl();
    const uint32_t batch = 3, length = 17, C = 6, K = 3, x_cols = 3 * C, x_first = 1, out_cols = C + 4, out_first = 2;
    const uint32_t rows = batch * length;
    const auto x = test::random_floats(size_t(rows) * x_cols, 300);
    const auto w = test::random_floats(size_t(K) * C, 301);
    const auto before = test::random_floats(size_t(rows) * out_cols, 302);
    GuardedTensor gx(ctx, x), gw(ctx, w), out(ctx, before);
    // x is every second column of the wide tensor, starting at x_first; out a plain column slice.
    ops::View xv = gx.view(rows, x_cols).columns(x_first, C);
    xv.col_stride = 2;
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::depthwise_causal_conv(r, out.view(rows, out_cols).columns(out_first, C), xv, batch, length,
                                   gw.view(K, C), K);
    });
    std::vector<double> x_used(size_t(rows) * C);
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < C; ++c) x_used[size_t(r) * C + c] = x[size_t(r) * x_cols + x_first + 2 * c];
    const auto expected = ref::depthwise_causal_conv(x_used, batch, length, C, test::to_double(w), K, {});
    std::vector<double> expected_all = test::to_double(before);  // untouched outside the slice
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < C; ++c) expected_all[size_t(r) * out_cols + out_first + c] = expected[size_t(r) * C + c];
    CHECK(ref::relative_error(out.read(), expected_all) <= kBound);
    CHECK(out.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("depthwise causal conv: mismatched shapes are refused") {
    auto& ctx = test::context().impl();
    GuardedTensor x(ctx, 2 * 5 * 3), w(ctx, 4 * 3), out(ctx, 2 * 5 * 3);
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    // batch * length does not match the rows.
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 3, 5, w.view(4, 3), 4), Error);
    // The filter has fewer taps than claimed.
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 2, 5, w.view(3, 3), 4), Error);
    // No taps.
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 2, 5, w.view(0, 3), 0), Error);
    // A bias of the wrong width.
    const auto bias = w.view(1, 2);
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 2, 5, w.view(4, 3), 4, &bias),
                    Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
