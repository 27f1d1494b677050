// Row gather (embedding lookup) against the reference: repeats, first and last rows, one row, one column,
// a column-slice output, indices at an unaligned offset, and out-of-range ids that must stay in bounds.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>

#include "ops/gather.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedHalfTensor;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kGatherBound;

// Index words stored in a guarded tensor (its canaries then also cover the index buffer).
std::vector<float> as_words(const std::vector<uint32_t>& idx) {
    std::vector<float> v(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) v[i] = std::bit_cast<float>(idx[i]);
    return v;
}

// The slice holding `count` indices that start `first` words into the guarded tensor.
gpu::BufferSlice index_slice(const GuardedTensor& t, uint32_t first, uint32_t count) {
    return t.allocation().slice().sub((GuardedTensor::kCanaryFloats + first) * sizeof(uint32_t),
                                      count * sizeof(uint32_t));
}
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("gather_rows: repeats, edges, ragged widths") {
    auto& ctx = test::context().impl();
    struct Case {
        uint32_t rows, cols;
        std::vector<uint32_t> idx;
    };
    const Case cases[] = {
        {1, 1, {0}},
        {1, 5, {0, 0, 0}},
        {7, 1, {6, 0, 3, 3}},
        {50, 13, {49, 0, 17, 17, 2, 49, 1}},
        {1000, 64, [] {
             std::vector<uint32_t> v(3001);
             for (size_t i = 0; i < v.size(); ++i) v[i] = uint32_t((i * 7919) % 1000);
             return v;
         }()},
    };
    uint32_t seed = 800;
    for (const Case& c : cases) {
        CAPTURE(c.rows);
        CAPTURE(c.cols);
        const uint32_t n = uint32_t(c.idx.size());
        const auto x = test::random_floats(size_t(c.rows) * c.cols, ++seed);
        GuardedTensor gx(ctx, x), gi(ctx, as_words(c.idx)), out(ctx, size_t(n) * c.cols);
        test::run_once(ctx, [&](gpu::Recorder& r) {
            ops::gather_rows(r, out.view(n, c.cols), gx.view(c.rows, c.cols), index_slice(gi, 0, n), n);
        });
        CHECK(ref::relative_error(out.read(), ref::gather_rows(test::to_double(x), c.rows, c.cols, c.idx)) <= kBound);
        CHECK(out.canaries_intact());
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("gather_rows: column-slice output, unaligned index offset, out-of-range ids clamped") {
    auto& ctx = test::context().impl();
    const uint32_t rows = 11, C = 9, out_cols = C + 5, first_col = 3;
    const std::vector<uint32_t> words = {999, 4, 10, 11, 0xffffffffu, 0, 7};  // word 0 is skipped
    const uint32_t first = 1, n = uint32_t(words.size()) - first;              // 4 bytes past an aligned offset
    const auto x = test::random_floats(size_t(rows) * C, 900);
    GuardedTensor gx(ctx, x), gi(ctx, as_words(words)), out(ctx, size_t(n) * out_cols);
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::gather_rows(r, out.view(n, out_cols).columns(first_col, C), gx.view(rows, C), index_slice(gi, first, n),
                         n);
    });
    // Ids past the table read its last row.
    std::vector<uint32_t> clamped(words.begin() + first, words.end());
    for (uint32_t& i : clamped) i = std::min(i, rows - 1);
    const auto expected = ref::gather_rows(test::to_double(x), rows, C, clamped);
    std::vector<double> expected_all(size_t(n) * out_cols, 0.0);
    for (uint32_t r = 0; r < n; ++r)
        for (uint32_t c = 0; c < C; ++c) expected_all[size_t(r) * out_cols + first_col + c] = expected[size_t(r) * C + c];
    CHECK(ref::relative_error(out.read(), expected_all) <= kBound);
    CHECK(out.canaries_intact());
    CHECK(gx.canaries_intact());
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("gather_rows: mismatched shapes are refused") {
    auto& ctx = test::context().impl();
    GuardedTensor x(ctx, 4 * 3), idx(ctx, 8), out(ctx, 8 * 3);
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    CHECK_THROWS_AS(ops::gather_rows(rec, out.view(8, 2), x.view(4, 3), index_slice(idx, 0, 8), 8), Error);
    CHECK_THROWS_AS(ops::gather_rows(rec, out.view(8, 3), x.view(4, 3), index_slice(idx, 0, 7), 8), Error);
    CHECK_THROWS_AS(ops::gather_rows(rec, out.view(8, 3), x.view(0, 3), index_slice(idx, 0, 8), 8), Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("gather_rows on fp16 storage: an exact copy, column-slice output, clamped ids") {
    auto& ctx = test::context().impl();
    if (!test::has_f16_storage(ctx)) {
        MESSAGE("the device has no 16-bit storage buffers: fp16 variants not tested");
        return;
    }
    const uint32_t rows = 50, C = 13, out_cols = C + 3, first_col = 1;
    const std::vector<uint32_t> idx = {49, 0, 17, 17, 2, 49, 1, 1000};  // the last id reads row 49
    const uint32_t n = uint32_t(idx.size());
    const auto x = test::round_to_half(test::random_floats(size_t(rows) * C, 1800));
    GuardedHalfTensor gx(ctx, x), out(ctx, size_t(n) * out_cols);
    GuardedTensor gi(ctx, as_words(idx));
    test::run_once(ctx, [&](gpu::Recorder& r) {
        ops::gather_rows(r, out.view(n, out_cols).columns(first_col, C), gx.view(rows, C), index_slice(gi, 0, n), n);
    });
    std::vector<uint32_t> clamped(idx);
    for (uint32_t& i : clamped) i = std::min(i, rows - 1);
    const auto expected = ref::gather_rows(test::to_double(x), rows, C, clamped);
    std::vector<double> expected_all(size_t(n) * out_cols, 0.0);
    for (uint32_t r = 0; r < n; ++r)
        for (uint32_t c = 0; c < C; ++c) expected_all[size_t(r) * out_cols + first_col + c] = expected[size_t(r) * C + c];
    CHECK(ref::relative_error(out.read(), expected_all) == 0.0);  // halves copied as they are
    CHECK(out.canaries_intact());

    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    GuardedTensor x32(ctx, size_t(rows) * C);  // mixed element types are refused
    CHECK_THROWS_AS(ops::gather_rows(rec, out.view(n, C), x32.view(rows, C), index_slice(gi, 0, n), n), Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
