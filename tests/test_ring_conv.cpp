// The streaming convolution against the double-precision reference: streams that joined at different steps,
// filters in both tap orders, rings larger than the filter and full of stale values, many pushes past the
// filter's reach.
// Each push's output must equal the last step of a whole-history convolution of that stream.
#include <doctest/doctest.h>

#include <bit>
#include <vector>

#include "diagnostics/error_bounds.hpp"
#include "ops/ring_conv.hpp"
#include "ref/reference.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
using test::GuardedTensor;

namespace {

struct Case {
    uint32_t streams, channels, taps, capacity;
    ops::TapOrder order;
    bool bias;
};

// The last row of a causal convolution over one stream's whole history [t, C], with w in lag order.
std::vector<double> expected_row(const std::vector<double>& history, uint32_t C, const std::vector<double>& w_lag,
                                 uint32_t taps, const std::vector<double>& bias) {
    const size_t t = history.size() / C;
    const auto all = ref::long_conv_direct(history, 1, t, C, w_lag, taps);
    std::vector<double> row(all.end() - C, all.end());
    for (uint32_t c = 0; c < C && !bias.empty(); ++c) row[c] += bias[c];
    return row;
}

}  // namespace

TEST_SUITE_BEGIN("kernels");

TEST_CASE("ring causal conv: streams joined at different steps equal whole-history convolutions") {
    auto& ctx = test::context().impl();
    const Case cases[] = {{3, 12, 4, 4, ops::TapOrder::Tap, true},
                          {5, 7, 9, 9, ops::TapOrder::Lag, false},
                          {2, 64, 3, 8, ops::TapOrder::Lag, true},
                          {1, 5, 1, 1, ops::TapOrder::Tap, false}};
    uint32_t seed = 900;
    for (const Case k : cases) {
        CAPTURE(k.streams);
        CAPTURE(k.channels);
        CAPTURE(k.taps);
        CAPTURE(k.capacity);
        const uint32_t S = k.streams, C = k.channels;
        const auto w = test::random_floats(size_t(k.taps) * C, ++seed);
        const auto bias = test::random_floats(C, ++seed);
        // The reference takes the filter in lag order.
        std::vector<double> w_lag(w.size());
        for (uint32_t lag = 0; lag < k.taps; ++lag)
            for (uint32_t c = 0; c < C; ++c) {
                const uint32_t row = k.order == ops::TapOrder::Tap ? k.taps - 1 - lag : lag;
                w_lag[size_t(lag) * C + c] = w[size_t(row) * C + c];
            }
        // The ring starts full of stale values (a stream's earlier life): no tap may reach them.
        const auto stale = test::random_floats(size_t(S) * k.capacity * C, ++seed);
        GuardedTensor gw(ctx, w), gb(ctx, bias), ring(ctx, stale), out(ctx, size_t(S) * C);
        const auto bv = gb.view(1, C);
        // Stream s joins at push s: until then it is not advanced (its step stays 0 and its output is ignored).
        std::vector<std::vector<double>> history(S);
        std::vector<uint32_t> steps(S, 0);
        double worst = 0;
        const uint32_t pushes = 3 * k.taps + 5;
        for (uint32_t push = 0; push < pushes; ++push) {
            const auto x = test::random_floats(size_t(S) * C, ++seed);
            std::vector<float> step_bits(S);
            for (uint32_t s = 0; s < S; ++s) step_bits[s] = std::bit_cast<float>(steps[s]);
            GuardedTensor gx(ctx, x), gsteps(ctx, step_bits);
            test::run_once(ctx, [&](gpu::Recorder& r) {
                ops::ring_causal_conv(r, out.view(S, C), gx.view(S, C), ring.view(S * k.capacity, C), k.capacity,
                                      gsteps.view(1, S), gw.view(k.taps, C), k.taps, k.order,
                                      k.bias ? &bv : nullptr);
            });
            const auto got = out.read();
            for (uint32_t s = 0; s < S; ++s) {
                if (s > push) continue;  // not joined yet: the ring slot it wrote is overwritten on joining
                history[s].insert(history[s].end(), x.begin() + size_t(s) * C, x.begin() + size_t(s + 1) * C);
                const auto want = expected_row(history[s], C, w_lag, k.taps,
                                               k.bias ? test::to_double(bias) : std::vector<double>{});
                worst = std::max(worst, ref::relative_error(std::span<const float>(got).subspan(size_t(s) * C, C), want));
                ++steps[s];
            }
            CHECK(out.canaries_intact());
            CHECK(ring.canaries_intact());
        }
        INFO("worst relative error over " << pushes << " pushes: " << worst);
        CHECK(worst <= diag::kLongConvBound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("ring causal conv: a ring smaller than the filter and short steps are refused") {
    auto& ctx = test::context().impl();
    GuardedTensor x(ctx, 2 * 4), out(ctx, 2 * 4), ring(ctx, 2 * 4 * 4), w(ctx, 4 * 4), steps(ctx, 2);
    CHECK_THROWS_WITH_AS(test::run_once(ctx, [&](gpu::Recorder& r) {
                             ops::ring_causal_conv(r, out.view(2, 4), x.view(2, 4), ring.view(6, 4), 3,
                                                   steps.view(1, 2), w.view(4, 4), 4, ops::TapOrder::Lag);
                         }),
                         doctest::Contains("cannot hold 4 taps"), Error);
    CHECK_THROWS_WITH_AS(test::run_once(ctx, [&](gpu::Recorder& r) {
                             ops::ring_causal_conv(r, out.view(2, 4), x.view(2, 4), ring.view(8, 4), 4,
                                                   steps.view(1, 1), w.view(4, 4), 4, ops::TapOrder::Lag);
                         }),
                         doctest::Contains("steps"), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
