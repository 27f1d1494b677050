// Short causal depthwise convolution against the double-precision reference: batches that must not leak
// into each other, filters longer than the sequence, a long sequence, column slices, with and without bias,
// sequences computed chunk by chunk with halo rows, and fp16 storage.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "ops/conv.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedHalfTensor;
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
    // out and x with different row counts.
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(9, 3), x.view(10, 3), 2, 5, w.view(4, 3), 4), Error);
    // A first step past the sequence, and sequences of no steps.
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 2, 5, w.view(4, 3), 4, nullptr, 5),
                    Error);
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 2, 0, w.view(4, 3), 4), Error);
    // A chunk at step 3 whose x has no room for the 3 halo rows before it.
    const ops::View x_at_0{x.allocation().slice(), 10, 3, 0, 3, 1};
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x_at_0, 2, 5, w.view(4, 3), 4, nullptr, 3), Error);
    // Mixed element types.
    GuardedHalfTensor w16(ctx, 4 * 3);
    CHECK_THROWS_AS(ops::depthwise_causal_conv(rec, out.view(10, 3), x.view(10, 3), 2, 5, w16.view(4, 3), 4), Error);
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

TEST_CASE("depthwise causal conv: chunks with first_step and halo rows equal the one-shot result exactly") {
    auto& ctx = test::context().impl();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // Chunk boundaries fall inside sequences, on them, and chunks are shorter and longer than the filter.
    const Shape shapes[] = {{3, 37, 13, 4}, {2, 5, 3, 9}, {1, 300, 8, 3}, {4, 16, 5, 1}};
    const uint32_t chunk_sizes[] = {7, 1, 13, 40, 2};
    uint32_t seed = 1300;
    for (const Shape s : shapes) {
        CAPTURE(s.batch);
        CAPTURE(s.length);
        CAPTURE(s.channels);
        CAPTURE(s.taps);
        const uint32_t rows = s.batch * s.length, C = s.channels, K = s.taps;
        const auto x = test::random_floats(size_t(rows) * C, ++seed);
        const auto w = test::random_floats(size_t(K) * C, ++seed);
        const auto bias = test::random_floats(C, ++seed);
        GuardedTensor gx(ctx, x), gw(ctx, w), gb(ctx, bias), whole(ctx, size_t(rows) * C), chunked(ctx, size_t(rows) * C);
        const auto bv = gb.view(1, C);
        test::run_once(ctx, [&](gpu::Recorder& r) {
            ops::depthwise_causal_conv(r, whole.view(rows, C), gx.view(rows, C), s.batch, s.length, gw.view(K, C), K,
                                       &bv);
        });
        uint32_t g = 0;
        for (size_t i = 0; g < rows; ++i) {
            const uint32_t n = std::min(chunk_sizes[i % std::size(chunk_sizes)], rows - g);
            const uint32_t first_step = g % s.length;
            CAPTURE(g);
            CAPTURE(first_step);
            // The chunk's inputs in their own buffer after K - 1 halo rows: the previous inputs of this
            // sequence, and NaN where the halo reaches before the sequence (the kernel must skip those).
            std::vector<float> buf(size_t(K - 1 + n) * C, nan);
            for (uint32_t j = 0; j < K - 1 + n; ++j) {
                const int64_t src = int64_t(g) - int64_t(K - 1) + j;
                if (src >= int64_t(g) - int64_t(first_step))
                    std::copy_n(x.begin() + src * C, C, buf.begin() + size_t(j) * C);
            }
            GuardedTensor gc(ctx, buf);
            const auto xv = gc.view(K - 1 + n, C).rows_range(K - 1, n);
            test::run_once(ctx, [&](gpu::Recorder& r) {
                ops::depthwise_causal_conv(r, chunked.view(rows, C).rows_range(g, n), xv, s.batch, s.length,
                                           gw.view(K, C), K, &bv, first_step);
            });
            g += n;
        }
        const auto expected = ref::depthwise_causal_conv(test::to_double(x), s.batch, s.length, C, test::to_double(w),
                                                         K, test::to_double(bias));
        const auto one_shot = whole.read(), by_chunks = chunked.read();
        CHECK(ref::relative_error(one_shot, expected) <= kBound);
        CHECK(by_chunks == one_shot);  // the same fp32 operations in the same order: bit for bit
        CHECK(chunked.canaries_intact());
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("depthwise causal conv on fp16 storage, whole sequences and a chunk with halo rows") {
    auto& ctx = test::context().impl();
    if (!test::has_f16_storage(ctx)) {
        MESSAGE("the device has no 16-bit storage buffers: fp16 variants not tested");
        return;
    }
    constexpr double kF16Bound = test::kF16StoreBound;
    uint32_t seed = 1400;
    for (const Shape s : kShapes) {
        for (const bool with_bias : {false, true}) {
            CAPTURE(s.batch);
            CAPTURE(s.length);
            CAPTURE(s.channels);
            CAPTURE(s.taps);
            CAPTURE(with_bias);
            const uint32_t rows = s.batch * s.length, C = s.channels;
            // The reference sees exactly what the device holds: the inputs rounded to half.
            const auto x = test::round_to_half(test::random_floats(size_t(rows) * C, ++seed));
            const auto w = test::round_to_half(test::random_floats(size_t(s.taps) * C, ++seed));
            const auto bias = test::round_to_half(test::random_floats(C, ++seed));
            GuardedHalfTensor gx(ctx, x), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(rows) * C);
            const auto bv = gb.view(1, C);
            test::run_once(ctx, [&](gpu::Recorder& r) {
                ops::depthwise_causal_conv(r, out.view(rows, C), gx.view(rows, C), s.batch, s.length,
                                           gw.view(s.taps, C), s.taps, with_bias ? &bv : nullptr);
            });
            const auto expected =
                ref::depthwise_causal_conv(test::to_double(x), s.batch, s.length, C, test::to_double(w), s.taps,
                                           with_bias ? test::to_double(bias) : std::vector<double>{});
            CHECK(ref::relative_error(out.read(), expected) <= kF16Bound);
            CHECK(out.canaries_intact());
        }
    }
    // The second half of a sequence as a chunk whose halo is the first half, in place in the same tensor.
    const uint32_t L = 64, C = 24, K = 4, half = L / 2;
    const auto x = test::round_to_half(test::random_floats(size_t(L) * C, 1500));
    const auto w = test::round_to_half(test::random_floats(size_t(K) * C, 1501));
    GuardedHalfTensor gx(ctx, x), gw(ctx, w), out(ctx, size_t(L) * C);
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::depthwise_causal_conv(r, out.view(L, C).rows_range(half, half), gx.view(L, C).rows_range(half, half), 1, L,
                                   gw.view(K, C), K, nullptr, half);
    });
    const auto expected = ref::depthwise_causal_conv(test::to_double(x), 1, L, C, test::to_double(w), K, {});
    const auto got = out.read();
    const std::vector<float> got_tail(got.begin() + size_t(half) * C, got.end());
    const std::vector<double> expected_tail(expected.begin() + size_t(half) * C, expected.end());
    CHECK(ref::relative_error(got_tail, expected_tail) <= kF16Bound);
    CHECK(std::all_of(got.begin(), got.begin() + size_t(half) * C, [](float v) { return v == 0.0f; }));
    CHECK(out.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
