// A game's tick loop with hyenavk: the program plays a game engine that owns its Vulkan instance and device,
// lends the device to hyenavk, and each 60 FPS tick feeds every agent one new frame of game state through a
// StreamSet, one push per tick for all agents: windowed (each output over the agent's last 60 frames, as a model
// trained on 60-frame windows expects) or, with --incremental, over every frame since the agent appeared. It
// reports how long a push takes against the 16.7 ms budget of a
// tick, and against a whole 60-frame forward, which is what a game without streaming would run every tick.
//
//   game_loop [--agents N] [--ticks N] [--validation] [--incremental] [MODEL.safetensors]
//
// Without a model file it writes the default encoder (embed_dim 287, random weights) to a temporary file
// first. With --validation the engine's instance loads the Khronos validation layer and counts what its own
// debug messenger reports (hyenavk attaches none to an instance it borrows); any message makes the program fail.
// The engine's instance and device are the ones samples/common/engine_device.hpp sets up.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>  // mkstemp, close, unlink

#include <hyenavk/hyenavk.hpp>
#include <hyenavk/model.hpp>
#include <hyenavk/stream.hpp>

#include "common/engine_device.hpp"
#include "common/temporary_model.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::duration<double, std::milli> kTickBudget{1000.0 / 60.0};
constexpr uint32_t kWindow = 60;  // frames a full forward sees: one second of game state

// Agent `agent`'s game state at tick `tick`: each feature a slow sinusoid with its own phase, so that every
// agent sees a different but smooth signal.
void write_frame(float* frame, uint64_t tick, uint32_t agent, uint32_t features) {
    for (uint32_t f = 0; f < features; ++f) {
        const double phase = 0.1 * static_cast<double>(tick) + 0.37 * f + 0.61 * agent;
        frame[f] = static_cast<float>(f % 2 ? std::cos(phase) : std::sin(phase));
    }
}

// The frames of ticks [first, last] of agents [0, agents): [agents, last - first + 1, features].
std::vector<float> frames_between(uint64_t first, uint64_t last, uint32_t agents, uint32_t features) {
    const uint64_t length = last - first + 1;
    std::vector<float> w(size_t(agents) * length * features);
    for (uint32_t a = 0; a < agents; ++a)
        for (uint64_t i = 0; i < length; ++i) write_frame(&w[(size_t(a) * length + i) * features], first + i, a, features);
    return w;
}

