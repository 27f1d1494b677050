// `hyenavk selftest`: each kernel on a few shapes chosen to break it, against the double-precision reference.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "diagnostics/error_bounds.hpp"
#include "diagnostics/guarded_tensor.hpp"
#include "fft/long_conv.hpp"
#include "hyenavk/diagnostics.hpp"
#include "ops/conv.hpp"
#include "ops/dense.hpp"
#include "ops/elementwise.hpp"
#include "ops/gather.hpp"
#include "ops/norm.hpp"
#include "ref/reference.hpp"

namespace hyenavk {
namespace {

using diag::GuardedTensor;
using diag::random_floats;
using diag::to_double;

// Records with `record`, submits once (drivers may compile shaders at first use), then times a second
// submission and wait. Every kernel here is idempotent, so the second run leaves the same output.
template <class F>
double timed_run(detail::ContextImpl& ctx, F&& record) {
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    record(rec);
    gpu::Plan plan = rec.finish();
    plan.submit();
    const auto start = std::chrono::steady_clock::now();
    plan.submit();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

struct Accumulator {
    KernelCheck check;
    void add(double error, bool canaries, double ms) {
        check.max_error = std::isnan(error) ? INFINITY : std::max(check.max_error, error);
        check.canaries_intact = check.canaries_intact && canaries;
        check.milliseconds = ms;
    }
};

using Report = std::function<void(KernelCheck)>;

void check_elementwise(detail::ContextImpl& ctx, const Report& report) {
    struct Op {
        const char* name;
        void (*gpu)(gpu::Recorder&, const ops::View&, const ops::View&, const ops::View&);
        std::vector<double> (*cpu)(std::span<const double>, std::span<const double>);
    };
    const Op binary[] = {
        {"add", [](gpu::Recorder& r, const ops::View& o, const ops::View& a, const ops::View& b) { ops::add(r, o, a, b); },
         [](std::span<const double> a, std::span<const double> b) { return ref::add(a, b); }},
        {"mul", [](gpu::Recorder& r, const ops::View& o, const ops::View& a, const ops::View& b) { ops::mul(r, o, a, b); },
         [](std::span<const double> a, std::span<const double> b) { return ref::mul(a, b); }},
        {"silu", [](gpu::Recorder& r, const ops::View& o, const ops::View& a, const ops::View&) { ops::silu(r, o, a); },
         [](std::span<const double> a, std::span<const double>) { return ref::silu(a); }},
        {"sigmoid",
         [](gpu::Recorder& r, const ops::View& o, const ops::View& a, const ops::View&) { ops::sigmoid(r, o, a); },
         [](std::span<const double> a, std::span<const double>) { return ref::sigmoid(a); }},
    };
    const uint32_t shapes[][2] = {{1, 1}, {37, 61}, {1000, 3}, {1024, 256}};
    for (const Op& op : binary) {
        Accumulator acc{{op.name, "4 shapes up to 1024x256", 0, diag::kElementwiseBound}};
        for (const auto& s : shapes) {
            const size_t n = size_t(s[0]) * s[1];
            const auto a = random_floats(n, 1, -8, 8), b = random_floats(n, 2, -3, 3);
            GuardedTensor ga(ctx, a), gb(ctx, b), out(ctx, n);
            const double ms = timed_run(ctx, [&](gpu::Recorder& r) {
                op.gpu(r, out.view(s[0], s[1]), ga.view(s[0], s[1]), gb.view(s[0], s[1]));
            });
            acc.add(ref::relative_error(out.read(), op.cpu(to_double(a), to_double(b))), out.canaries_intact(), ms);
        }
        report(acc.check);
    }
    // sin with a per-column frequency, and the exponential decay window (the implicit filters' pieces).
    const uint32_t L = 1021, C = 64;
    const auto x = random_floats(size_t(L) * C, 3, -2, 2), freq = random_floats(C, 4, 0.5f, 3),
               deltas = random_floats(C, 5, -5, 5);
    std::vector<float> t(L);
    for (uint32_t i = 0; i < L; ++i) t[i] = float(i) / float(L - 1);
    GuardedTensor gx(ctx, x), gf(ctx, freq), gd(ctx, deltas), gt(ctx, t), out(ctx, size_t(L) * C);
    const ops::View f_rows{gf.view(1, C).slice, L, C, GuardedTensor::kCanaryFloats, 0, 1};
    const ops::View t_cols{gt.view(L, 1).slice, L, C, GuardedTensor::kCanaryFloats, 1, 0};
    const ops::View d_rows{gd.view(1, C).slice, L, C, GuardedTensor::kCanaryFloats, 0, 1};
    Accumulator sin_acc{{"sin_freq", "1021x64", 0, diag::kElementwiseBound}};
    double ms = timed_run(ctx, [&](gpu::Recorder& r) { ops::sin_freq(r, out.view(L, C), gx.view(L, C), f_rows); });
    sin_acc.add(ref::relative_error(out.read(), ref::sin_freq(to_double(x), L, C, to_double(freq))), out.canaries_intact(), ms);
    report(sin_acc.check);
    Accumulator decay_acc{{"exp_decay", "1021x64", 0, diag::kElementwiseBound}};
    ms = timed_run(ctx, [&](gpu::Recorder& r) { ops::exp_decay(r, out.view(L, C), gx.view(L, C), t_cols, d_rows, 0.1f); });
    decay_acc.add(ref::relative_error(out.read(), ref::exp_decay(to_double(x), L, C, to_double(t), to_double(deltas), 0.1)),
                  out.canaries_intact(), ms);
    report(decay_acc.check);
}

void check_dense(detail::ContextImpl& ctx, const Report& report) {
    const uint32_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {61, 287, 256}, {257, 256, 1024}};  // M, K, N
    for (auto layout : {ops::WeightLayout::InOut, ops::WeightLayout::OutIn}) {
        const bool in_out = layout == ops::WeightLayout::InOut;
        Accumulator acc{{in_out ? "dense [in,out]" : "dense [out,in]", "4 shapes up to 257x256x1024", 0, diag::kDenseBound}};
        for (const auto& s : shapes) {
            const uint32_t M = s[0], K = s[1], N = s[2];
            const auto a = random_floats(size_t(M) * K, 6), w = random_floats(size_t(K) * N, 7),
                       b = random_floats(N, 8);
            GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, b), out(ctx, size_t(M) * N);
            const auto wv = in_out ? gw.view(K, N) : gw.view(N, K);
            const auto bv = gb.view(1, N);
            const double ms =
                timed_run(ctx, [&](gpu::Recorder& r) { ops::dense(r, out.view(M, N), ga.view(M, K), wv, layout, &bv); });
            const auto expected = ref::dense(to_double(a), M, K, to_double(w),
                                             in_out ? ref::WeightLayout::InOut : ref::WeightLayout::OutIn, to_double(b), N);
            acc.add(ref::relative_error(out.read(), expected), out.canaries_intact(), ms);
        }
        report(acc.check);
    }
}

void check_depthwise_conv(detail::ContextImpl& ctx, const Report& report) {
    const uint32_t shapes[][4] = {{1, 1, 1, 3}, {2, 5, 8, 7}, {3, 60, 256, 3}, {1, 4096, 256, 7}};  // B, L, C, K
    Accumulator acc{{"depthwise_causal_conv", "4 shapes, K > L included", 0, diag::kDepthwiseConvBound}};
    for (const auto& s : shapes) {
        const uint32_t B = s[0], L = s[1], C = s[2], K = s[3];
        const auto x = random_floats(size_t(B) * L * C, 9), w = random_floats(size_t(K) * C, 10), b = random_floats(C, 11);
        GuardedTensor gx(ctx, x), gw(ctx, w), gb(ctx, b), out(ctx, x.size());
        const auto bv = gb.view(1, C);
        const double ms = timed_run(ctx, [&](gpu::Recorder& r) {
            ops::depthwise_causal_conv(r, out.view(B * L, C), gx.view(B * L, C), B, L, gw.view(K, C), K, &bv);
        });
        const auto expected = ref::depthwise_causal_conv(to_double(x), B, L, C, to_double(w), K, to_double(b));
        acc.add(ref::relative_error(out.read(), expected), out.canaries_intact(), ms);
    }
    report(acc.check);
}

void check_norms(detail::ContextImpl& ctx, const Report& report) {
    const uint32_t shapes[][2] = {{1, 1}, {3, 5}, {60, 256}, {4096, 256}};
    for (bool layer : {true, false}) {
        Accumulator acc{{layer ? "layer_norm" : "rms_norm", "4 shapes up to 4096x256, offset rows", 0, diag::kNormBound}};
        for (const auto& s : shapes) {
            const uint32_t R = s[0], C = s[1];
            auto x = random_floats(size_t(R) * C, 12);
            for (size_t i = 0; i < x.size(); i += 3) x[i] += 100.0f;  // a large common offset stresses the statistics
            const auto g = random_floats(C, 13), b = random_floats(C, 14);
            GuardedTensor gx(ctx, x), gg(ctx, g), gb(ctx, b), out(ctx, x.size());
            const double ms = timed_run(ctx, [&](gpu::Recorder& r) {
                if (layer)
                    ops::layer_norm(r, out.view(R, C), gx.view(R, C), gg.view(1, C), gb.view(1, C));
                else
                    ops::rms_norm(r, out.view(R, C), gx.view(R, C), gg.view(1, C));
            });
            const auto expected = layer ? ref::layer_norm(to_double(x), R, C, to_double(g), to_double(b))
                                        : ref::rms_norm(to_double(x), R, C, to_double(g));
            acc.add(ref::relative_error(out.read(), expected), out.canaries_intact(), ms);
        }
        report(acc.check);
    }
}

void check_gather(detail::ContextImpl& ctx, const Report& report) {
    const uint32_t rows = 1000, C = 96;
    const auto table = random_floats(size_t(rows) * C, 15);
    std::vector<uint32_t> ids = {0, 999, 5, 5, 123, 998, 1, 500};
    GuardedTensor gt(ctx, table), out(ctx, ids.size() * C);
    auto gi = ctx.memory.allocate(gpu::Lifetime::Activations, ids.size() * sizeof(uint32_t));
    ctx.transfer.upload(gi, 0, ids.data(), ids.size() * sizeof(uint32_t));
    const double ms = timed_run(ctx, [&](gpu::Recorder& r) {
        ops::gather_rows(r, out.view(uint32_t(ids.size()), C), gt.view(rows, C), gi.slice(), uint32_t(ids.size()));
    });
    Accumulator acc{{"gather_rows", "8 of 1000x96", 0, diag::kGatherBound}};
    acc.add(ref::relative_error(out.read(), ref::gather_rows(to_double(table), rows, C, ids)), out.canaries_intact(), ms);
    report(acc.check);
}

// Convolves on the device; returns the output and the wall time of the convolution (spectrum excluded).
std::vector<float> long_conv(detail::ContextImpl& ctx, uint32_t B, uint32_t L, uint32_t C, uint32_t S,
                             const std::vector<float>& x, const std::vector<float>& h, double* ms, bool* canaries) {
    GuardedTensor gx(ctx, x), gh(ctx, h), out(ctx, x.size());
    fft::LongConv conv(ctx, B, L, C, S);
    const auto spectrum = conv.make_spectrum();
    diag::run_once(ctx, [&](gpu::Recorder& r) { conv.record_filter_spectrum(r, gh.view(S, C), spectrum); });
    *ms = timed_run(ctx, [&](gpu::Recorder& r) { conv.record(r, out.view(B * L, C), gx.view(B * L, C), spectrum); });
    *canaries = out.canaries_intact();
    return out.read();
}

void check_long_conv(detail::ContextImpl& ctx, const Report& report) {
    const uint32_t shapes[][4] = {{1, 1, 1, 1}, {3, 37, 4, 50}, {2, 97, 6, 20}, {1, 4096, 8, 4096}};  // B, L, C, S
    Accumulator acc{{"long_conv (fft)", "4 shapes, S > L and prime L, every output", 0, diag::kLongConvBound}};
    for (const auto& s : shapes) {
        const uint32_t B = s[0], L = s[1], C = s[2], S = s[3];
        const auto x = random_floats(size_t(B) * L * C, 16), h = random_floats(size_t(S) * C, 17);
        double ms = 0;
        bool canaries = false;
        const auto y = long_conv(ctx, B, L, C, S, x, h, &ms, &canaries);
        acc.add(ref::relative_error(y, ref::long_conv_direct(to_double(x), B, L, C, to_double(h), S)), canaries, ms);
    }
    report(acc.check);

    // 2^20 steps, 8 channels, 2^20 taps: sampled outputs against the direct sum (the whole reference is O(L^2)).
    const uint32_t L = 1u << 20, C = 8;
    const auto x = random_floats(size_t(L) * C, 18);
    auto h = random_floats(size_t(L) * C, 19);
    for (uint32_t s = 0; s < L; ++s)
        for (uint32_t c = 0; c < C; ++c) h[size_t(s) * C + c] *= std::exp(-1e-5f * float(s));
    double ms = 0;
    bool canaries = false;
    const auto y = long_conv(ctx, 1, L, C, L, x, h, &ms, &canaries);
    double max_err = 0, max_ref = 0;
    for (uint32_t t : {0u, 1u, 4095u, 65536u, 500000u, L - 1})
        for (uint32_t c = 0; c < C; ++c) {
            double sum = 0;
            for (uint32_t s = 0; s <= t; ++s) sum += double(h[size_t(s) * C + c]) * x[size_t(t - s) * C + c];
            max_err = std::max(max_err, std::abs(sum - y[size_t(t) * C + c]));
            max_ref = std::max(max_ref, std::abs(sum));
        }
    Accumulator big{{"long_conv (fft) 2^20", "1x1048576x8, 2^20 taps, 48 sampled outputs", 0, diag::kLongConvBound}};
    big.add(max_err / max_ref, canaries, ms);
    report(big.check);
}

}  // namespace

std::vector<KernelCheck> run_selftest(Context& context, const std::function<void(const KernelCheck&)>& on_result) {
    detail::ContextImpl& ctx = context.impl();
    std::vector<KernelCheck> results;
    const Report report = [&](KernelCheck check) {
        if (on_result) on_result(check);
        results.push_back(std::move(check));
    };
    check_elementwise(ctx, report);
    check_dense(ctx, report);
    check_depthwise_conv(ctx, report);
    check_norms(ctx, report);
    check_gather(ctx, report);
    check_long_conv(ctx, report);
    return results;
}

}  // namespace hyenavk
