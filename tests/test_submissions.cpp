// Bounded submissions: a Recorder ends a command buffer when the next command would take it past the
// device's max_submission_work, and a Plan submits its command buffers one after another. Split plans must
// compute exactly what one submission does, replay, and keep the validation layer silent.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/context_impl.hpp"
#include "gpu/recorder.hpp"
#include "ops/elementwise.hpp"
#include "support/gpu_fixture.hpp"

using namespace hyenavk;

namespace {

constexpr uint32_t kN = 1000;      // floats per buffer
constexpr uint32_t kSteps = 10;    // dependent adds
constexpr uint64_t kAddWork = kN * gpu::Recorder::kOpsPerInvocation;  // element-wise ops count per element
constexpr uint64_t kFillWork = kN * 4 * gpu::Recorder::kOpsPerByte;
constexpr uint64_t kCopyWork = 2 * kN * 4 * gpu::Recorder::kOpsPerByte;

Context validated_context(uint64_t max_submission_work) {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.max_submission_work = max_submission_work;
    return Context::create(options);
}

// Command buffers a greedy split of `costs` under `bound` needs (a command never splits).
uint32_t expected_submissions(const std::vector<uint64_t>& costs, uint64_t bound) {
    uint32_t buffers = 1;
    uint64_t in_buffer = 0;
    for (uint64_t c : costs) {
        if (bound != 0 && in_buffer != 0 && in_buffer + c > bound) {
            ++buffers;
            in_buffer = 0;
        }
        in_buffer += c;
    }
    return buffers;
}

struct Chain {
    gpu::Allocation inc, ping, pong, out;
};

Chain make_chain(detail::ContextImpl& impl) {
    Chain c{impl.memory.allocate(gpu::Lifetime::Activations, kN * 4),
            impl.memory.allocate(gpu::Lifetime::Activations, kN * 4),
            impl.memory.allocate(gpu::Lifetime::Activations, kN * 4),
            impl.memory.allocate(gpu::Lifetime::Activations, kN * 4)};
    std::vector<float> inc(kN);
    for (uint32_t i = 0; i < kN; ++i) inc[i] = static_cast<float>(i % 7) + 0.25f;
    impl.transfer.upload(c.inc, 0, inc.data(), kN * 4);
    return c;
}

// ping = 0; then kSteps times, alternately, pong = ping + inc and ping = pong + inc (each reads what the one
// before wrote, and writes what it read); finally out = the last result. Every value stays exact.
gpu::Plan record_chain(detail::ContextImpl& impl, const Chain& c) {
    gpu::Recorder rec(*impl.device, impl.pipelines);
    rec.fill(c.ping.slice(), 0);
    const ops::View inc = ops::matrix(c.inc, 1, kN), ping = ops::matrix(c.ping, 1, kN),
                    pong = ops::matrix(c.pong, 1, kN);
    for (uint32_t s = 0; s < kSteps; ++s) {
        if (s % 2 == 0) ops::add(rec, pong, ping, inc);
        else ops::add(rec, ping, pong, inc);
    }
    rec.copy((kSteps % 2 == 0 ? c.ping : c.pong).slice(), c.out.slice());
    return rec.finish();
}

std::vector<float> run_chain(detail::ContextImpl& impl, const Chain& c, gpu::Plan& plan) {
    const std::vector<float> poison(kN, -1.0f);
    impl.transfer.upload(c.out, 0, poison.data(), kN * 4);
    impl.transfer.upload(c.ping, 0, poison.data(), kN * 4);
    impl.transfer.upload(c.pong, 0, poison.data(), kN * 4);
    plan.submit();
    std::vector<float> out(kN);
    impl.transfer.download(c.out, 0, out.data(), kN * 4);
    return out;
}

std::vector<uint64_t> chain_costs() {
    std::vector<uint64_t> costs{kFillWork};
    costs.insert(costs.end(), kSteps, kAddWork);
    costs.push_back(kCopyWork);
    return costs;
}

}  // namespace

TEST_SUITE_BEGIN("runtime");