// The last kWindow frames up to tick `last_tick` of agents [0, agents): [agents, kWindow, features].
std::vector<float> window(uint64_t last_tick, uint32_t agents, uint32_t features) {
    return frames_between(last_tick + 1 - kWindow, last_tick, agents, features);
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Nearest-rank percentile, q in (0, 1].
double percentile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

// One untimed forward (it builds the shape's plan), then the median of `runs` timed ones.
double time_forward(hyenavk::Model& model, const std::vector<float>& input, uint32_t batch, uint32_t runs) {
    model.forward(input, batch, kWindow);
    std::vector<double> times;
    for (uint32_t i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        model.forward(input, batch, kWindow);
        times.push_back(ms_since(t0));
    }
    return percentile(times, 0.5);
}

struct Settings {
    uint32_t agents = 64;
    uint32_t ticks = 300;
    bool validation = false;
    bool incremental = false;
    std::string model_path;
};

// The game on the engine's device; returns the process's exit status (validation aside). The stream set, the
// model and then the context are destroyed on return, before the caller's engine destroys the device.
int run(samples::EngineDevice& engine, const Settings& s) {
    hyenavk::ContextOptions options;
    options.log = [](hyenavk::LogLevel level, const std::string& message) {
        if (level >= hyenavk::LogLevel::Warning) std::fprintf(stderr, "game_loop: [hyenavk] %s\n", message.c_str());
    };
    hyenavk::Context context = hyenavk::Context::borrow(engine.lend(), options);
    hyenavk::Model model = hyenavk::Model::load(context, s.model_path);
    hyenavk::StreamOptions stream_options;
    stream_options.streams = s.agents;
    stream_options.mode = s.incremental ? hyenavk::StreamMode::Incremental : hyenavk::StreamMode::Windowed;
    stream_options.window = kWindow;
    hyenavk::StreamSet streams = hyenavk::StreamSet::create(model, stream_options);

    const uint32_t features = model.input_features();
    std::printf("device: %s\n", engine.properties().deviceName);
    std::printf("model: %s, %u input features -> %u output features\n", model.arch().c_str(), features,
                model.output_features());
    std::printf("mode: %s, agents: %u, ticks: %u\n", s.incremental ? "incremental" : "windowed (60 frames)",
                s.agents, s.ticks);

    // A push before the game starts builds what the stream set builds on first use; the agents then start over
    // so that the timed ticks are the game's.
    std::vector<float> frames(size_t(s.agents) * features);
    for (uint32_t a = 0; a < s.agents; ++a) write_frame(&frames[size_t(a) * features], 0, a, features);
    const auto warm0 = Clock::now();
    streams.push(frames);
    std::printf("first push (warm-up): %.3f ms\n", ms_since(warm0));
    streams.reset_all();

    int failed = 0;
    std::vector<double> latencies;
    latencies.reserve(s.ticks);
    std::vector<float> last_out;
    uint32_t overran = 0;
    auto tick_start = Clock::now();
    for (uint32_t tick = 0; tick < s.ticks; ++tick) {
        for (uint32_t a = 0; a < s.agents; ++a) write_frame(&frames[size_t(a) * features], tick, a, features);
        const auto t0 = Clock::now();
        std::vector<float> out = streams.push(frames);
        const double push_ms = ms_since(t0);
        latencies.push_back(push_ms);
        if (push_ms > kTickBudget.count()) ++overran;
        if (!std::all_of(out.begin(), out.end(), [](float v) { return std::isfinite(v); })) {
            std::fprintf(stderr, "game_loop: tick %u: the output is not finite\n", tick);
            failed = 1;
        }
        last_out = std::move(out);
        // Sleep to the next tick boundary; a tick that ran late starts the next one at once, rather than
        // bunching ticks up to catch a schedule already missed.
        const auto deadline = tick_start + std::chrono::duration_cast<Clock::duration>(kTickBudget);
        if (Clock::now() < deadline) std::this_thread::sleep_until(deadline);
        tick_start = std::max(deadline, Clock::now());
    }

    // The last tick's outputs against a whole forward over the frames they stand for: the last 60 (windowed,
    // once there are 60) or every frame pushed (incremental).
    const uint64_t last = s.ticks - 1;
    const uint64_t first = !s.incremental && s.ticks >= kWindow ? last + 1 - kWindow : 0;
    const std::vector<float> expected = model.forward(frames_between(first, last, s.agents, features), s.agents,
                                                      static_cast<uint32_t>(last - first + 1));
    double max_difference = 0, max_magnitude = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        max_difference = std::max(max_difference, double(std::fabs(last_out[i] - expected[i])));
        max_magnitude = std::max(max_magnitude, double(std::fabs(expected[i])));
    }
    const double relative_error = max_difference / std::max(max_magnitude, 1e-30);
    std::printf("last tick against a whole forward over its %llu frames: max relative error %.2e\n",
                static_cast<unsigned long long>(last - first + 1), relative_error);
    if (!(relative_error <= 1e-4)) {
        std::fprintf(stderr, "game_loop: the streamed outputs differ from a whole forward (bound 1e-4)\n");
        failed = 1;
    }

    // What the game would run every tick without streaming: a whole forward over the last 60 frames.
    const uint64_t last_tick = std::max<uint64_t>(s.ticks, kWindow) - 1;
    const double forward_one_ms = time_forward(model, window(last_tick, 1, features), 1, 5);
    const double forward_all_ms = time_forward(model, window(last_tick, s.agents, features), s.agents, 3);

    const double p50 = percentile(latencies, 0.5);
    std::printf("push latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", p50, percentile(latencies, 0.99),
                percentile(latencies, 1.0));
    std::printf("ticks over the %.1f ms budget: %u of %u\n", kTickBudget.count(), overran, s.ticks);
    std::printf("full %u-frame forward: batch 1 %.3f ms (median of 5), batch %u %.3f ms (median of 3)\n", kWindow,
                forward_one_ms, s.agents, forward_all_ms);
    std::printf("full forward (batch %u) / push p50: %.1fx\n", s.agents, forward_all_ms / p50);
    return failed;
}

bool parse_count(const char* text, uint32_t& value) {
    const std::string_view s = text ? text : "";
    const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
    return error == std::errc{} && end == s.data() + s.size() && value > 0;
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        bool ok = true;
        if (arg == "--validation") {
            s.validation = true;
        } else if (arg == "--incremental") {
            s.incremental = true;
        } else if (arg == "--agents") {
            ok = i + 1 < argc && parse_count(argv[++i], s.agents);
        } else if (arg == "--ticks") {
            ok = i + 1 < argc && parse_count(argv[++i], s.ticks);
        } else if (arg.starts_with("-") || !s.model_path.empty()) {
            ok = false;
        } else {
            s.model_path = arg;
        }
        if (!ok) {
            std::fprintf(stderr,
                         "usage: game_loop [--agents N] [--ticks N] [--validation] [--incremental] "
                         "[MODEL.safetensors]\n");
            return 2;
        }
    }

    int failed = 0;
    try {
        std::unique_ptr<samples::TemporaryModel> temporary;
        if (s.model_path.empty()) {
            temporary = std::make_unique<samples::TemporaryModel>("game_loop");
            s.model_path = temporary->path();
        }
        samples::EngineDevice engine("game_loop", s.validation);
        failed = run(engine, s);
    } catch (const hyenavk::Error& e) {
        std::fprintf(stderr, "game_loop: hyenavk: %s: %s\n", hyenavk::to_string(e.code()), e.what());
        failed = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "game_loop: %s\n", e.what());
        failed = 1;
    }
    // Counted up to and including the instance's destruction.
    if (s.validation) {
        const uint64_t messages = samples::validation_messages.load();
        std::printf("validation messages: %llu\n", static_cast<unsigned long long>(messages));
        if (messages != 0) failed = 1;
    }
    if (!failed) std::printf("game_loop: ok\n");
    return failed;
}
