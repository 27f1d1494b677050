#include "fft/vkfft_plan.hpp"

// VkFFT calls Vulkan through the global entry points that volk provides (see gpu/loader.hpp).
#include <volk.h>
#include <vkFFT.h>  // the configure-time compatible copy (cmake/VkFFTCompat.cmake)

#include <string>

#include "gpu/device.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::fft {
namespace {

void init_glslang_once() {
    // glslang's process state is global; VkFFT would otherwise initialise and finalise it around every plan.
    static std::once_flag once;
    std::call_once(once, [] { glslang_initialize_process(); });
}

[[noreturn]] void throw_vkfft(VkFFTResult result, const char* what) {
    throw Error(result == VKFFT_ERROR_MALLOC_FAILED ? ErrorCode::OutOfMemory : ErrorCode::Vulkan,
                std::string(what) + " failed: VkFFT error " + std::to_string(static_cast<int>(result)));
}

}  // namespace

uint64_t smooth_size(uint64_t n) {
    const uint64_t start = std::max<uint64_t>(n, 2);
    for (uint64_t m = start + (start & 1);; m += 2) {
        uint64_t r = m;
        for (uint64_t p : {2, 3, 5, 7})
            while (r % p == 0) r /= p;
        if (r == 1) return m;
    }
}

struct FftPlan::App {
    VkFFTApplication app{};
    VkFFTConfiguration config{};
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VkDevice device = VK_NULL_HANDLE;
    VkQueue queue = VK_NULL_HANDLE;
    VkCommandPool pool = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    VkBuffer buffer = VK_NULL_HANDLE;
    uint64_t buffer_size = 0;
    bool initialised = false;
};

FftPlan::FftPlan(gpu::Device& device, uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset)
    : device_(device), app_(std::make_unique<App>()) {
    init_glslang_once();
    App& a = *app_;
    a.physical = device.physical();
    a.device = device.handle();
    a.queue = device.queue();
    a.pool = device.command_pool();
    a.buffer = buffer;
    a.buffer_size = offset + rows * row_floats(n) * sizeof(float);
    VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    gpu::vk_check(device.vk().vkCreateFence(a.device, &fence_info, nullptr, &a.fence), "vkCreateFence");

    VkFFTConfiguration& c = a.config;
    c.FFTdim = 1;
    c.size[0] = n;
    c.numberBatches = rows;
    c.performR2C = 1;
    c.physicalDevice = &a.physical;
    c.device = &a.device;
    c.queue = &a.queue;
    c.commandPool = &a.pool;
    c.fence = &a.fence;
    c.isCompilerInitialized = 1;
    c.buffer = &a.buffer;
    c.bufferSize = &a.buffer_size;
    c.bufferOffset = offset;
    c.useLUT = 1;  // tabulated twiddles: accuracy independent of the device's sin/cos

    // Initialisation uploads tables through the queue, and VkFFT allocates command buffers from our pool.
    std::lock_guard<std::mutex> pool_lock(device.pool_mutex());
    device.lock_queue();
    const VkFFTResult result = initializeVkFFT(&a.app, c);
    device.unlock_queue();
    if (result != VKFFT_SUCCESS) {
        device.vk().vkDestroyFence(a.device, a.fence, nullptr);
        throw_vkfft(result, ("initializeVkFFT(n = " + std::to_string(n) + ", rows = " + std::to_string(rows) + ")").c_str());
    }
    a.initialised = true;
}

FftPlan::~FftPlan() {
    if (app_->initialised) deleteVkFFT(&app_->app);
    device_.vk().vkDestroyFence(app_->device, app_->fence, nullptr);
}

void FftPlan::record(VkCommandBuffer cmd, int direction) {
    VkFFTLaunchParams params{};
    params.commandBuffer = &cmd;
    const VkFFTResult result = VkFFTAppend(&app_->app, direction, &params);
    if (result != VKFFT_SUCCESS) throw_vkfft(result, "VkFFTAppend");
}

void FftPlan::record_forward(VkCommandBuffer cmd) { record(cmd, -1); }
void FftPlan::record_inverse(VkCommandBuffer cmd) { record(cmd, 1); }

FftPlan& FftPlanCache::get(uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto key = std::make_tuple(n, rows, buffer, offset);
    if (auto it = plans_.find(key); it != plans_.end()) return *it->second;
    auto plan = std::make_unique<FftPlan>(device_, n, rows, buffer, offset);
    return *plans_.emplace(key, std::move(plan)).first->second;
}

size_t FftPlanCache::created_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return plans_.size();
}

}  // namespace hyenavk::fft
