// A million steps in bounded memory. Builds a striped_hyena model with filters as long as the sequence,
// prints the device memory the plan predicts, runs one forward, and prints the time and the device memory
// actually held. With --check, also runs the double-precision reference (FFT long convolutions) and
// compares every output (bound 1e-4 at fp32, 1e-2 at fp16).
//
//   hyenavk_long_sequence [--length L] [--hidden H] [--layers N] [--batch B] [--precision fp32|fp16]
//                         [--budget-mib M] [--check] [--device NAME]
//
// Defaults: the default encoder (H 256, 4 layers, B 1) at L = 2^20, fp32. The correctness run of the issue
// is `--hidden 32 --layers 2 --check`. On lavapipe a forward at 2^20 takes minutes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/context_impl.hpp"
#include "diagnostics/guarded_tensor.hpp"
#include "model/host_weights.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ref/reference.hpp"
#include "ref/striped_hyena.hpp"

using namespace hyenavk;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double mib(uint64_t bytes) { return double(bytes) / (1 << 20); }

ref::Weights widened(const model::HostWeights& weights) {
    ref::Weights out;
    for (const auto& [name, t] : weights.all())
        out[name] = ref::Tensor{t.shape, std::vector<double>(t.data.begin(), t.data.end())};
    return out;
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: hyenavk_long_sequence [--length L] [--hidden H] [--layers N] [--batch B] "
                         "[--precision fp32|fp16] [--budget-mib M] [--check] [--device NAME]\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) try {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows up when redirected to a file
    uint32_t length = 1u << 20, hidden = 256, layers = 4, batch = 1;
    uint64_t budget_mib = 0;
    bool check = false;
    Precision precision = Precision::Fp32;
    ContextOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--length") length = uint32_t(std::strtoul(value(), nullptr, 0));
        else if (a == "--hidden") hidden = uint32_t(std::strtoul(value(), nullptr, 0));
        else if (a == "--layers") layers = uint32_t(std::strtoul(value(), nullptr, 0));
        else if (a == "--batch") batch = uint32_t(std::strtoul(value(), nullptr, 0));
        else if (a == "--budget-mib") budget_mib = std::strtoull(value(), nullptr, 0);
        else if (a == "--device") options.device = value();
        else if (a == "--check") check = true;
        else if (a == "--precision") {
            const std::string p = value();
            if (p != "fp32" && p != "fp16") usage();
            precision = p == "fp16" ? Precision::Fp16 : Precision::Fp32;
        } else usage();
    }
    options.memory_budget_bytes = budget_mib << 20;
    StripedHyenaConfig c;
    c.embed_dim = hidden;
    c.hidden_size = hidden;
    c.num_layers = layers;
    c.window_size = length;  // taps = L

    Context ctx = Context::create(options);
    std::printf("device %s; budget %.0f MiB\n", ctx.device().name.c_str(), mib(ctx.impl().memory.budget()));
    std::printf("model H = %u, %u layers, taps = L = %u, B = %u, %s\n", hidden, layers, length, batch,
                to_string(precision));
    const auto weights = model::HostWeights::random(model::striped_hyena_tensors(c), 2026);
    auto t0 = Clock::now();
    model::StripedHyenaGpu gpu(ctx.impl(), c, weights, precision);
    std::printf("load (weights, filters) %.1f s\n", seconds_since(t0));
    const MemoryPlan plan = gpu.memory_plan(batch, length, check);
    std::printf("predicted %.1f MiB (resident %.1f MiB); %u tiles of %u rows, FFT over %u channels, gates %s, "
                "spectra %s\n",
                mib(plan.total_bytes), mib(plan.resident_bytes), plan.tiles, plan.tile_rows, plan.fft_channel_group,
                plan.gates_kept ? "kept" : "recomputed", plan.spectra_cached ? "cached" : "per forward");

    const auto x = diag::random_floats(size_t(batch) * length * c.embed_dim, 17);
    t0 = Clock::now();
    const auto out = gpu.forward(x, batch, length, check);
    const double forward_s = seconds_since(t0);
    const uint64_t peak = ctx.impl().memory.stats().peak_reserved;
    std::printf("forward %.1f s (plan, upload, run, download)\n", forward_s);
    std::printf("device memory peak %.1f MiB, predicted %.1f MiB: %s\n", mib(peak), mib(plan.total_bytes),
                peak <= plan.total_bytes ? "within the prediction" : "ABOVE THE PREDICTION");
    int status = peak <= plan.total_bytes ? 0 : 1;
    if (check) {
        t0 = Clock::now();
        const auto expected = ref::striped_hyena_forward(c, widened(weights), std::vector<double>(x.begin(), x.end()),
                                                         batch, length);
        const double err = ref::relative_error(out, expected);
        const double bound = precision == Precision::Fp16 ? 1e-2 : 1e-4;
        std::printf("reference %.1f s; relative error %.3g over %zu outputs (bound %.0e): %s\n", seconds_since(t0), err,
                    out.size(), bound, err <= bound ? "pass" : "FAIL");
        if (err > bound) status = 1;
    }
    return status;
} catch (const std::exception& e) {
    std::fprintf(stderr, "hyenavk_long_sequence: %s\n", e.what());
    return 1;
}
