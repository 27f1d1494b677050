#include "info_timing.hpp"

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

namespace hyenavk::cli {
namespace {

struct StartupTimes {
    double context = 0, load = 0, forward = 0;
    double total() const { return context + load + forward; }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

StartupTimes time_startup(const DeviceOptions& device, const ModelOptions& model_options, uint32_t batch,
                          uint32_t length, bool full_sequence) {
    StartupTimes t;
    auto start = std::chrono::steady_clock::now();
    Context ctx = make_context(device);
    t.context = seconds_since(start);

    start = std::chrono::steady_clock::now();
    Model model = Model::load(ctx, model_options.model, load_options(model_options, device.precision));
    t.load = seconds_since(start);

    const uint32_t steps = length ? length : model.default_length();
    std::vector<float> input(size_t(batch) * steps * model.input_features());
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& v : input) v = dist(rng);
    start = std::chrono::steady_clock::now();
    model.forward(input, batch, steps, full_sequence);
    t.forward = seconds_since(start);
    return t;  // the context stores its pipeline cache as it goes, after the clock stopped
}

// A new empty directory under the system's temporary directory; throws Io where none can be made.
std::string make_temp_dir() {
    std::error_code ec;
    std::string pattern = (std::filesystem::temp_directory_path(ec) / "hyenavk-timing-XXXXXX").string();
    if (ec || !::mkdtemp(pattern.data()))
        throw Error(ErrorCode::Io, "cannot create a temporary cache directory for --timing");
    return pattern;
}

}  // namespace

void print_startup_timing(const DeviceOptions& device, const ModelOptions& model, uint32_t batch, uint32_t length,
                          bool full_sequence) {
    // One untimed context first, so that both runs find the Vulkan loader and driver already loaded and
    // differ only in what the disk cache holds.
    {
        DeviceOptions prime = device;
        prime.no_cache = true;
        make_context(prime);
    }
    const std::string dir = make_temp_dir();
    struct RemoveDir {
        std::string path;
        ~RemoveDir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    } remove{dir};
    DeviceOptions cached = device;
    cached.cache_dir = dir;
    cached.no_cache = false;
    const StartupTimes cold = time_startup(cached, model, batch, length, full_sequence);
    const StartupTimes warm = time_startup(cached, model, batch, length, full_sequence);

    std::printf("start-up    cold (empty cache)  warm (cache from the cold run)\n");
    std::printf("  context   %9.3f s         %9.3f s\n", cold.context, warm.context);
    std::printf("  load      %9.3f s         %9.3f s\n", cold.load, warm.load);
    std::printf("  forward   %9.3f s         %9.3f s   (the first, B = %u)\n", cold.forward, warm.forward, batch);
    std::printf("  total     %9.3f s         %9.3f s\n", cold.total(), warm.total());
    if (warm.total() > 0)
        std::printf("  warm/cold %.2f (%.1fx faster with the cache)\n", warm.total() / cold.total(),
                    cold.total() / warm.total());
}

}  // namespace hyenavk::cli
