// Throughput of ops::dense per kernel (plain and, where the device supports it, subgroup) for a few layer
// shapes. Each measurement records one plan of several dispatches, submits it once to warm up (pipeline
// creation, first touch of memory), then keeps the fastest of a few timed submits.
//
//   hyenavk_dense_bench [--device NAME] [--seconds S] [--out-in] [--cpu] [M K N]...
//
// --seconds: rough time per measurement (default 1); --out-in: also measure W stored [N, K]; --cpu: also
// print GFLOP per CPU-second of this process, which varies less than wall-clock time on a busy machine (a CPU
// driver runs shaders on threads of this process).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include "core/context_impl.hpp"
#include "diagnostics/guarded_tensor.hpp"
#include "ops/dense.hpp"

using namespace hyenavk;

namespace {

struct Shape {
    uint32_t M, K, N;
};

struct Result {
    double gflops;      // per wall-clock second
    double cpu_gflops;  // per CPU-second of this process
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// 2 * M * K * N flops per dispatch.
Result measure(detail::ContextImpl& ctx, const Shape& s, ops::WeightLayout layout, ops::DenseKernel kernel,
               double target_seconds) {
    const auto a = diag::random_floats(size_t(s.M) * s.K, 1);
    const auto w = diag::random_floats(size_t(s.K) * s.N, 2);
    const auto bias = diag::random_floats(s.N, 3);
    diag::GuardedTensor ga(ctx, a), gw(ctx, w), gb(ctx, bias), out(ctx, size_t(s.M) * s.N);
    const auto wv = layout == ops::WeightLayout::InOut ? gw.view(s.K, s.N) : gw.view(s.N, s.K);
    const auto bv = gb.view(1, s.N);
    auto record = [&](uint32_t dispatches) {
        gpu::Recorder rec(*ctx.device, ctx.pipelines);
        for (uint32_t i = 0; i < dispatches; ++i)
            ops::dense(rec, out.view(s.M, s.N), ga.view(s.M, s.K), wv, layout, &bv, kernel);
        return rec.finish();
    };
    // One dispatch, twice: the first creates the pipeline, the second sizes the measured plan.
    gpu::Plan probe = record(1);
    probe.submit();
    auto t0 = Clock::now();
    probe.submit();
    const double one = std::max(seconds_since(t0), 1e-6);
    const uint32_t dispatches = static_cast<uint32_t>(std::clamp(target_seconds / 4 / one, 2.0, 256.0));
    gpu::Plan plan = record(dispatches);
    plan.submit();
    double best = 1e30, best_cpu = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
        const double c0 = cpu_seconds();
        t0 = Clock::now();
        plan.submit();
        best = std::min(best, seconds_since(t0));
        best_cpu = std::min(best_cpu, cpu_seconds() - c0);
    }
    const double gflop = 2e-9 * s.M * s.K * s.N * dispatches;
    return {gflop / best, gflop / std::max(best_cpu, 1e-6)};
}

uint32_t to_u32(const char* s) { return static_cast<uint32_t>(std::strtoul(s, nullptr, 10)); }

}  // namespace

int main(int argc, char** argv) {
    ContextOptions options;
    double target_seconds = 1.0;
    bool cpu_column = false;
    std::vector<ops::WeightLayout> layouts{ops::WeightLayout::InOut};
    std::vector<Shape> shapes;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--device" && i + 1 < argc) {
            options.device = argv[++i];
        } else if (arg == "--seconds" && i + 1 < argc) {
            target_seconds = std::atof(argv[++i]);
        } else if (arg == "--out-in") {
            layouts.push_back(ops::WeightLayout::OutIn);
        } else if (arg == "--cpu") {
            cpu_column = true;
        } else if (i + 2 < argc && to_u32(argv[i]) > 0 && to_u32(argv[i + 1]) > 0 && to_u32(argv[i + 2]) > 0) {
            shapes.push_back({to_u32(argv[i]), to_u32(argv[i + 1]), to_u32(argv[i + 2])});
            i += 2;
        } else {
            std::fprintf(stderr, "usage: %s [--device NAME] [--seconds S] [--out-in] [--cpu] [M K N]...\n", argv[0]);
            return 2;
        }
    }
    if (shapes.empty()) shapes = {{4096, 256, 1024}, {4096, 1024, 256}, {60, 287, 256}, {4096, 256, 768}};
    try {
        Context context = Context::create(options);
        auto& ctx = context.impl();
        const DeviceInfo& device = ctx.device->info();
        std::printf("device: %s (%s, subgroup size %u)\n", device.name.c_str(), to_string(device.type),
                    device.caps.subgroup_size);
        std::vector<std::pair<const char*, ops::DenseKernel>> kernels{{"plain", ops::DenseKernel::Plain}};
        if (ops::dense_subgroup_supported(device))
            kernels.emplace_back("subgroup", ops::DenseKernel::Subgroup);
        else
            std::printf("the subgroup kernel is not supported here: plain only\n");
        std::printf("%-7s %6s %6s %6s", "W", "M", "K", "N");
        for (const auto& k : kernels) std::printf(cpu_column ? " %18s" : " %10s", k.first);
        std::printf("%s\n", kernels.size() > 1 ? "   speedup   (GFLOP/s)" : "   (GFLOP/s)");
        for (const auto layout : layouts) {
            for (const Shape& s : shapes) {
                std::printf("%-7s %6u %6u %6u", layout == ops::WeightLayout::InOut ? "[K,N]" : "[N,K]", s.M, s.K, s.N);
                std::fflush(stdout);
                std::vector<double> rates;
                for (const auto& k : kernels) {
                    const Result r = measure(ctx, s, layout, k.second, target_seconds);
                    rates.push_back(r.gflops);
                    if (cpu_column)
                        std::printf(" %8.2f (%6.2f/cpu)", r.gflops, r.cpu_gflops);
                    else
                        std::printf(" %10.2f", r.gflops);
                    std::fflush(stdout);
                }
                if (rates.size() > 1) std::printf(" %8.1fx", rates.back() / rates.front());
                std::printf("\n");
            }
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
