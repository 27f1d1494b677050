// Dense layer against the double-precision reference: ragged and degenerate shapes, both weight layouts,
// with and without bias, and column slices of wider tensors as input and output. Every case runs with both
// kernels: the one the shared context picks (the subgroup kernel on a CPU driver such as lavapipe) and the
// plain kernel, on a second context whose subgroup operations are switched off.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "ops/dense.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedHalfTensor;
using test::GuardedTensor;

namespace {
constexpr double kBound = diag::kDenseBound;

struct Shape {
    uint32_t M, K, N;
};
// The subgroup kernel's tile is 32 rows (8 or 16 for at most 16 rows) by 8 * lanes columns (64 with 8 lanes),
// in steps of 4 along K: the later shapes sit on and around those edges (K = 1 to 5, N not a multiple of 4, rows and columns one past a
// tile).
const Shape kShapes[] = {{1, 1, 1},    {1, 7, 1},     {1, 1, 9},     {13, 1, 17},  {5, 3, 1},
                         {37, 61, 5},  {97, 89, 101}, {257, 31, 130}, {300, 300, 300},
                         {32, 64, 64}, {33, 4, 65},   {31, 5, 63},   {64, 8, 128}, {65, 12, 70},
                         {7, 2, 66},   {40, 287, 256}, {128, 3, 4},  {3, 260, 33},
                         // up to 16 rows take the short tile (8 rows, or the subgroup size if larger)
                         {16, 64, 130}, {17, 9, 70},  {9, 33, 64}};

ref::WeightLayout to_ref(ops::WeightLayout l) {
    return l == ops::WeightLayout::InOut ? ref::WeightLayout::InOut : ref::WeightLayout::OutIn;
}

const char* name(ops::DenseKernel k) {
    switch (k) {
        case ops::DenseKernel::Plain: return "plain";
        case ops::DenseKernel::Subgroup: return "subgroup";
        default: return "auto";
    }
}

// Runs `body(ctx)` on the shared context (whichever kernel it picks) and on a validated context with the
// subgroup operations switched off (the plain kernel).
template <class Body>
void for_each_kernel(Body&& body) {
    {
        auto& ctx = test::context().impl();
        const std::string kernel = name(ops::dense_kernel_for(ctx.device->info()));
        CAPTURE(kernel);
        body(ctx);
    }
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.disable_subgroup_ops = true;
    Context plain = Context::create(options);
    REQUIRE(ops::dense_kernel_for(plain.device()) == ops::DenseKernel::Plain);
    const std::string kernel = "plain";
    CAPTURE(kernel);
    body(plain.impl());
}

std::vector<float> columns_of(const std::vector<float>& m, uint32_t rows, uint32_t cols, uint32_t first,
                              uint32_t width) {
    std::vector<float> v;
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < width; ++c) v.push_back(m[size_t(r) * cols + first + c]);
    return v;
}
}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("dense: the subgroup kernel is chosen only where the device supports it") {
    const DeviceInfo& device = test::context().device();
    const DeviceCaps& caps = device.caps;
    const bool fits = device.type == DeviceType::Cpu && caps.subgroup_basic && caps.subgroup_shuffle &&
                      (caps.subgroup_size == 4 || caps.subgroup_size == 8 || caps.subgroup_size == 16);
    CHECK(ops::dense_subgroup_supported(device) == fits);
    MESSAGE("dense on " << device.name << ": " << std::string(name(ops::dense_kernel_for(device))) << " kernel");

    DeviceInfo other = device;
    other.caps.subgroup_shuffle = false;
    CHECK(ops::dense_kernel_for(other) == ops::DenseKernel::Plain);
    other = device;
    other.caps.subgroup_size = 32;
    CHECK(ops::dense_kernel_for(other) == ops::DenseKernel::Plain);
    other = device;
    other.type = DeviceType::DiscreteGpu;
    CHECK(ops::dense_kernel_for(other) == ops::DenseKernel::Plain);

    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.disable_subgroup_ops = true;
    Context plain = Context::create(options);
    CHECK(ops::dense_kernel_for(plain.device()) == ops::DenseKernel::Plain);
    GuardedTensor a(plain.impl(), 4 * 4), w(plain.impl(), 4 * 4), out(plain.impl(), 4 * 4);
    gpu::Recorder rec(*plain.impl().device, plain.impl().pipelines);
    try {
        ops::dense(rec, out.view(4, 4), a.view(4, 4), w.view(4, 4), ops::WeightLayout::InOut, nullptr,
                   ops::DenseKernel::Subgroup);
        FAIL("forcing the subgroup kernel without subgroup operations was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::Unsupported);
    }
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: ragged shapes, both weight layouts, with and without bias") {
    for_each_kernel([](detail::ContextImpl& ctx) {
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
                    const auto expected =
                        ref::dense(test::to_double(a), s.M, s.K, test::to_double(w), to_ref(layout),
                                   with_bias ? test::to_double(bias) : std::vector<double>{}, s.N);
                    CHECK(ref::relative_error(out.read(), expected) <= kBound);
                    CHECK(out.canaries_intact());
                }
            }
        }
    });
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: column slices of wider tensors as input and output") {
    struct Slices {
        uint32_t M, K, N, a_cols, a_first, out_cols, out_first;
    };
    // The first case has unaligned offsets and strides; the second keeps every row of a and out on
    // multiples of 4 floats, as 4-wide loads and stores need.
    const Slices cases[] = {{23, 19, 11, 3 * 19 + 2, 19 + 1, 11 + 9, 5}, {37, 24, 68, 56, 8, 80, 4}};
    for_each_kernel([&](detail::ContextImpl& ctx) {
        for (const Slices& c : cases) {
            const auto a = test::random_floats(size_t(c.M) * c.a_cols, 7);
            const auto w = test::random_floats(size_t(c.K) * c.N, 8);
            const auto bias = test::random_floats(c.N, 9);
            const auto before = test::random_floats(size_t(c.M) * c.out_cols, 10);  // columns outside keep these
            for (const auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
                CAPTURE(c.K);
                CAPTURE(static_cast<int>(layout));
                GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, before);
                const auto wv = layout == ops::WeightLayout::InOut ? gw.view(c.K, c.N) : gw.view(c.N, c.K);
                const auto bv = gb.view(1, c.N);
                test::run_once(ctx, [&](gpu::Recorder& r) {
                    ops::dense(r, out.view(c.M, c.out_cols).columns(c.out_first, c.N),
                               ga.view(c.M, c.a_cols).columns(c.a_first, c.K), wv, layout, &bv);
                });
                const auto a_slice = ref::slice_columns(test::to_double(a), c.M, c.a_cols, c.a_first, c.K);
                const auto expected =
                    ref::dense(a_slice, c.M, c.K, test::to_double(w), to_ref(layout), test::to_double(bias), c.N);
                const auto got = out.read();
                CHECK(ref::relative_error(columns_of(got, c.M, c.out_cols, c.out_first, c.N), expected) <= kBound);
                bool others_kept = true;
                for (uint32_t r = 0; r < c.M; ++r)
                    for (uint32_t col = 0; col < c.out_cols; ++col)
                        if ((col < c.out_first || col >= c.out_first + c.N) &&
                            got[size_t(r) * c.out_cols + col] != before[size_t(r) * c.out_cols + col])
                            others_kept = false;
                CHECK(others_kept);
                CHECK(out.canaries_intact());
            }
        }
    });
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense epilogues: a residual, a silu gate and a sigmoid gate over what out holds, on slices") {
    // out is a column slice of a wider tensor: aligned (4-wide stores) and unaligned (scalar stores).
    struct Slices {
        uint32_t M, K, N, out_cols, out_first;
    };
    const Slices cases[] = {{37, 24, 68, 80, 4}, {23, 19, 11, 20, 5}, {70, 9, 130, 130, 0}};
    const ops::DenseEpilogue epilogues[] = {ops::DenseEpilogue::Accumulate, ops::DenseEpilogue::SiluGate,
                                            ops::DenseEpilogue::SigmoidGated};
    for_each_kernel([&](detail::ContextImpl& ctx) {
        uint32_t seed = 1500;
        for (const Slices& c : cases) {
            for (const ops::DenseEpilogue epilogue : epilogues) {
                CAPTURE(c.M);
                CAPTURE(c.N);
                CAPTURE(static_cast<int>(epilogue));
                const auto a = test::random_floats(size_t(c.M) * c.K, ++seed);
                const auto w = test::random_floats(size_t(c.K) * c.N, ++seed);
                const auto bias = test::random_floats(c.N, ++seed);
                const auto before = test::random_floats(size_t(c.M) * c.out_cols, ++seed, -3.0f, 3.0f);
                GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, before);
                const auto bv = gb.view(1, c.N);
                test::run_once(ctx, [&](gpu::Recorder& r) {
                    ops::dense(r, out.view(c.M, c.out_cols).columns(c.out_first, c.N), ga.view(c.M, c.K),
                               gw.view(c.K, c.N), ops::WeightLayout::InOut, &bv, ops::DenseKernel::Auto, epilogue);
                });
                const auto v = ref::dense(test::to_double(a), c.M, c.K, test::to_double(w), ref::WeightLayout::InOut,
                                          test::to_double(bias), c.N);
                const auto o = test::to_double(columns_of(before, c.M, c.out_cols, c.out_first, c.N));
                std::vector<double> expected(v.size());
                for (size_t i = 0; i < v.size(); ++i) {
                    switch (epilogue) {
                        case ops::DenseEpilogue::Accumulate: expected[i] = o[i] + v[i]; break;
                        case ops::DenseEpilogue::SiluGate: expected[i] = v[i] / (1.0 + std::exp(-v[i])) * o[i]; break;
                        default: expected[i] = v[i] / (1.0 + std::exp(-o[i])); break;
                    }
                }
                const auto got = out.read();
                CHECK(ref::relative_error(columns_of(got, c.M, c.out_cols, c.out_first, c.N), expected) <= kBound);
                bool others_kept = true;
                for (uint32_t r = 0; r < c.M; ++r)
                    for (uint32_t col = 0; col < c.out_cols; ++col)
                        if ((col < c.out_first || col >= c.out_first + c.N) &&
                            got[size_t(r) * c.out_cols + col] != before[size_t(r) * c.out_cols + col])
                            others_kept = false;
                CHECK(others_kept);
                CHECK(out.canaries_intact());
            }
        }
        if (test::has_f16_storage(ctx)) {  // one fp16 case: the epilogue reads half and stores half
            const uint32_t M = 33, K = 16, N = 64;
            const auto a = test::round_to_half(test::random_floats(size_t(M) * K, 1601));
            const auto w = test::round_to_half(test::random_floats(size_t(K) * N, 1602));
            const auto before = test::round_to_half(test::random_floats(size_t(M) * N, 1603));
            GuardedHalfTensor ga(ctx, a), gw(ctx, w), out(ctx, before);
            test::run_once(ctx, [&](gpu::Recorder& r) {
                ops::dense(r, out.view(M, N), ga.view(M, K), gw.view(K, N), ops::WeightLayout::InOut, nullptr,
                           ops::DenseKernel::Auto, ops::DenseEpilogue::Accumulate);
            });
            const auto expected = ref::add(ref::dense(test::to_double(a), M, K, test::to_double(w),
                                                      ref::WeightLayout::InOut, {}, N),
                                           test::to_double(before));
            CHECK(ref::relative_error(out.read(), expected) <= test::kF16StoreBound);
        }
    });
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: weights and bias at offsets that are not multiples of 4") {
    const uint32_t M = 35, K = 12, N = 20, shift = 3;
    for_each_kernel([&](detail::ContextImpl& ctx) {
        const auto a = test::random_floats(size_t(M) * K, 21);
        const auto w = test::random_floats(size_t(K) * N + shift, 22);
        const auto bias = test::random_floats(N + shift, 23);
        for (const auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
            CAPTURE(static_cast<int>(layout));
            GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(M) * N);
            auto wv = layout == ops::WeightLayout::InOut ? gw.view(K, N) : gw.view(N, K);
            wv.offset += shift;
            auto bv = gb.view(1, N);
            bv.offset += shift;
            test::run_once(ctx, [&](gpu::Recorder& r) {
                ops::dense(r, out.view(M, N), ga.view(M, K), wv, layout, &bv);
            });
            const std::vector<double> w_used(w.begin() + shift, w.end()), b_used(bias.begin() + shift, bias.end());
            const auto expected = ref::dense(test::to_double(a), M, K, w_used, to_ref(layout), b_used, N);
            CHECK(ref::relative_error(out.read(), expected) <= kBound);
            CHECK(out.canaries_intact());
        }
    });
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: transposed views (column stride other than 1)") {
    const uint32_t M = 14, K = 9, N = 6;
    for_each_kernel([&](detail::ContextImpl& ctx) {
        const auto at = test::random_floats(size_t(K) * M, 11);  // a stored [K, M]
        const auto w = test::random_floats(size_t(K) * N, 12);
        GuardedTensor ga(ctx, at), gw(ctx, w), out(ctx, size_t(N) * M);  // out stored [N, M]
        const ops::View a_view{ga.allocation().slice(), M, K, GuardedTensor::kCanaryFloats, 1, M};
        const ops::View out_view{out.allocation().slice(), M, N, GuardedTensor::kCanaryFloats, 1, M};
        test::run_once(ctx, [&](gpu::Recorder& r) {
            ops::dense(r, out_view, a_view, gw.view(K, N), ops::WeightLayout::InOut);
        });
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
    });
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: a row broadcast as input") {
    const uint32_t M = 41, K = 16, N = 36;
    for_each_kernel([&](detail::ContextImpl& ctx) {
        const auto row = test::random_floats(K, 31);
        const auto w = test::random_floats(size_t(K) * N, 32);
        GuardedTensor ga(ctx, row), gw(ctx, w), out(ctx, size_t(M) * N);
        auto a_view = ga.view(1, K);
        a_view.rows = M;
        a_view.row_stride = 0;
        test::run_once(ctx, [&](gpu::Recorder& r) {
            ops::dense(r, out.view(M, N), a_view, gw.view(K, N), ops::WeightLayout::InOut);
        });
        std::vector<double> a;
        for (uint32_t m = 0; m < M; ++m) a.insert(a.end(), row.begin(), row.end());
        const auto expected = ref::dense(a, M, K, test::to_double(w), ref::WeightLayout::InOut, {}, N);
        CHECK(ref::relative_error(out.read(), expected) <= kBound);
        CHECK(out.canaries_intact());
    });
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

