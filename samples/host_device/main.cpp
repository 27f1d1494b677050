// Embedding hyenavk in a renderer: the program plays a game engine that owns its Vulkan instance, device,
// queue and buffers, lends the device to hyenavk, and runs the default Edifice encoder once per frame on a
// window of 60 frames of game state that lives in one of its own buffers. The output goes to another of its
// buffers, and the engine's next submission waits for it on the GPU (hyenavk's timeline semaphore, or a binary
// semaphore of the engine's where the device has no timeline semaphores) instead of the frame thread waiting
// on the CPU. Each frame prints a summary of the output and how long Model::submit held the frame thread.
//
//   host_device [--validation] [--no-timeline] [MODEL.safetensors]
//
// Without a model file it writes the default encoder (embed_dim 287, random weights) to a temporary file
// first. With --validation the engine's instance loads the Khronos validation layer, with synchronization
// validation as hyenavk's own instances have it, and counts what its own debug messenger reports: hyenavk
// attaches no messenger to an instance it borrows. Any message makes the program fail. --no-timeline creates
// the device without timeline semaphores, as an engine targeting plain Vulkan 1.1 might, so that hyenavk
// signals the engine's binary semaphore instead. The engine's instance and device are the ones
// samples/common/engine_device.hpp sets up.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>  // mkstemp, close, unlink

#include <vulkan/vulkan.h>

#include <hyenavk/hyenavk.hpp>
#include <hyenavk/model.hpp>

#include "common/engine_device.hpp"
#include "common/temporary_model.hpp"

namespace {

constexpr uint32_t kBatch = 1;
constexpr uint32_t kLength = 60;  // frames of game state per window
constexpr uint32_t kFrames = 5;   // rendered frames, one forward each
// The engine's input buffer starts with a header of its own (a frame counter), so the window sits at an offset
// that is a multiple of 4 but below any device's storage-buffer offset alignment: hyenavk accepts any such
// offset.
constexpr VkDeviceSize kHeaderBytes = sizeof(uint32_t);
// Longest the frame thread waits for one frame's GPU work before giving up.
constexpr uint64_t kFrameTimeoutNs = 300'000'000'000ull;

using samples::check;

std::string version_string(uint32_t version) {
    return std::to_string(VK_API_VERSION_MAJOR(version)) + "." + std::to_string(VK_API_VERSION_MINOR(version));
}

// A host-visible buffer of the engine's, mapped for its whole life.
struct HostBuffer {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    void* mapped = nullptr;

    float* floats(VkDeviceSize byte_offset = 0) const {
        return reinterpret_cast<float*>(static_cast<char*>(mapped) + byte_offset);
    }
};

// The stand-in for a game renderer: everything Vulkan that the engine creates, and destroys, itself. The
// instance, device and queue are samples::EngineDevice's; the command buffer, fence, semaphore and buffers
// that the engine uses beside hyenavk are made here.
class Renderer {
public:
    Renderer(bool validation, bool allow_timeline) : engine_("host_device", validation, allow_timeline) {
        try {
            create_commands();
        } catch (...) {
            release();
            throw;
        }
    }
    ~Renderer() { release(); }
    Renderer(const Renderer&) = delete;
    Renderer& operator=(const Renderer&) = delete;

    // Both sides submit to the one queue, hyenavk perhaps from its worker thread, so both take the queue lock
    // (see submit_after).
    hyenavk::BorrowedDevice lend() { return engine_.lend(); }

    const VkPhysicalDeviceProperties& properties() const { return engine_.properties(); }

