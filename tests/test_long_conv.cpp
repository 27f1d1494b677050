// The FFT long convolution against the direct double-precision convolution: every output for moderate sizes,
// sampled positions at 2^20 steps; plans and filter spectra reused; device limits reported by name.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "fft/long_conv.hpp"
#include "fft/vkfft_plan.hpp"
#include "ref/reference.hpp"
#include "diagnostics/error_bounds.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedTensor;

namespace {

constexpr double kBound = diag::kLongConvBound;

struct Case {
    uint32_t batch, length, channels, taps;
};

std::vector<float> convolve_on_gpu(detail::ContextImpl& ctx, const Case& c, const std::vector<float>& x,
                                   const std::vector<float>& h, bool* canaries_ok = nullptr) {
    GuardedTensor gx(ctx, x), gh(ctx, h), out(ctx, x.size());
    fft::LongConv conv(ctx, c.batch, c.length, c.channels, c.taps);
    const auto spectrum = conv.make_spectrum();
    test::run_once(ctx, [&](gpu::Recorder& r) {
        conv.record_filter_spectrum(r, gh.view(c.taps, c.channels), spectrum);
        conv.record(r, out.view(c.batch * c.length, c.channels), gx.view(c.batch * c.length, c.channels), spectrum);
    });
    if (canaries_ok) *canaries_ok = out.canaries_intact() && gx.canaries_intact();
    return out.read();
}

}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("smooth FFT sizes") {
    CHECK(fft::smooth_size(1) == 2);
    CHECK(fft::smooth_size(2) == 2);
    CHECK(fft::smooth_size(11) == 12);
    CHECK(fft::smooth_size(121) == 126);      // 2 * 3^2 * 7
    CHECK(fft::smooth_size(2047) == 2048);
    CHECK(fft::smooth_size(2 * 1048576 - 1) == 2 * 1048576);
}

TEST_CASE("long convolution equals the direct convolution at every output") {
    auto& ctx = test::context().impl();
    const Case cases[] = {
        {1, 1, 1, 1},     {2, 7, 3, 3},     {1, 100, 5, 100}, {3, 37, 4, 50},  // S > L
        {2, 97, 6, 20},   {1, 1000, 8, 1000}, {2, 1021, 3, 7},  {1, 5, 2, 64},  // prime L, S >> L
    };
    for (const Case& c : cases) {
        CAPTURE(c.batch);
        CAPTURE(c.length);
        CAPTURE(c.channels);
        CAPTURE(c.taps);
        const auto x = test::random_floats(size_t(c.batch) * c.length * c.channels, 11);
        const auto h = test::random_floats(size_t(c.taps) * c.channels, 12);
        bool canaries = false;
        const auto y = convolve_on_gpu(ctx, c, x, h, &canaries);
        const auto expected = ref::long_conv_direct(test::to_double(x), c.batch, c.length, c.channels,
                                                    test::to_double(h), c.taps);
        CHECK(ref::relative_error(y, expected) <= kBound);
        CHECK(canaries);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("long convolution at 2^20 steps, sampled positions against the direct sum") {
    auto& ctx = test::context().impl();
    const Case c{1, 1u << 20, 8, 1u << 20};
    const auto x = test::random_floats(size_t(c.length) * c.channels, 21);
    // A decaying filter, as Hyena's are, so that late outputs are not dominated by rounding noise.
    auto h = test::random_floats(size_t(c.taps) * c.channels, 22);
    for (uint32_t s = 0; s < c.taps; ++s)
        for (uint32_t ch = 0; ch < c.channels; ++ch) h[size_t(s) * c.channels + ch] *= std::exp(-1e-5f * float(s));
    const auto y = convolve_on_gpu(ctx, c, x, h);
    double max_err = 0, max_ref = 0;
    const uint32_t positions[] = {0, 1, 2, 1000, 65535, 65536, 300001, 777777, (1u << 20) - 2, (1u << 20) - 1};
    for (uint32_t t : positions)
        for (uint32_t ch = 0; ch < c.channels; ++ch) {
            double sum = 0;
            for (uint32_t s = 0; s <= t; ++s) sum += double(h[size_t(s) * c.channels + ch]) * x[size_t(t - s) * c.channels + ch];
            max_err = std::max(max_err, std::abs(sum - y[size_t(t) * c.channels + ch]));
            max_ref = std::max(max_ref, std::abs(sum));
        }
    MESSAGE("2^20-step long convolution, sampled relative error " << max_err / max_ref);
    CHECK(max_err / max_ref <= kBound);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("filter spectrum computed once, plans reused across recordings") {
    auto& ctx = test::context().impl();
    const Case c{2, 300, 5, 120};
    const auto h = test::random_floats(size_t(c.taps) * c.channels, 31);
    GuardedTensor gh(ctx, h), out(ctx, size_t(c.batch) * c.length * c.channels);
    fft::LongConv conv(ctx, c.batch, c.length, c.channels, c.taps);
    const auto spectrum = conv.make_spectrum();
    test::run_once(ctx, [&](gpu::Recorder& r) { conv.record_filter_spectrum(r, gh.view(c.taps, c.channels), spectrum); });
    const size_t plans = ctx.fft_plans.created_count();
    for (uint32_t seed : {41u, 42u}) {
        const auto x = test::random_floats(size_t(c.batch) * c.length * c.channels, seed);
        GuardedTensor gx(ctx, x);
        test::run_once(ctx, [&](gpu::Recorder& r) {
            conv.record(r, out.view(c.batch * c.length, c.channels), gx.view(c.batch * c.length, c.channels), spectrum);
        });
        const auto expected =
            ref::long_conv_direct(test::to_double(x), c.batch, c.length, c.channels, test::to_double(h), c.taps);
        CHECK(ref::relative_error(out.read(), expected) <= kBound);
    }
    // One more plan at most: the workspace's (the spectrum's was made above).
    CHECK(ctx.fft_plans.created_count() <= plans + 1);
    const size_t after = ctx.fft_plans.created_count();
    {
        GuardedTensor gx(ctx, test::random_floats(size_t(c.batch) * c.length * c.channels, 43));
        test::run_once(ctx, [&](gpu::Recorder& r) {
            conv.record(r, out.view(c.batch * c.length, c.channels), gx.view(c.batch * c.length, c.channels), spectrum);
        });
    }
    CHECK(ctx.fft_plans.created_count() == after);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("a long convolution beyond the storage-buffer range is an error naming the limit") {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.max_storage_buffer_range = 1 << 20;
    Context small = Context::create(options);
    CHECK_THROWS_WITH_AS(fft::LongConv(small.impl(), 1, 1 << 16, 8, 1 << 16), doctest::Contains("maxStorageBufferRange"),
                         Error);
    CHECK_NOTHROW(fft::LongConv(small.impl(), 1, 1 << 10, 8, 1 << 10));
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
