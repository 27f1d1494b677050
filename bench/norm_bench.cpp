// Throughput of ops::layer_norm per kernel: the workgroup-reduction kernel (norm.comp) and, where the device
// has subgroup arithmetic, the subgroup kernel (norm_sg.comp), on the same device in the same run. Each
// measurement records one plan of `repeat` norms over [rows, cols], submits it once to warm up, then keeps
// the fastest of a few timed submits.
//
//   hyenavk_norm_bench [--device NAME] [--rows R] [--cols C] [--repeat N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/context_impl.hpp"
#include "diagnostics/guarded_tensor.hpp"
#include "ops/norm.hpp"

using namespace hyenavk;

namespace {

using Clock = std::chrono::steady_clock;

double best_ms(Context& context, uint32_t rows, uint32_t cols, uint32_t repeat) {
    auto& ctx = context.impl();
    const auto x = diag::random_floats(size_t(rows) * cols, 1), gamma = diag::random_floats(cols, 2),
               beta = diag::random_floats(cols, 3);
    diag::GuardedTensor gx(ctx, x), gg(ctx, gamma), gb(ctx, beta), out(ctx, x.size());
    gpu::Recorder rec(*ctx.device, ctx.pipelines);
    for (uint32_t i = 0; i < repeat; ++i)
        ops::layer_norm(rec, out.view(rows, cols), gx.view(rows, cols), gg.view(1, cols), gb.view(1, cols));
    gpu::Plan plan = rec.finish();
    plan.submit();
    double best = 1e300;
    for (int i = 0; i < 5; ++i) {
        const auto t0 = Clock::now();
        plan.submit();
        best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return best / repeat;
}

}  // namespace

int main(int argc, char** argv) try {
    uint32_t rows = 4096, cols = 256, repeat = 20;
    ContextOptions options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--device") options.device = argv[i + 1];
        else if (a == "--rows") rows = uint32_t(std::strtoul(argv[i + 1], nullptr, 0));
        else if (a == "--cols") cols = uint32_t(std::strtoul(argv[i + 1], nullptr, 0));
        else if (a == "--repeat") repeat = uint32_t(std::strtoul(argv[i + 1], nullptr, 0));
        else {
            std::fprintf(stderr, "usage: hyenavk_norm_bench [--device NAME] [--rows R] [--cols C] [--repeat N]\n");
            return 2;
        }
    }
    Context subgroup = Context::create(options);
    options.clamp.disable_subgroup_ops = true;
    Context plain = Context::create(options);
    const double bytes = 2.0 * rows * cols * sizeof(float);
    std::printf("layer_norm [%u, %u] on %s\n", rows, cols, subgroup.device().name.c_str());
    const double ms_plain = best_ms(plain, rows, cols, repeat);
    std::printf("  workgroup kernel  %8.3f ms  %6.2f GB/s\n", ms_plain, bytes / ms_plain * 1e-6);
    if (subgroup.device().caps.subgroup_arithmetic) {
        const double ms_sg = best_ms(subgroup, rows, cols, repeat);
        std::printf("  subgroup kernel   %8.3f ms  %6.2f GB/s  (%.1fx)\n", ms_sg, bytes / ms_sg * 1e-6, ms_plain / ms_sg);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "hyenavk_norm_bench: %s\n", e.what());
    return 1;
}
