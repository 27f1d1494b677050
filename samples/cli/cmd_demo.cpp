// `hyenavk demo`: the default Edifice encoder (embed_dim 287) reading a synthetic 60-frame game-state
// sequence, as a game AI would each tick: a summary of the output vector and the time per forward.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "hyenavk/model.hpp"

namespace hyenavk::cli {
namespace {

// Frames of a small arena: 40 entities with position, velocity, health, and a few global signals, drifting
// smoothly as they would between ticks.
std::vector<float> synthetic_game_state(uint32_t frames, uint32_t features) {
    std::vector<float> x(uint64_t(frames) * features);
    for (uint32_t t = 0; t < frames; ++t)
        for (uint32_t f = 0; f < features; ++f) {
            const double phase = 0.37 * f, speed = 0.05 + 0.01 * (f % 7);
            x[uint64_t(t) * features + f] = static_cast<float>(std::sin(speed * t + phase) * (f % 3 == 2 ? 0.5 : 1.0));
        }
    return x;
}

}  // namespace

Action add_demo_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("demo", "run the default encoder on a synthetic game-state sequence");
    struct Options {
        DeviceOptions device;
        uint32_t embed_dim = 287, frames = 60, iterations = 20;
    };
    auto o = std::make_shared<Options>();
    cmd->add_option("--embed-dim", o->embed_dim, "features per frame")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--frames", o->frames, "frames per sequence")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--iterations", o->iterations, "timed forwards")->capture_default_str()->check(CLI::PositiveNumber);
    add_device_options(*cmd, o->device);
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        Context ctx = make_context(o->device);
        std::printf("device: %s (%s)\n", ctx.device().name.c_str(), to_string(ctx.device().type));

        const auto path = std::filesystem::temp_directory_path() /
                          ("hyenavk-demo-" + std::to_string(::getpid()) + ".safetensors");
        const nlohmann::json config = {{"arch", "striped_hyena"}, {"embed_dim", o->embed_dim}, {"window_size", o->frames}};
        write_random_model(path.string(), config.dump(), 0);
        struct RemoveOnExit {
            std::filesystem::path p;
            ~RemoveOnExit() { std::filesystem::remove(p); }
        } remove_on_exit{path};
        Model model = Model::load(ctx, path.string());
        std::printf("model: striped_hyena, Edifice defaults, embed_dim %u, %llu parameters (random weights)\n",
                    o->embed_dim, static_cast<unsigned long long>(model.parameter_count()));

        const auto frames = synthetic_game_state(o->frames, o->embed_dim);
        std::vector<float> out = model.forward(frames, 1, o->frames);  // builds the plan
        std::vector<double> ms;
        for (uint32_t i = 0; i < o->iterations; ++i) {
            const auto start = std::chrono::steady_clock::now();
            out = model.forward(frames, 1, o->frames);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        }
        std::sort(ms.begin(), ms.end());

        const double mean = std::accumulate(out.begin(), out.end(), 0.0) / double(out.size());
        double var = 0;
        for (float v : out) var += (v - mean) * (v - mean);
        const auto [lo, hi] = std::minmax_element(out.begin(), out.end());
        std::printf("input: 1 sequence of %u frames x %u features\n", o->frames, o->embed_dim);
        std::printf("output: %zu values, mean %.4f, std %.4f, min %.4f, max %.4f\n", out.size(), mean,
                    std::sqrt(var / double(out.size())), *lo, *hi);
        std::printf("first 8: ");
        for (size_t i = 0; i < std::min<size_t>(8, out.size()); ++i) std::printf("%.4f ", out[i]);
        std::printf("\ntime per forward: %.2f ms median, %.2f ms best of %u (upload and download included)\n",
                    ms[ms.size() / 2], ms.front(), o->iterations);
        return 0;
    };
}

}  // namespace hyenavk::cli
