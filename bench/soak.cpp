// Long runs that must leak nothing: thousands of forwards of the default encoder, thousands of streaming
// pushes, and hundreds of contexts and models created and destroyed. Prints host memory (resident set) and
// device memory (what hyenavk's pools hold, and the driver's heap usage where VK_EXT_memory_budget says) at
// checkpoints, then the growth from the end of the warm-up to the end of each phase. A "-" marks what cannot
// be read: the driver's heap usage without VK_EXT_memory_budget, device memory while no context lives.
//
//   hyenavk_soak [--forwards N] [--pushes N] [--contexts N] [--streams S] [--device D]
//
// Exits 1 when a phase grows: host memory by more than --host-slack-kib (allocator noise), device memory by
// anything at all.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/context_impl.hpp"
#include "hyenavk/hyenavk.hpp"
#include "hyenavk/model.hpp"
#include "hyenavk/stream.hpp"
#include "hyenavk/striped_hyena.hpp"
#include "model/config.hpp"

namespace {

using namespace hyenavk;

struct Options {
    uint64_t forwards = 10000;
    uint64_t pushes = 10000;
    uint64_t contexts = 200;
    uint32_t streams = 8;
    uint64_t host_slack_kib = 2048;
    std::string device;
};

[[noreturn]] void usage(const char* problem) {
    std::fprintf(stderr,
                 "%s\nusage: hyenavk_soak [--forwards N] [--pushes N] [--contexts N] [--streams S] "
                 "[--host-slack-kib K] [--device D]\n",
                 problem);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") usage("Soak test: repeated forwards, pushes and context lifetimes.");
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        const std::string value = argv[++i];
        char* end = nullptr;
        const unsigned long long number = std::strtoull(value.c_str(), &end, 10);
        const bool numeric = !value.empty() && *end == '\0';
        if (arg == "--device") o.device = value;
        else if (!numeric) usage(("not a number: " + value).c_str());
        else if (arg == "--forwards") o.forwards = number;
        else if (arg == "--pushes") o.pushes = number;
        else if (arg == "--contexts") o.contexts = number;
        else if (arg == "--streams" && number >= 1) o.streams = static_cast<uint32_t>(number);
        else if (arg == "--host-slack-kib") o.host_slack_kib = number;
        else usage(("unknown option or bad value: " + arg).c_str());
    }
    return o;
}

// Resident set size of this process, from /proc.
uint64_t host_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
    return 0;
}

struct DeviceMemory {
    uint64_t pools = 0;       // VkDeviceMemory hyenavk's pools hold
    uint64_t heap_usage = 0;  // the driver's count over its heaps, where VK_EXT_memory_budget says
    bool heap_known = false;
};

DeviceMemory device_memory(const Context& context) {
    DeviceMemory m;
    const gpu::MemoryStats stats = context.impl().memory.stats();
    for (VkDeviceSize r : stats.reserved) m.pools += r;
    const gpu::Device& device = *context.impl().device;
    if (device.caps().memory_budget) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
        props.pNext = &budget;
        vkGetPhysicalDeviceMemoryProperties2(device.physical(), &props);
        for (uint32_t i = 0; i < props.memoryProperties.memoryHeapCount; ++i) m.heap_usage += budget.heapUsage[i];
        m.heap_known = true;
    }
    return m;
}

double mib(uint64_t bytes) { return double(bytes) / (1 << 20); }

std::string two_decimals(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", value);
    return text;
}

