#include "fft/vkfft_plan.hpp"

// VkFFT calls Vulkan through the global entry points that volk provides (see gpu/loader.hpp).
#include <volk.h>
#include <vkFFT.h>  // the configure-time compatible copy (cmake/VkFFTCompat.cmake)

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "gpu/disk_cache.hpp"
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

// Whether a stored VkFFT application string has the shape VkFFT reads without checking: a sequence of SPIR-V
// modules, each preceded by its size in bytes, that ends exactly at the end of the string.
bool application_string_well_formed(const std::vector<uint8_t>& blob) {
    if (blob.empty() || blob.size() % 4 != 0) return false;
    const size_t words = blob.size() / 4;
    auto word = [&](size_t i) {
        uint32_t w;
        std::memcpy(&w, blob.data() + 4 * i, 4);
        return w;
    };
    size_t pos = 0;
    while (pos < words) {
        const uint32_t bytes = word(pos);
        if (bytes < 20 || bytes % 4 != 0 || bytes / 4 > words - pos - 1) return false;  // 20: a SPIR-V header
        if (word(pos + 1) != 0x07230203u) return false;                                // the SPIR-V magic number
        pos += 1 + bytes / 4;
    }
    return pos == words;
}

}  // namespace

uint64_t smooth_size(uint64_t n) {
    // Far beyond any FFT a device can hold; nearer 2^64 the search below would wrap and never end.
    if (n > kMaxSmoothSize)
        throw Error(ErrorCode::InvalidArgument,
                    "an FFT of " + std::to_string(n) + " points is beyond any device (at most 2^62)");
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

std::string FftPlan::cache_key(uint64_t n, uint64_t rows, VkDeviceSize offset) {
    // VkFFT bakes the sizes, the batch count and a nonzero buffer offset into its kernels. The device, driver
    // and hyenavk version are part of every disk-cache entry's header.
    return "vkfft" + std::to_string(VkFFTGetVersion()) + "-r2c-lut-f32-n" + std::to_string(n) + "-rows" +
           std::to_string(rows) + "-offset" + std::to_string(offset);
}

FftPlan::FftPlan(gpu::Device& device, uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset,
                 gpu::DiskCache* disk_cache)
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

    const bool use_disk = disk_cache && disk_cache->enabled();
    const std::string key = use_disk ? cache_key(n, rows, offset) : std::string();
    std::optional<std::vector<uint8_t>> stored;
    if (use_disk) {
        stored = disk_cache->load(key);
        if (stored && !application_string_well_formed(*stored)) stored.reset();
    }
    if (stored) {
        c.loadApplicationFromString = 1;
        c.loadApplicationString = stored->data();
    } else if (use_disk) {
        c.saveApplicationToString = 1;
    }

    VkFFTResult result;
    {
        // Initialisation uploads tables through the queue, and VkFFT allocates command buffers from our pool.
        std::lock_guard<std::mutex> pool_lock(device.pool_mutex());
        device.lock_queue();
        result = initializeVkFFT(&a.app, c);
        if (result != VKFFT_SUCCESS && stored) {
            // The stored kernels were refused: compile them afresh (VkFFT has released the failed attempt).
            stored.reset();
            a.app = VkFFTApplication{};
            c.loadApplicationFromString = 0;
            c.loadApplicationString = nullptr;
            c.saveApplicationToString = 1;
            result = initializeVkFFT(&a.app, c);
        }
        device.unlock_queue();
    }
    if (result == VKFFT_SUCCESS && stored) {
        loaded_from_disk_ = true;
    } else if (result == VKFFT_SUCCESS && use_disk && a.app.saveApplicationString && a.app.applicationStringSize) {
        disk_cache->store(key, {static_cast<const uint8_t*>(a.app.saveApplicationString),
                                static_cast<size_t>(a.app.applicationStringSize)});
    }
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

FftPlanCache::FftPlanCache(gpu::Device& device, gpu::DiskCache* disk_cache, size_t capacity)
    : device_(device), disk_cache_(disk_cache), capacity_(std::max<size_t>(capacity, 1)) {}

std::shared_ptr<FftPlan> FftPlanCache::get(uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Key key{n, rows, buffer, offset};
    if (auto it = index_.find(key); it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return it->second->plan;
    }
    auto plan = std::make_shared<FftPlan>(device_, n, rows, buffer, offset, disk_cache_);
    ++created_;
    if (plan->loaded_from_disk()) ++loaded_;
    lru_.push_front({key, plan});
    index_[key] = lru_.begin();
    while (lru_.size() > capacity_) {
        index_.erase(lru_.back().key);
        lru_.pop_back();  // the plan itself lives on wherever a shared_ptr to it is still held
    }
    return plan;
}

void FftPlanCache::forget(VkBuffer buffer) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = lru_.begin(); it != lru_.end();) {
        if (std::get<2>(it->key) == buffer) {
            index_.erase(it->key);
            it = lru_.erase(it);
        } else {
            ++it;
        }
    }
}

size_t FftPlanCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lru_.size();
}

size_t FftPlanCache::created_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return created_;
}

size_t FftPlanCache::loaded_from_disk_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return loaded_;
}

}  // namespace hyenavk::fft
