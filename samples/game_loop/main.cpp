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
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>  // mkstemp, close, unlink

#include <vulkan/vulkan.h>

#include <hyenavk/hyenavk.hpp>
#include <hyenavk/model.hpp>
#include <hyenavk/stream.hpp>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::duration<double, std::milli> kTickBudget{1000.0 / 60.0};
constexpr uint32_t kWindow = 60;  // frames a full forward sees: one second of game state

// Validation-layer messages at warning or error level, counted by the engine's messenger. It lives outside
// every object because the messenger chained into vkCreateInstance also reports during vkDestroyInstance.
std::atomic<uint64_t> validation_messages{0};

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
    if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
        validation_messages.fetch_add(1);
        std::fprintf(stderr, "game_loop: [vulkan] %s\n", data && data->pMessage ? data->pMessage : "(no message)");
    }
    return VK_FALSE;
}

// The engine's own Vulkan failures; hyenavk reports its failures as hyenavk::Error.
void check(VkResult result, const char* call) {
    if (result != VK_SUCCESS)
        throw std::runtime_error(std::string(call) + " failed with VkResult " + std::to_string(result));
}

bool has_layer(const char* name) {
    uint32_t count = 0;
    check(vkEnumerateInstanceLayerProperties(&count, nullptr), "vkEnumerateInstanceLayerProperties");
    std::vector<VkLayerProperties> layers(count);
    check(vkEnumerateInstanceLayerProperties(&count, layers.data()), "vkEnumerateInstanceLayerProperties");
    return std::any_of(layers.begin(), layers.end(),
                       [name](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

bool has_instance_extension(const char* layer, const char* name) {
    uint32_t count = 0;
    check(vkEnumerateInstanceExtensionProperties(layer, &count, nullptr), "vkEnumerateInstanceExtensionProperties");
    std::vector<VkExtensionProperties> extensions(count);
    check(vkEnumerateInstanceExtensionProperties(layer, &count, extensions.data()),
          "vkEnumerateInstanceExtensionProperties");
    return std::any_of(extensions.begin(), extensions.end(),
                       [name](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

// The stand-in for a game renderer: the instance, device and queue the engine creates, and destroys, itself.
class Renderer {
public:
    explicit Renderer(bool validation) {
        try {
            create_instance(validation);
            create_device();
        } catch (...) {
            release();
            throw;
        }
    }
    ~Renderer() { release(); }
    Renderer(const Renderer&) = delete;
    Renderer& operator=(const Renderer&) = delete;

    // The device as hyenavk borrows it: what the engine created and exactly the features it enabled. The
    // engine's render thread would submit to the same queue, so hyenavk takes the engine's queue lock.
    hyenavk::BorrowedDevice lend() {
        hyenavk::BorrowedDevice lent;
        lent.instance = instance_;
        lent.instance_api_version = api_version_;
        lent.physical_device = physical_;
        lent.device = device_;
        lent.queue_family_index = family_;
        lent.queue = queue_;
        lent.lock_queue = [this] { queue_mutex_.lock(); };
        lent.unlock_queue = [this] { queue_mutex_.unlock(); };
        lent.enabled_extensions = setup_.extensions;
        lent.storage_buffer_16bit_enabled = setup_.storage_buffer_16bit;
        lent.shader_float16_enabled = setup_.shader_float16;
        lent.storage_buffer_8bit_enabled = setup_.storage_buffer_8bit;
        lent.shader_int8_enabled = setup_.shader_int8;
        lent.timeline_semaphore_enabled = setup_.timeline_semaphore;
        return lent;
    }

    const VkPhysicalDeviceProperties& properties() const { return properties_; }

private:
    void create_instance(bool validation) {
        // As new as the loader offers, up to the 1.3 this program is written against; hyenavk needs 1.1.
        uint32_t loader_version = VK_API_VERSION_1_0;
        check(vkEnumerateInstanceVersion(&loader_version), "vkEnumerateInstanceVersion");
        if (loader_version < VK_API_VERSION_1_1)
            throw std::runtime_error("the Vulkan loader supports only Vulkan 1.0; hyenavk needs 1.1");
        api_version_ = std::min<uint32_t>(loader_version, VK_API_VERSION_1_3);

        std::vector<const char*> layers;
        std::vector<const char*> extensions;
        // Portability drivers (MoltenVK) are listed only to instances that ask for them.
        const bool portability = has_instance_extension(nullptr, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
        if (portability) extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
        const char* layer = "VK_LAYER_KHRONOS_validation";
        bool validation_features = false;
        if (validation) {
            if (!has_layer(layer))
                throw std::runtime_error(
                    "--validation needs VK_LAYER_KHRONOS_validation (Debian: vulkan-validationlayers)");
            layers.push_back(layer);
            extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
            validation_features = has_instance_extension(layer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
            if (validation_features) extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
        }

        VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
        app.pApplicationName = "game_loop";
        app.pEngineName = "game_loop";
        app.apiVersion = api_version_;

        VkDebugUtilsMessengerCreateInfoEXT messenger_info{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        messenger_info.messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        messenger_info.pfnUserCallback = on_validation_message;
        // Synchronization validation checks the barriers in hyenavk's command buffers as well as the engine's.
        const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
        VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
        features.enabledValidationFeatureCount = 1;
        features.pEnabledValidationFeatures = enables;
        features.pNext = &messenger_info;  // also reports during vkCreateInstance and vkDestroyInstance

        VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
        if (validation) info.pNext = validation_features ? static_cast<const void*>(&features) : &messenger_info;
        if (portability) info.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
        info.pApplicationInfo = &app;
        info.enabledLayerCount = static_cast<uint32_t>(layers.size());
        info.ppEnabledLayerNames = layers.data();
        info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
        info.ppEnabledExtensionNames = extensions.data();
        check(vkCreateInstance(&info, nullptr, &instance_), "vkCreateInstance");

        if (validation) {
            const auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
                vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
            destroy_messenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
                vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
            if (!create_messenger || !destroy_messenger_)
                throw std::runtime_error("the instance lacks VK_EXT_debug_utils entry points");
            check(create_messenger(instance_, &messenger_info, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
        }
    }

    void create_device() {
        uint32_t count = 0;
        check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
        if (count == 0) throw std::runtime_error("no Vulkan device");
        std::vector<VkPhysicalDevice> physical_devices(count);
        const VkResult listed = vkEnumeratePhysicalDevices(instance_, &count, physical_devices.data());
        if (listed != VK_INCOMPLETE) check(listed, "vkEnumeratePhysicalDevices");
        physical_ = physical_devices.front();
        vkGetPhysicalDeviceProperties(physical_, &properties_);

        // Ask hyenavk what it would like, and enable exactly that.
        setup_ = hyenavk::required_device_setup(instance_, physical_, api_version_);
        std::vector<const char*> extensions;
        for (const auto& e : setup_.extensions) extensions.push_back(e.c_str());

        // A feature struct is chained only where something in it is enabled: the ones promoted to core in 1.2
        // must not appear on a 1.1 device that lacks their extension.
        VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
        VkPhysicalDeviceShaderFloat16Int8Features float16_int8{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
        VkPhysicalDevice8BitStorageFeatures storage8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
        VkPhysicalDeviceTimelineSemaphoreFeatures timeline{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
        void** next = &features.pNext;
        auto link = [&next](auto& s) {
            *next = &s;
            next = &s.pNext;
        };
        if (setup_.storage_buffer_16bit) {
            storage16.storageBuffer16BitAccess = VK_TRUE;
            link(storage16);
        }
        if (setup_.shader_float16 || setup_.shader_int8) {
            float16_int8.shaderFloat16 = setup_.shader_float16;
            float16_int8.shaderInt8 = setup_.shader_int8;
            link(float16_int8);
        }
        if (setup_.storage_buffer_8bit) {
            storage8.storageBuffer8BitAccess = VK_TRUE;
            link(storage8);
        }
        if (setup_.timeline_semaphore) {
            timeline.timelineSemaphore = VK_TRUE;
            link(timeline);
        }

        // A renderer's main queue: graphics and compute, else any family with compute.
        uint32_t family_count = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, nullptr);
        std::vector<VkQueueFamilyProperties> families(family_count);
        vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, families.data());
        const auto has = [&](uint32_t family, VkQueueFlags flags) {
            return (families[family].queueFlags & flags) == flags;
        };
        family_ = family_count;
        for (uint32_t i = 0; i < family_count && family_ == family_count; ++i)
            if (has(i, VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) family_ = i;
        for (uint32_t i = 0; i < family_count && family_ == family_count; ++i)
            if (has(i, VK_QUEUE_COMPUTE_BIT)) family_ = i;
        if (family_ == family_count) throw std::runtime_error("the device has no compute queue");

        const float priority = 1.0f;
        VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
        queue_info.queueFamilyIndex = family_;
        queue_info.queueCount = 1;
        queue_info.pQueuePriorities = &priority;
        VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
        device_info.pNext = &features;
        device_info.queueCreateInfoCount = 1;
        device_info.pQueueCreateInfos = &queue_info;
        device_info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
        device_info.ppEnabledExtensionNames = extensions.data();
        check(vkCreateDevice(physical_, &device_info, nullptr, &device_), "vkCreateDevice");
        vkGetDeviceQueue(device_, family_, 0, &queue_);
    }

    // Everything in reverse order of creation; safe on a partly built renderer.
    void release() noexcept {
        if (device_ != VK_NULL_HANDLE) {
            vkDeviceWaitIdle(device_);
            vkDestroyDevice(device_, nullptr);
            device_ = VK_NULL_HANDLE;
        }
        if (messenger_ != VK_NULL_HANDLE) destroy_messenger_(instance_, messenger_, nullptr);
        messenger_ = VK_NULL_HANDLE;
        if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
        instance_ = VK_NULL_HANDLE;
    }

    VkInstance instance_ = VK_NULL_HANDLE;
    uint32_t api_version_ = VK_API_VERSION_1_1;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkPhysicalDeviceProperties properties_{};
    hyenavk::DeviceSetup setup_;
    uint32_t family_ = 0;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    std::mutex queue_mutex_;
};

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
// model and then the context are destroyed on return, before the caller's renderer destroys the device.
int run(Renderer& renderer, const Settings& s) {
    hyenavk::ContextOptions options;
    options.log = [](hyenavk::LogLevel level, const std::string& message) {
        if (level >= hyenavk::LogLevel::Warning) std::fprintf(stderr, "game_loop: [hyenavk] %s\n", message.c_str());
    };
    hyenavk::Context context = hyenavk::Context::borrow(renderer.lend(), options);
    hyenavk::Model model = hyenavk::Model::load(context, s.model_path);
    hyenavk::StreamOptions stream_options;
    stream_options.streams = s.agents;
    stream_options.mode = s.incremental ? hyenavk::StreamMode::Incremental : hyenavk::StreamMode::Windowed;
    stream_options.window = kWindow;
    hyenavk::StreamSet streams = hyenavk::StreamSet::create(model, stream_options);

    const uint32_t features = model.input_features();
    std::printf("device: %s\n", renderer.properties().deviceName);
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

// The default encoder written to a temporary file that goes away with this object.
class TemporaryModel {
public:
    TemporaryModel() {
        char name[] = "/tmp/game_loop_XXXXXX";
        const int fd = mkstemp(name);
        if (fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
        close(fd);
        path_ = name;
        hyenavk::write_random_model(path_, R"({"embed_dim": 287})", 1);
    }
    ~TemporaryModel() { unlink(path_.c_str()); }
    TemporaryModel(const TemporaryModel&) = delete;
    TemporaryModel& operator=(const TemporaryModel&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

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
        std::unique_ptr<TemporaryModel> temporary;
        if (s.model_path.empty()) {
            temporary = std::make_unique<TemporaryModel>();
            s.model_path = temporary->path();
        }
        Renderer renderer(s.validation);
        failed = run(renderer, s);
    } catch (const hyenavk::Error& e) {
        std::fprintf(stderr, "game_loop: hyenavk: %s: %s\n", hyenavk::to_string(e.code()), e.what());
        failed = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "game_loop: %s\n", e.what());
        failed = 1;
    }
    // Counted up to and including the instance's destruction.
    if (s.validation) {
        const uint64_t messages = validation_messages.load();
        std::printf("validation messages: %llu\n", static_cast<unsigned long long>(messages));
        if (messages != 0) failed = 1;
    }
    if (!failed) std::printf("game_loop: ok\n");
    return failed;
}