// Runs `step` `count` times with checkpoints; the growth is measured from the checkpoint at 10% (the warm-up
// builds plans and fills pools) to the end.
bool soak_phase(const char* name, uint64_t count, const Context* context, const std::function<void(uint64_t)>& step,
                uint64_t host_slack_kib) {
    if (count == 0) return true;
    std::printf("\n%s: %llu iterations\n%10s %12s %14s %16s %10s\n", name, static_cast<unsigned long long>(count),
                "iteration", "host MiB", "device MiB", "driver heap MiB", "ms/iter");
    const uint64_t warm_up = std::max<uint64_t>(1, count / 10);
    const uint64_t every = std::max<uint64_t>(1, count / 10);
    uint64_t host_start = 0, host_end = 0;
    DeviceMemory device_start, device_end;
    auto last = std::chrono::steady_clock::now();
    uint64_t last_iteration = 0;
    for (uint64_t i = 1; i <= count; ++i) {
        step(i - 1);
        if (i % every != 0 && i != count && i != warm_up) continue;
        const auto now = std::chrono::steady_clock::now();
        const double ms = std::chrono::duration<double, std::milli>(now - last).count() / double(i - last_iteration);
        last = now;
        last_iteration = i;
        const uint64_t host = host_rss_kib();
        const DeviceMemory device = context ? device_memory(*context) : DeviceMemory{};
        const std::string pools = context ? two_decimals(mib(device.pools)) : "-";
        const std::string heap = device.heap_known ? two_decimals(mib(device.heap_usage)) : "-";
        std::printf("%10llu %12.1f %14s %16s %10.2f\n", static_cast<unsigned long long>(i), host / 1024.0,
                    pools.c_str(), heap.c_str(), ms);
        std::fflush(stdout);
        if (i == warm_up) {
            host_start = host;
            device_start = device;
        }
        host_end = host;
        device_end = device;
    }
    const int64_t host_growth = int64_t(host_end) - int64_t(host_start);
    const int64_t pool_growth = int64_t(device_end.pools) - int64_t(device_start.pools);
    const int64_t heap_growth = int64_t(device_end.heap_usage) - int64_t(device_start.heap_usage);
    const bool flat = host_growth <= int64_t(host_slack_kib) && pool_growth <= 0 && heap_growth <= 0;
    std::printf("%s: after the warm-up, host memory %+lld KiB, device memory %+lld bytes (driver heap %+lld bytes): %s\n",
                name, static_cast<long long>(host_growth), static_cast<long long>(pool_growth),
                static_cast<long long>(heap_growth), flat ? "flat" : "GROWING");
    return flat;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    try {
        // The default encoder, as `hyenavk demo` runs it: Edifice's defaults at embed_dim 287.
        const StripedHyenaConfig config = StripedHyenaConfig::recommended_defaults(287);
        const std::string path =
            (std::filesystem::temp_directory_path() / ("hyenavk-soak-" + std::to_string(::getpid()) + ".safetensors"))
                .string();
        write_random_model(path, model::to_json(config).dump(), 1);
        struct RemoveOnExit {
            std::string path;
            ~RemoveOnExit() { std::filesystem::remove(path); }
        } remove_on_exit{path};

        ContextOptions context_options;
        context_options.device = options.device;
        std::printf("hyenavk_soak: default encoder (embed_dim %u, hidden_size %u, %u layers, window %u)\n",
                    config.embed_dim, config.hidden_size, config.num_layers, config.window_size);
        bool flat = true;
        {
            Context context = Context::create(context_options);
            std::printf("device: %s (%s)\n", context.device().name.c_str(), context.device().driver_info.c_str());
            Model model = Model::load(context, path);
            const uint32_t L = config.window_size;
            std::mt19937 rng(7);
            std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
            std::vector<float> x(uint64_t(L) * config.embed_dim);
            for (float& v : x) v = uniform(rng);
            flat &= soak_phase("forwards (B = 1, L = window)", options.forwards, &context,
                               [&](uint64_t i) {
                                   x[i % x.size()] = uniform(rng);  // a different input every time
                                   const std::vector<float> y = model.forward(x, 1, L);
                                   if (!std::isfinite(y[0])) throw Error(ErrorCode::Internal, "non-finite output");
                               },
                               options.host_slack_kib);

            StreamOptions stream_options;
            stream_options.streams = options.streams;
            StreamSet set = StreamSet::create(model, stream_options);
            std::vector<float> frames(uint64_t(options.streams) * config.embed_dim);
            for (float& v : frames) v = uniform(rng);
            std::vector<uint8_t> saved;
            flat &= soak_phase("streaming pushes (incremental)", options.pushes, &context,
                               [&](uint64_t i) {
                                   frames[i % frames.size()] = uniform(rng);
                                   set.push(frames);
                                   // Agents come and go, and a save game is taken and restored now and then.
                                   if (i % 97 == 96) set.reset(static_cast<uint32_t>(i % options.streams));
                                   if (i % 251 == 0) saved = set.save(0);
                                   if (i % 251 == 250) set.restore(1 % options.streams, saved);
                               },
                               options.host_slack_kib);
        }
        flat &= soak_phase("contexts and models created and destroyed", options.contexts, nullptr,
                           [&](uint64_t) {
                               Context context = Context::create(context_options);
                               Model model = Model::load(context, path);
                               const std::vector<float> x(uint64_t(config.window_size) * config.embed_dim, 0.25f);
                               model.forward(x, 1, config.window_size);
                               StreamSet set = StreamSet::create(model);
                               set.push(std::vector<float>(config.embed_dim, 0.5f));
                           },
                           options.host_slack_kib);
        std::printf("\nhyenavk_soak: %s\n", flat ? "memory flat in every phase" : "MEMORY GREW");
        return flat ? 0 : 1;
    } catch (const Error& e) {
        std::fprintf(stderr, "hyenavk_soak: %s\n", e.what());
        return 1;
    }
}
