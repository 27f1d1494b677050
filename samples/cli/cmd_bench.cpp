// `hyenavk bench --model M [--lengths 60,1024,...] [--batch B] [--seconds S] [--json] [--kernels]`: end-to-end
// forward time per length, in-process, after a warm-up; with --kernels, GPU time per kernel and the long
// convolutions' achieved bandwidth against the device's copy bandwidth.
#include <algorithm>
#include <chrono>
#include <memory>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
    double ms_median = 0, ms_min = 0;
    uint32_t runs = 0;
};

// Forwards of one shape after one untimed warm-up, which builds the plan and compiles what it needs: exactly
// `runs` where given, else until `seconds` have passed (at least 3, at most 1000).
Timing time_forward(Model& model, const std::vector<float>& input, uint32_t batch, uint32_t length, double seconds,
                    uint32_t runs) {
    model.forward(input, batch, length);
    std::vector<double> ms;
    const auto start = Clock::now();
    auto more = [&] {
        if (runs != 0) return ms.size() < runs;
        return ms.size() < 3 ||
               (ms.size() < 1000 && std::chrono::duration<double>(Clock::now() - start).count() < seconds);
    };
    while (more()) {
        const auto t0 = Clock::now();
        model.forward(input, batch, length);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    return {n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms.front(), uint32_t(n)};
}

// The host time of Model::submit for a prepared shape, median over `n` submits (each waited for after the
// clock stops): what a frame thread pays to start a forward, the input copy and checks included.
double submit_us_median(Model& model, const std::vector<float>& input, uint32_t batch, uint32_t length, uint32_t n) {
    uint64_t count = 1;
    for (uint64_t d : model.output_shape(batch, length)) count *= d;
    std::vector<float> output(count);
    ForwardRequest request;
    request.batch = batch;
    request.length = length;
    request.input = input;
    request.output = output;
    std::vector<double> us;
    for (uint32_t i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        Completion done = model.submit(request);
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        done.wait();
    }
    std::sort(us.begin(), us.end());
    return n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
}

// The long convolutions' share of a profiled forward: the FFT kernels and the passes around them.
double long_conv_ms(const std::vector<KernelTime>& kernels) {
    double ms = 0;
    for (const KernelTime& k : kernels)
        if (k.name.rfind("fft", 0) == 0) ms += k.ms;
    return ms;
}

std::vector<uint32_t> parse_lengths(const std::string& text) {
    std::vector<uint32_t> lengths;
    size_t at = 0;
    while (at <= text.size()) {
        const size_t comma = std::min(text.find(',', at), text.size());
        const std::string item = text.substr(at, comma - at);
        char* end = nullptr;
        const unsigned long v = std::strtoul(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v == 0 || v > 0xffffffffu)
            throw Error(ErrorCode::InvalidArgument, "--lengths: '" + item + "' is not a length >= 1");
        lengths.push_back(uint32_t(v));
        at = comma + 1;
    }
    return lengths;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("bench", "time the forward of a model at several lengths (median after a warm-up)");
    struct Options {
        DeviceOptions device;
        ModelOptions model;
        std::string lengths;
        uint32_t batch = 1, runs = 0;
        double seconds = 2.0;
        bool json = false, kernels = false;
    };
    auto o = std::make_shared<Options>();
    add_model_options(*cmd, o->model);
    cmd->add_option("--lengths", o->lengths, "comma-separated sequence lengths (default: the model's window_size)");
    cmd->add_option("--batch", o->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--seconds", o->seconds, "timed forwards per length last about this long (at least 3 forwards)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--runs", o->runs, "exactly this many timed forwards per length, instead of --seconds (for "
                                       "lengths where one forward takes minutes)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--json", o->json, "one JSON object per length instead of a table");
    cmd->add_flag("--kernels", o->kernels,
                  "also GPU time per kernel from timestamp queries (one more forward per length, in a context "
                  "that writes a timestamp after every command) and the long convolutions' bytes moved per second "
                  "as a fraction of the device's copy bandwidth");
    add_device_options(*cmd, o->device);
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        Context ctx = make_context(o->device);
        Model model = Model::load(ctx, o->model.model, load_options(o->model, o->device.precision));
        const std::vector<uint32_t> lengths =
            o->lengths.empty() ? std::vector<uint32_t>{model.default_length()} : parse_lengths(o->lengths);
        const std::string& device = ctx.device().name;
        if (!o->json)
            std::printf("%s on %s, B = %u, %s\n%10s %12s %12s %14s %6s %10s\n", model.arch().c_str(), device.c_str(),
                        o->batch, o->device.precision.c_str(), "L", "median ms", "min ms", "tokens/s", "runs",
                        "submit us");
        // Timestamps after every command cost a little, so kernels are timed in a context of their own.
        std::unique_ptr<Context> profiling;
        std::unique_ptr<Model> profiled;
        double copy_bytes_per_s = 0;
        if (o->kernels) {
            if (!ctx.device().caps.timestamps)
                throw Error(ErrorCode::Unsupported, "--kernels needs compute-queue timestamps, which " + device + " lacks");
            ContextOptions options = context_options(o->device);
            options.profile_kernels = true;
            profiling = std::make_unique<Context>(Context::create(options));
            profiled = std::make_unique<Model>(
                Model::load(*profiling, o->model.model, load_options(o->model, o->device.precision)));
            copy_bytes_per_s = ctx.copy_bandwidth();
        }
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        for (uint32_t length : lengths) {
            std::vector<float> input(uint64_t(o->batch) * length * model.input_features());
            for (float& v : input) v = uniform(rng);
            const Timing t = time_forward(model, input, o->batch, length, o->seconds, o->runs);
            const double tokens_per_s = double(o->batch) * length / (t.ms_median * 1e-3);
            // As many submits as the time allowance holds (1 where --runs asks for exact counts), at most 50.
            const uint32_t submits =
                o->runs != 0 ? 1u : uint32_t(std::clamp(o->seconds * 1e3 / std::max(t.ms_median, 1e-3), 1.0, 50.0));
            const double submit_us = submit_us_median(model, input, o->batch, length, submits);
            std::vector<KernelTime> kernels;
            double conv_ms = 0, conv_bytes = 0;
            if (profiled) {
                profiled->forward(input, o->batch, length);  // builds the plan
                profiled->forward(input, o->batch, length);
                kernels = profiling->kernel_times();
                conv_ms = long_conv_ms(kernels);
                conv_bytes = double(model.memory_plan(o->batch, length).long_conv_bytes);
            }
            const double conv_bytes_per_s = conv_ms > 0 ? conv_bytes / (conv_ms * 1e-3) : 0;
            const double fraction = copy_bytes_per_s > 0 ? conv_bytes_per_s / copy_bytes_per_s : 0;
            if (o->json) {
                std::string k;
                for (const KernelTime& kt : kernels)
                    k += (k.empty() ? "" : ", ") + std::string("{\"name\": \"") + kt.name +
                         "\", \"count\": " + std::to_string(kt.count) + ", \"ms\": " + std::to_string(kt.ms) + "}";
                std::string bandwidth;
                if (profiled && conv_bytes > 0) {
                    char text[256];
                    std::snprintf(text, sizeof text,
                                  ", \"long_conv_bytes\": %.0f, \"long_conv_ms\": %.4f, \"long_conv_gb_per_s\": %.3f, "
                                  "\"copy_gb_per_s\": %.3f, \"long_conv_bandwidth_fraction\": %.4f",
                                  conv_bytes, conv_ms, conv_bytes_per_s * 1e-9, copy_bytes_per_s * 1e-9, fraction);
                    bandwidth = text;
                }
                std::printf("{\"arch\": \"%s\", \"device\": \"%s\", \"precision\": \"%s\", \"B\": %u, \"L\": %u, "
                            "\"ms_median\": %.4f, \"ms_min\": %.4f, \"tokens_per_s\": %.1f, \"runs\": %u, "
                            "\"submit_us_median\": %.1f%s%s%s%s}\n",
                            model.arch().c_str(), device.c_str(), o->device.precision.c_str(), o->batch, length,
                            t.ms_median, t.ms_min, tokens_per_s, t.runs, submit_us, profiled ? ", \"kernels\": [" : "", k.c_str(),
                            profiled ? "]" : "", bandwidth.c_str());
            } else {
                std::printf("%10u %12.3f %12.3f %14.0f %6u %10.1f\n", length, t.ms_median, t.ms_min, tokens_per_s,
                            t.runs, submit_us);
                double total = 0;
                for (const KernelTime& kt : kernels) total += kt.ms;
                for (const KernelTime& kt : kernels)
                    std::printf("%12s %-28s %5u x %10.3f ms  %5.1f%%\n", "", kt.name.c_str(), kt.count, kt.ms,
                                total > 0 ? 100.0 * kt.ms / total : 0.0);
                if (profiled && conv_bytes > 0)
                    std::printf("%12s long convolutions (fft*): %.1f MiB moved at least, in %.3f ms: %.2f GB/s, "
                                "%.0f%% of the copy bandwidth (%.2f GB/s)\n",
                                "", conv_bytes / (1 << 20), conv_ms, conv_bytes_per_s * 1e-9, 100 * fraction,
                                copy_bytes_per_s * 1e-9);
            }
            std::fflush(stdout);
        }
        return 0;
    };
}

}  // namespace hyenavk::cli