    // The engine's buffers for the model: the game-state window (header, then [batch, length, input_features]),
    // hyenavk's output (two slots, alternating by frame as a renderer's per-frame resources do) and the copy
    // that the engine's own submission makes of each frame's output.
    void create_buffers(VkDeviceSize input_bytes, VkDeviceSize output_bytes) {
        input_ = create_buffer(kHeaderBytes + input_bytes,
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
        output_ = create_buffer(2 * output_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                                      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
        readback_ = create_buffer(output_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    }
    const HostBuffer& input() const { return input_; }
    const HostBuffer& output() const { return output_; }
    const HostBuffer& readback() const { return readback_; }

    // The semaphore hyenavk signals where it has no timeline semaphore of its own to offer.
    VkSemaphore binary_semaphore() {
        if (binary_ == VK_NULL_HANDLE) {
            VkSemaphoreCreateInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
            check(vkCreateSemaphore(engine_.device(), &info, nullptr, &binary_), "vkCreateSemaphore");
        }
        return binary_;
    }

    // The engine's next submission after a forward: it waits on the GPU for `wait` (a timeline semaphore and
    // value, or a binary semaphore where `value` is 0 and `timeline` false), copies the frame's output slot
    // into the readback buffer and makes everything written so far visible to the host. The frame thread
    // then waits for this submission's fence, as a renderer does for the frame in flight before reusing it.
    void submit_after(VkSemaphore wait, uint64_t value, bool timeline, VkDeviceSize output_offset) {
        check(vkResetCommandBuffer(command_buffer_, 0), "vkResetCommandBuffer");
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        check(vkBeginCommandBuffer(command_buffer_, &begin), "vkBeginCommandBuffer");
        const VkBufferCopy region{output_offset, 0, readback_.size};
        vkCmdCopyBuffer(command_buffer_, output_.buffer, readback_.buffer, 1, &region);
        // Covers hyenavk's writes of the output slot (earlier on this queue) and the copy: the frame thread
        // reads both buffers through their mappings.
        VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        to_host.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT;
        to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
        vkCmdPipelineBarrier(command_buffer_, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                             VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0, nullptr);
        check(vkEndCommandBuffer(command_buffer_), "vkEndCommandBuffer");

        // hyenavk's last writes are copies or compute shaders; the engine's first use here is a transfer, and
        // a renderer's would as well be a compute pass reading the output.
        const VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
        VkTimelineSemaphoreSubmitInfo timeline_info{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
        timeline_info.waitSemaphoreValueCount = 1;
        timeline_info.pWaitSemaphoreValues = &value;
        VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        submit.pNext = timeline ? &timeline_info : nullptr;
        submit.waitSemaphoreCount = 1;
        submit.pWaitSemaphores = &wait;
        submit.pWaitDstStageMask = &wait_stage;
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &command_buffer_;
        {
            std::lock_guard lock(engine_.queue_mutex());
            check(vkQueueSubmit(engine_.queue(), 1, &submit, fence_), "vkQueueSubmit");
        }
        check(vkWaitForFences(engine_.device(), 1, &fence_, VK_TRUE, kFrameTimeoutNs), "vkWaitForFences");
        check(vkResetFences(engine_.device(), 1, &fence_), "vkResetFences");
    }

private:
    void create_commands() {
        const VkDevice device = engine_.device();
        VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        pool_info.queueFamilyIndex = engine_.queue_family();
        check(vkCreateCommandPool(device, &pool_info, nullptr, &command_pool_), "vkCreateCommandPool");
        VkCommandBufferAllocateInfo allocate{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        allocate.commandPool = command_pool_;
        allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        allocate.commandBufferCount = 1;
        check(vkAllocateCommandBuffers(device, &allocate, &command_buffer_), "vkAllocateCommandBuffers");
        VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        check(vkCreateFence(device, &fence_info, nullptr, &fence_), "vkCreateFence");
    }

    // Host-visible and coherent, so that neither the engine's writes nor its reads need a flush.
    HostBuffer create_buffer(VkDeviceSize size, VkBufferUsageFlags usage) {
        const VkDevice device = engine_.device();
        HostBuffer b;
        b.size = size;
        VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        info.size = size;
        info.usage = usage;
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        check(vkCreateBuffer(device, &info, nullptr, &b.buffer), "vkCreateBuffer");
        buffers_.push_back(b.buffer);  // owned from here on, whatever fails next
        VkMemoryRequirements requirements;
        vkGetBufferMemoryRequirements(device, b.buffer, &requirements);
        VkPhysicalDeviceMemoryProperties memory;
        vkGetPhysicalDeviceMemoryProperties(engine_.physical_device(), &memory);
        const VkMemoryPropertyFlags wanted = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        uint32_t type = memory.memoryTypeCount;
        for (uint32_t i = 0; i < memory.memoryTypeCount && type == memory.memoryTypeCount; ++i)
            if ((requirements.memoryTypeBits & (1u << i)) && (memory.memoryTypes[i].propertyFlags & wanted) == wanted)
                type = i;
        if (type == memory.memoryTypeCount) throw std::runtime_error("no host-visible, coherent memory type");
        VkMemoryAllocateInfo allocate{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
        allocate.allocationSize = requirements.size;
        allocate.memoryTypeIndex = type;
        check(vkAllocateMemory(device, &allocate, nullptr, &b.memory), "vkAllocateMemory");
        memories_.push_back(b.memory);
        check(vkBindBufferMemory(device, b.buffer, b.memory, 0), "vkBindBufferMemory");
        check(vkMapMemory(device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
        return b;
    }

    // What the engine made on the device, in reverse order of creation and safe on a partly built renderer;
    // the device itself goes after this, with engine_.
    void release() noexcept {
        const VkDevice device = engine_.device();
        vkDeviceWaitIdle(device);
        for (VkBuffer b : buffers_) vkDestroyBuffer(device, b, nullptr);
        for (VkDeviceMemory m : memories_) vkFreeMemory(device, m, nullptr);  // unmaps too
        if (binary_ != VK_NULL_HANDLE) vkDestroySemaphore(device, binary_, nullptr);
        if (fence_ != VK_NULL_HANDLE) vkDestroyFence(device, fence_, nullptr);
        if (command_pool_ != VK_NULL_HANDLE) vkDestroyCommandPool(device, command_pool_, nullptr);
    }

    samples::EngineDevice engine_;  // first in, so last out: everything below lives on its device
    VkCommandPool command_pool_ = VK_NULL_HANDLE;
    VkCommandBuffer command_buffer_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    VkSemaphore binary_ = VK_NULL_HANDLE;
    std::vector<VkBuffer> buffers_;
    std::vector<VkDeviceMemory> memories_;
    HostBuffer input_, output_, readback_;
};

// Game state from tick `first_tick` on: each feature a slow sinusoid of its own phase (the signal embed_c uses, so that
// frame 0 here matches its output for the same model).
void write_window(std::span<float> window, uint32_t first_tick, uint32_t features) {
    for (size_t i = 0; i < window.size(); ++i) {
        const uint64_t t = first_tick + (i / features) % kLength, f = i % features;
        window[i] = static_cast<float>(std::sin(0.1 * static_cast<double>(t) + 0.37 * static_cast<double>(f)));
    }
}

struct Summary {
    double mean = 0, rms = 0;
    bool finite = true;
};

Summary summarize(std::span<const float> values) {
    Summary s;
    double sum = 0, sum_sq = 0;
    for (float v : values) {
        s.finite = s.finite && std::isfinite(v);
        sum += v;
        sum_sq += static_cast<double>(v) * v;
    }
    s.mean = sum / static_cast<double>(values.size());
    s.rms = std::sqrt(sum_sq / static_cast<double>(values.size()));
    return s;
}

// The frames on the engine's device; returns the process's exit status (validation aside). The model and then
// the context are destroyed on return, before the caller's renderer destroys the device they borrowed.
int run(Renderer& renderer, const std::string& model_path) {
    // hyenavk's own validation option is for instances it creates; on a borrowed device the engine's instance
    // decides, so the options only route hyenavk's own warnings (the disk cache's, say).
    hyenavk::ContextOptions options;
    options.log = [](hyenavk::LogLevel level, const std::string& message) {
        if (level >= hyenavk::LogLevel::Warning) std::fprintf(stderr, "host_device: [hyenavk] %s\n", message.c_str());
    };
    hyenavk::Context context = hyenavk::Context::borrow(renderer.lend(), options);
    hyenavk::Model model = hyenavk::Model::load(context, model_path);

    const uint32_t features = model.input_features();
    const std::vector<uint64_t> output_shape = model.output_shape(kBatch, kLength);
    uint64_t output_count = 1;
    std::string shape;
    for (uint64_t d : output_shape) {
        output_count *= d;
        shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    }
    const VkDeviceSize input_bytes = VkDeviceSize(kBatch) * kLength * features * sizeof(float);
    const VkDeviceSize output_bytes = output_count * sizeof(float);
    renderer.create_buffers(input_bytes, output_bytes);

    // Plans, FFT plans and pipelines are built on hyenavk's worker thread while the engine goes on loading;
    // the first frame's submit then only records.
    std::future<void> preparing = model.prepare_async(kBatch, kLength);
    const bool timeline = context.device().caps.timeline_semaphore;
    const VkSemaphore binary = timeline ? VK_NULL_HANDLE : renderer.binary_semaphore();
    preparing.get();

    std::printf("%s on %s, Vulkan %s: [%u, %u, %u] -> [%s] per frame; the engine waits on %s\n",
                model.arch().c_str(), renderer.properties().deviceName,
                version_string(context.device().caps.api_version).c_str(), kBatch, kLength, features, shape.c_str(),
                timeline ? "hyenavk's timeline semaphore" : "its own binary semaphore");

    int failed = 0;
    std::vector<float> window(input_bytes / sizeof(float));
    for (uint32_t frame = 0; frame < kFrames; ++frame) {
        // The game writes this frame's window (ticks frame .. frame + 59) through its mapping; the previous
        // forward, the last reader, is known finished from the previous frame's fence. A write through a
        // mapping before vkQueueSubmit needs no semaphore for hyenavk to see it.
        write_window(window, frame, features);
        std::memcpy(renderer.input().mapped, &frame, sizeof frame);  // the engine's own header
        std::memcpy(renderer.input().floats(kHeaderBytes), window.data(), input_bytes);

        const VkDeviceSize output_offset = (frame % 2) * output_bytes;
        hyenavk::ForwardRequest request;
        request.batch = kBatch;
        request.length = kLength;
        request.input_buffer = {renderer.input().buffer, kHeaderBytes};
        request.output_buffer = {renderer.output().buffer, output_offset};
        if (!timeline) request.signal = {binary, 0};

        const auto t0 = std::chrono::steady_clock::now();
        hyenavk::Completion completion = model.submit(request);
        const auto t1 = std::chrono::steady_clock::now();
        const double submit_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();

        if (completion.timeline_semaphore() != VK_NULL_HANDLE) {
            renderer.submit_after(completion.timeline_semaphore(), completion.timeline_value(), true, output_offset);
        } else if (binary != VK_NULL_HANDLE) {
            renderer.submit_after(binary, 0, false, output_offset);
        } else {
            std::fprintf(stderr, "host_device: the context reports timeline semaphores but the completion has none\n");
            return 1;
        }
        // The engine's submission waited for the forward on the GPU, so it is over by now.
        if (!completion.ready()) {
            std::fprintf(stderr, "host_device: frame %u: the forward is not ready after the work waiting on it\n",
                         frame);
            failed = 1;
        }

        const std::span<const float> out(renderer.readback().floats(), output_count);
        const Summary s = summarize(out);
        std::printf("frame %u: submit %.3f ms, output mean %.6f, rms %.6f, first %.6f %.6f %.6f\n", frame,
                    submit_ms, s.mean, s.rms, out[0], out[1], out[2]);
        if (!s.finite) {
            std::fprintf(stderr, "host_device: frame %u: the output is not finite\n", frame);
            failed = 1;
        }
        // The copy ran after the forward wrote the slot, so it holds exactly what hyenavk wrote there.
        if (std::memcmp(out.data(), renderer.output().floats(output_offset), output_bytes) != 0) {
            std::fprintf(stderr, "host_device: frame %u: the engine's copy differs from the output slot\n", frame);
            failed = 1;
        }

        // The last frame once more through host memory: both paths must give the same numbers.
        if (frame + 1 == kFrames) {
            const std::vector<float> expected = model.forward(window, kBatch, kLength);
            double worst = 0, scale = 0;
            for (size_t i = 0; i < expected.size() && i < out.size(); ++i) {
                worst = std::max(worst, std::abs(static_cast<double>(out[i]) - expected[i]));
                scale = std::max(scale, std::abs(static_cast<double>(expected[i])));
            }
            std::printf("device buffers against host memory: max difference %.3g\n", worst);
            if (expected.size() != out.size() || worst > 1e-5 * (1 + scale)) {
                std::fprintf(stderr, "host_device: the forward through the engine's buffers differs from forward()\n");
                failed = 1;
            }
        }
    }
    return failed;
}

}  // namespace

int main(int argc, char** argv) {
    bool validation = false, allow_timeline = true;
    std::string model_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--validation") {
            validation = true;
        } else if (arg == "--no-timeline") {
            allow_timeline = false;
        } else if (arg.starts_with("-") || !model_path.empty()) {
            std::fprintf(stderr, "usage: host_device [--validation] [--no-timeline] [MODEL.safetensors]\n");
            return 2;
        } else {
            model_path = arg;
        }
    }
    std::printf("hyenavk %s (built against %d.%d.%d)\n", hyenavk::version_string().c_str(), HYENAVK_VERSION_MAJOR,
                HYENAVK_VERSION_MINOR, HYENAVK_VERSION_PATCH);
    if (hyenavk::runtime_version().major != HYENAVK_VERSION_MAJOR) {
        std::fprintf(stderr, "host_device: the loaded library's major version differs from the headers'\n");
        return 1;
    }

    int failed = 0;
    try {
        std::unique_ptr<samples::TemporaryModel> temporary;
        if (model_path.empty()) {
            temporary = std::make_unique<samples::TemporaryModel>("host_device");
            model_path = temporary->path();
        }
        Renderer renderer(validation, allow_timeline);
        failed = run(renderer, model_path);
    } catch (const hyenavk::Error& e) {
        std::fprintf(stderr, "host_device: hyenavk: %s: %s\n", hyenavk::to_string(e.code()), e.what());
        failed = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "host_device: %s\n", e.what());
        failed = 1;
    }
    // Counted up to and including the instance's destruction.
    if (validation) {
        const uint64_t messages = samples::validation_messages.load();
        std::printf("validation messages: %llu\n", static_cast<unsigned long long>(messages));
        if (messages != 0) failed = 1;
    }
    return failed;
}