TEST_CASE("dense on fp16 storage: ragged shapes, both layouts, slices with and without 4-wide access") {
    for_each_kernel([](detail::ContextImpl& ctx) {
        if (!test::has_f16_storage(ctx)) {
            MESSAGE("the device has no 16-bit storage buffers: fp16 variants not tested");
            return;
        }
        constexpr double kF16Bound = test::kF16StoreBound;
        uint32_t seed = 1100;
        bool with_bias = false;
        for (const Shape s : kShapes) {
            for (const auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
                with_bias = !with_bias;
                CAPTURE(s.M);
                CAPTURE(s.K);
                CAPTURE(s.N);
                CAPTURE(static_cast<int>(layout));
                CAPTURE(with_bias);
                // The reference sees exactly what the device holds: the inputs rounded to half.
                const auto a = test::round_to_half(test::random_floats(size_t(s.M) * s.K, ++seed));
                const auto w = test::round_to_half(test::random_floats(size_t(s.K) * s.N, ++seed));
                const auto bias = test::round_to_half(test::random_floats(s.N, ++seed));
                GuardedHalfTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(s.M) * s.N);
                const auto wv = layout == ops::WeightLayout::InOut ? gw.view(s.K, s.N) : gw.view(s.N, s.K);
                const auto bv = gb.view(1, s.N);
                test::run_once(ctx, [&](gpu::Recorder& r) {
                    ops::dense(r, out.view(s.M, s.N), ga.view(s.M, s.K), wv, layout, with_bias ? &bv : nullptr);
                });
                const auto expected = ref::dense(test::to_double(a), s.M, s.K, test::to_double(w), to_ref(layout),
                                                 with_bias ? test::to_double(bias) : std::vector<double>{}, s.N);
                CHECK(ref::relative_error(out.read(), expected) <= kF16Bound);
                CHECK(out.canaries_intact());
            }
        }
        // Column slices: unaligned (scalar loads) and aligned to 4 elements (4-wide loads and stores).
        struct Slices {
            uint32_t M, K, N, a_cols, a_first, out_cols, out_first;
        };
        const Slices cases[] = {{23, 19, 11, 3 * 19 + 2, 19 + 1, 11 + 9, 5}, {37, 24, 68, 56, 8, 80, 4}};
        for (const Slices& c : cases) {
            const auto a = test::round_to_half(test::random_floats(size_t(c.M) * c.a_cols, 1201));
            const auto w = test::round_to_half(test::random_floats(size_t(c.K) * c.N, 1202));
            const auto bias = test::round_to_half(test::random_floats(c.N, 1203));
            for (const auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
                CAPTURE(c.K);
                CAPTURE(static_cast<int>(layout));
                GuardedHalfTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(c.M) * c.out_cols);
                const auto wv = layout == ops::WeightLayout::InOut ? gw.view(c.K, c.N) : gw.view(c.N, c.K);
                const auto bv = gb.view(1, c.N);
                test::run_once(ctx, [&](gpu::Recorder& r) {
                    ops::dense(r, out.view(c.M, c.out_cols).columns(c.out_first, c.N),
                               ga.view(c.M, c.a_cols).columns(c.a_first, c.K), wv, layout, &bv);
                });
                const auto a_slice = ref::slice_columns(test::to_double(a), c.M, c.a_cols, c.a_first, c.K);
                const auto expected =
                    ref::dense(a_slice, c.M, c.K, test::to_double(w), to_ref(layout), test::to_double(bias), c.N);
                const auto got = out.read();
                CHECK(ref::relative_error(columns_of(got, c.M, c.out_cols, c.out_first, c.N), expected) <= kF16Bound);
                bool others_kept = true;  // zeros outside the slice
                for (uint32_t r = 0; r < c.M; ++r)
                    for (uint32_t col = 0; col < c.out_cols; ++col)
                        if ((col < c.out_first || col >= c.out_first + c.N) && got[size_t(r) * c.out_cols + col] != 0.0f)
                            others_kept = false;
                CHECK(others_kept);
                CHECK(out.canaries_intact());
            }
        }
    });
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("dense: mixed element types are refused") {
    auto& ctx = test::context().impl();
    GuardedTensor a(ctx, 6 * 4), out(ctx, 6 * 3);
    GuardedHalfTensor w(ctx, 4 * 3), b(ctx, 3);
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    CHECK_THROWS_AS(ops::dense(rec, out.view(6, 3), a.view(6, 4), w.view(4, 3), ops::WeightLayout::InOut), Error);
    GuardedTensor w32(ctx, 4 * 3);
    const auto bias = b.view(1, 3);
    CHECK_THROWS_AS(ops::dense(rec, out.view(6, 3), a.view(6, 4), w32.view(4, 3), ops::WeightLayout::InOut, &bias),
                    Error);
    CHECK(rec.finish().dispatch_count() == 0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
