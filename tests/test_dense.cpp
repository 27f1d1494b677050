// Dense layer against the double-precision reference: ragged and degenerate shapes, both weight layouts,
// with and without bias, and column slices of wider tensors as input and output.
#include <doctest/doctest.h>

#include "ops/dense.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kDenseBound;

struct Shape {
    uint32_t M, K, N;
};
const Shape kShapes[] = {{1, 1, 1},   {1, 7, 1},    {1, 1, 9},    {13, 1, 17},   {5, 3, 1},
                         {37, 61, 5}, {97, 89, 101}, {257, 31, 130}, {300, 300, 300}};

ref::WeightLayout to_ref(ops::WeightLayout l) {
    return l == ops::WeightLayout::InOut ? ref::WeightLayout::InOut : ref::WeightLayout::OutIn;
}
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("dense: ragged shapes, both weight layouts, with and without bias") {
    auto& ctx = test::context().impl();
    uint32_t seed = 100;
    for (const Shape s : kShapes) {
        for (const auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
            for (const bool with_bias : {false, true}) {
                CAPTURE(s.M);
                CAPTURE(s.K);
                CAPTURE(s.N);
                CAPTURE(static_cast<int>(layout));
                CAPTURE(with_bias);
                const auto a = test::random_floats(size_t(s.M) * s.K, ++seed);
                const auto w = test::random_floats(size_t(s.K) * s.N, ++seed);
                const auto bias = test::random_floats(s.N, ++seed);
                GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(s.M) * s.N);
                const auto wv = layout == ops::WeightLayout::InOut ? gw.view(s.K, s.N) : gw.view(s.N, s.K);
                const auto bv = gb.view(1, s.N);
                test::run_once(ctx, [&](gpu::Recorder& r) {
                    ops::dense(r, out.view(s.M, s.N), ga.view(s.M, s.K), wv, layout, with_bias ? &bv : nullptr);
                });
                const auto expected = ref::dense(test::to_double(a), s.M, s.K, test::to_double(w), to_ref(layout),
                                                 with_bias ? test::to_double(bias) : std::vector<double>{}, s.N);
                CHECK(ref::relative_error(out.read(), expected) <= kBound);
                CHECK(out.canaries_intact());
            }
        }
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: column slices of wider tensors as input and output") {
    auto& ctx = test::context().impl();
    const uint32_t M = 23, K = 19, N = 11, a_cols = 3 * K + 2, out_cols = N + 9, a_first = K + 1, out_first = 5;
    const auto a = test::random_floats(size_t(M) * a_cols, 7);
    const auto w = test::random_floats(size_t(K) * N, 8);
    const auto bias = test::random_floats(N, 9);
    const auto before = test::random_floats(size_t(M) * out_cols, 10);  // columns outside the slice keep these
    for (const auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
        CAPTURE(static_cast<int>(layout));
        GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, before);
        const auto wv = layout == ops::WeightLayout::InOut ? gw.view(K, N) : gw.view(N, K);
        const auto bv = gb.view(1, N);
        test::run_once(ctx, [&](gpu::Recorder& r) {
            ops::dense(r, out.view(M, out_cols).columns(out_first, N), ga.view(M, a_cols).columns(a_first, K), wv,
                       layout, &bv);
        });
        const auto a_slice = ref::slice_columns(test::to_double(a), M, a_cols, a_first, K);
        const auto expected = ref::dense(a_slice, M, K, test::to_double(w), to_ref(layout), test::to_double(bias), N);
        const auto got = out.read();
        const std::vector<float> got_slice = [&] {
            std::vector<float> v;
            for (uint32_t r = 0; r < M; ++r)
                for (uint32_t c = 0; c < N; ++c) v.push_back(got[size_t(r) * out_cols + out_first + c]);
            return v;
        }();
        CHECK(ref::relative_error(got_slice, expected) <= kBound);
        bool others_kept = true;
        for (uint32_t r = 0; r < M; ++r)
            for (uint32_t c = 0; c < out_cols; ++c)
                if ((c < out_first || c >= out_first + N) && got[size_t(r) * out_cols + c] != before[size_t(r) * out_cols + c])
                    others_kept = false;
        CHECK(others_kept);
        CHECK(out.canaries_intact());
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: transposed views (column stride other than 1)") {
    auto& ctx = test::context().impl();
    const uint32_t M = 14, K = 9, N = 6;
    const auto at = test::random_floats(size_t(K) * M, 11);  // a stored [K, M]
    const auto w = test::random_floats(size_t(K) * N, 12);
    GuardedTensor ga(ctx, at), gw(ctx, w), out(ctx, size_t(N) * M);  // out stored [N, M]
    const ops::View a_view{ga.allocation().slice(), M, K, GuardedTensor::kCanaryFloats, 1, M};
    const ops::View out_view{out.allocation().slice(), M, N, GuardedTensor::kCanaryFloats, 1, M};
    test::run_once(ctx, [&](gpu::Recorder& r) { ops::dense(r, out_view, a_view, gw.view(K, N), ops::WeightLayout::InOut); });
    std::vector<double> a(size_t(M) * K);
    for (uint32_t m = 0; m < M; ++m)
        for (uint32_t k = 0; k < K; ++k) a[size_t(m) * K + k] = at[size_t(k) * M + m];
    const auto expected = ref::dense(a, M, K, test::to_double(w), ref::WeightLayout::InOut, {}, N);
    const auto got = out.read();
    std::vector<float> got_mn(size_t(M) * N);
    for (uint32_t m = 0; m < M; ++m)
        for (uint32_t n = 0; n < N; ++n) got_mn[size_t(m) * N + n] = got[size_t(n) * M + m];
    CHECK(ref::relative_error(got_mn, expected) <= kBound);
    CHECK(out.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: mismatched shapes are refused before recording") {
    auto& ctx = test::context().impl();
    GuardedTensor a(ctx, 6 * 4), w(ctx, 4 * 3), wide(ctx, 4 * 5), out(ctx, 6 * 3);
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    // W [in, out] given as [out, in].
    CHECK_THROWS_AS(ops::dense(rec, out.view(6, 3), a.view(6, 4), w.view(3, 4), ops::WeightLayout::InOut), Error);
    // out with the wrong number of rows.
    CHECK_THROWS_AS(ops::dense(rec, out.view(5, 3), a.view(6, 4), w.view(4, 3), ops::WeightLayout::InOut), Error);
    // A bias of the wrong width.
    const auto short_bias = w.view(1, 2);
    CHECK_THROWS_AS(ops::dense(rec, out.view(6, 3), a.view(6, 4), w.view(4, 3), ops::WeightLayout::InOut, &short_bias),
                    Error);
    // A weight view that is not contiguous.
    CHECK_THROWS_AS(
        ops::dense(rec, out.view(6, 3), a.view(6, 4), wide.view(4, 5).columns(0, 3), ops::WeightLayout::InOut), Error);
    // An input view reaching past its buffer.
    auto too_long = a.view(6, 4);
    too_long.offset += 1000;
    CHECK_THROWS_AS(ops::dense(rec, out.view(6, 3), too_long, w.view(4, 3), ops::WeightLayout::InOut), Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