TEST_CASE("a plan under the submission bound is one submission") {
    auto& impl = test::context().impl();
    CHECK(impl.device->max_submission_work() == ContextOptions{}.max_submission_work);
    const Chain c = make_chain(impl);
    gpu::Plan plan = record_chain(impl, c);
    CHECK(plan.submission_count() == 1);
    CHECK(plan.command_buffers().size() == 1);
    CHECK(plan.dispatch_count() == kSteps);
    uint64_t total = 0;
    for (uint64_t w : chain_costs()) total += w;
    CHECK(plan.estimated_work() == total);
    const std::vector<float> out = run_chain(impl, c, plan);
    for (uint32_t i = 0; i < kN; i += 97) CHECK(out[i] == kSteps * (static_cast<float>(i % 7) + 0.25f));
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("a chain of dependent dispatches split under a tiny bound gives the unbounded result") {
    // Reference: one submission (no bound).
    std::vector<float> reference;
    {
        Context ctx = validated_context(0);
        auto& impl = ctx.impl();
        const Chain c = make_chain(impl);
        gpu::Plan plan = record_chain(impl, c);
        CHECK(plan.submission_count() == 1);
        reference = run_chain(impl, c, plan);
    }
    for (uint32_t i = 0; i < kN; i += 97) CHECK(reference[i] == kSteps * (static_cast<float>(i % 7) + 0.25f));

    // Room for the fill and one add, then for three adds per command buffer; the copy alone exceeds it.
    for (const uint64_t bound : {uint64_t{3 * kAddWork + 1}, uint64_t{1}}) {
        CAPTURE(bound);
        Context ctx = validated_context(bound);
        auto& impl = ctx.impl();
        CHECK(impl.device->max_submission_work() == bound);
        const Chain c = make_chain(impl);
        gpu::Plan plan = record_chain(impl, c);
        const uint32_t expected = expected_submissions(chain_costs(), bound);
        CHECK(expected > 2);
        CHECK(plan.submission_count() == expected);
        CHECK(plan.dispatch_count() == kSteps);
        for (int replay = 0; replay < 2; ++replay) {
            const std::vector<float> out = run_chain(impl, c, plan);
            CHECK(std::memcmp(out.data(), reference.data(), kN * 4) == 0);
        }
        // Moving a split plan keeps all its command buffers.
        gpu::Plan moved = std::move(plan);
        CHECK(moved.submission_count() == expected);
        CHECK(plan.submission_count() == 0);
        const std::vector<float> out = run_chain(impl, c, moved);
        CHECK(std::memcmp(out.data(), reference.data(), kN * 4) == 0);
        CHECK_NO_VALIDATION_MESSAGES();
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("explicit work estimates place the splits") {
    const uint64_t bound = 1000;
    Context ctx = validated_context(bound);
    auto& impl = ctx.impl();
    const uint32_t n = 256;
    auto x = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    std::vector<float> ones(n, 1.0f);
    impl.transfer.upload(x, 0, ones.data(), n * 4);
    const ops::View v = ops::matrix(x, 1, n);

    struct Push {
        uint32_t rows, cols, unused;
        float scalar;
        ops::PushView out, a, b, c;
    };
    const uint32_t add[] = {1 /* OP_ADD */, 0};
    const Push doubling{1, n, 0, 0.0f, ops::push_view(v), ops::push_view(v), ops::push_view(v),
                        ops::push_view(v)};
    using gpu::Access;
    gpu::Recorder rec(*impl.device, impl.pipelines);
    // 400 + 400 fit one command buffer; the third starts a second; 5000 alone exceeds the bound and gets a
    // third to itself; the last 1 follows in a fourth.
    for (const uint64_t work : {uint64_t{400}, uint64_t{400}, uint64_t{400}, uint64_t{5000}, uint64_t{1}})
        rec.dispatch("elementwise", add, {{x.slice(), Access::Write}, {x.slice(), Access::Read}, {x.slice(), Access::Read},
                                         {x.slice(), Access::Read}},
                     doubling, {1, 1, 1}, work);
    gpu::Plan plan = rec.finish();
    CHECK(plan.submission_count() == 4);
    CHECK(plan.estimated_work() == 6201);
    plan.submit();
    std::vector<float> back(n);
    impl.transfer.download(x, 0, back.data(), n * 4);
    CHECK(back[0] == 32.0f);
    CHECK(back[n - 1] == 32.0f);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("a profiling context times every kind of command, across split submissions") {
    for (uint64_t bound : {uint64_t(0), uint64_t(3 * kAddWork + 1)}) {
        ContextOptions options;
        options.validation = true;
        options.log = test::counting_log();
        options.max_submission_work = bound;
        options.profile_kernels = true;
        Context ctx = Context::create(options);
        if (!ctx.device().caps.timestamps) {
            MESSAGE("no compute timestamps on this device: kernel_times() stays empty");
            CHECK(ctx.kernel_times().empty());
            return;
        }
        auto& impl = ctx.impl();
        const Chain c = make_chain(impl);
        gpu::Plan plan = record_chain(impl, c);
        CHECK(ctx.kernel_times().empty());  // nothing submitted yet
        const auto out = run_chain(impl, c, plan);
        CHECK(out[1] == kSteps * 1.25f);
        const auto times = ctx.kernel_times();
        auto count = [&](const std::string& name) {
            for (const KernelTime& t : times)
                if (t.name == name) {
                    CHECK(t.ms >= 0.0);
                    return t.count;
                }
            return 0u;
        };
        CHECK(count("elementwise") == kSteps);
        CHECK(count("fill") == 1);
        CHECK(count("copy") == 1);
        CHECK(times.size() == 3);
        for (size_t i = 1; i < times.size(); ++i) CHECK(times[i - 1].ms >= times[i].ms);  // longest first
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("copy bandwidth: a positive figure, bad sizes refused, nothing left allocated") {
    Context ctx = validated_context(0);
    auto held = [&] { return ctx.impl().memory.stats().reserved[int(gpu::Lifetime::Activations)]; };
    const uint64_t before = held();
    const double bytes_per_s = ctx.copy_bandwidth(uint64_t(4) << 20);
    CHECK(bytes_per_s > 0.0);
    CHECK(std::isfinite(bytes_per_s));
    CHECK(ctx.impl().memory.stats().peak_reserved >= before + (uint64_t(8) << 20));  // both buffers were held
    CHECK(held() == before);
    CHECK_THROWS_AS(ctx.copy_bandwidth(0), Error);
    CHECK_THROWS_AS(ctx.copy_bandwidth(6), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
