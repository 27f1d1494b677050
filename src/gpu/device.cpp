#include "gpu/device.hpp"

#include <algorithm>

#include <string>

#include "gpu/device_probe.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

uint32_t find_compute_family(VkPhysicalDevice physical_device) {
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, nullptr);
    std::vector<VkQueueFamilyProperties> families(count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, families.data());
    // Prefer a compute-only family (async compute on discrete GPUs), else any family with compute.
    for (uint32_t i = 0; i < count; ++i)
        if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            return i;
    for (uint32_t i = 0; i < count; ++i)
        if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return i;
    throw Error(ErrorCode::Unsupported, "the device has no compute queue");
}

}  // namespace

std::unique_ptr<Device> Device::create(VkPhysicalDevice physical_device, const DeviceInfo& info,
                                       uint64_t fence_timeout_ns) {
    std::unique_ptr<Device> self(new Device());
    self->physical_ = physical_device;
    self->info_ = info;
    self->owned_ = true;
    self->fence_timeout_ns_ = fence_timeout_ns;
    self->queue_family_ = find_compute_family(physical_device);

    const DeviceCaps& caps = info.caps;
    const DeviceSetup setup = wanted_setup(physical_device, caps.api_version);
    std::vector<const char*> extensions;
    for (const auto& e : setup.extensions) extensions.push_back(e.c_str());

    VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features float16_int8{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice8BitStorageFeatures storage8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    void** next = &features.pNext;
    auto link = [&next](auto& s) {
        *next = &s;
        next = &s.pNext;
    };
    // Only what the (possibly clamped) caps allow is enabled, so a clamp also hides the feature from shaders.
    if (caps.storage_buffer_16bit) {
        storage16.storageBuffer16BitAccess = VK_TRUE;
        link(storage16);
    }
    if (caps.shader_float16 || caps.shader_int8) {
        float16_int8.shaderFloat16 = caps.shader_float16;
        float16_int8.shaderInt8 = caps.shader_int8;
        link(float16_int8);
    }
    if (caps.storage_buffer_8bit) {
        storage8.storageBuffer8BitAccess = VK_TRUE;
        link(storage8);
    }
    if (caps.timeline_semaphore) {
        timeline.timelineSemaphore = VK_TRUE;
        link(timeline);
    }

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queue_info.queueFamilyIndex = self->queue_family_;
    queue_info.queueCount = 1;
    queue_info.pQueuePriorities = &priority;

    VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    device_info.pNext = &features;
    device_info.queueCreateInfoCount = 1;
    device_info.pQueueCreateInfos = &queue_info;
    device_info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    device_info.ppEnabledExtensionNames = extensions.data();
    vk_check(vkCreateDevice(physical_device, &device_info, nullptr, &self->device_), "vkCreateDevice");
    volkLoadDeviceTable(&self->table_, self->device_);
    self->table_.vkGetDeviceQueue(self->device_, self->queue_family_, 0, &self->queue_);
    self->init_common();
    return self;
}

std::unique_ptr<Device> Device::borrow(const BorrowedDevice& borrowed, const DeviceInfo& info,
                                       uint64_t fence_timeout_ns) {
    if (borrowed.device == VK_NULL_HANDLE || borrowed.queue == VK_NULL_HANDLE ||
        borrowed.physical_device == VK_NULL_HANDLE)
        throw Error(ErrorCode::InvalidArgument, "borrowed device, physical device and queue must all be set");
    if (static_cast<bool>(borrowed.lock_queue) != static_cast<bool>(borrowed.unlock_queue))
        throw Error(ErrorCode::InvalidArgument, "borrowed device: give both lock_queue and unlock_queue, or neither");
    uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(borrowed.physical_device, &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(borrowed.physical_device, &family_count, families.data());
    if (borrowed.queue_family_index >= family_count ||
        !(families[borrowed.queue_family_index].queueFlags & VK_QUEUE_COMPUTE_BIT))
        throw Error(ErrorCode::InvalidArgument, "borrowed queue family " +
                                                    std::to_string(borrowed.queue_family_index) +
                                                    " does not exist or has no compute support");
    std::unique_ptr<Device> self(new Device());
    self->physical_ = borrowed.physical_device;
    self->device_ = borrowed.device;
    self->queue_ = borrowed.queue;
    self->queue_family_ = borrowed.queue_family_index;
    self->info_ = info;
    self->owned_ = false;
    self->fence_timeout_ns_ = fence_timeout_ns;
    self->host_lock_ = borrowed.lock_queue;
    self->host_unlock_ = borrowed.unlock_queue;
    volkLoadDeviceTable(&self->table_, self->device_);
    self->init_common();
    return self;
}

void Device::init_common() {
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory_properties_);
    VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool_info.queueFamilyIndex = queue_family_;
    vk_check(table_.vkCreateCommandPool(device_, &pool_info, nullptr, &command_pool_), "vkCreateCommandPool");
    vk_check(table_.vkCreateCommandPool(device_, &pool_info, nullptr, &submit_pool_), "vkCreateCommandPool");
    if (info_.caps.timeline_semaphore) {
        VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
        type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
        type.initialValue = 0;
        VkSemaphoreCreateInfo semaphore_info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        semaphore_info.pNext = &type;
        vk_check(table_.vkCreateSemaphore(device_, &semaphore_info, nullptr, &timeline_), "vkCreateSemaphore");
    }
}

Device::~Device() {
    if (device_ == VK_NULL_HANDLE) return;
    // An own device is idle before its synchronisation objects go, so no driver thread still holds one.
    if (owned_ && !lost_) table_.vkDeviceWaitIdle(device_);
    // Wait for our own work only: a borrowed device's queue may carry the host's work too, which is its business.
    // Fences not in flight are kept signalled, so this returns at once for them.
    for (VkFence fence : all_fences_) {
        if (!lost_) table_.vkWaitForFences(device_, 1, &fence, VK_TRUE, fence_timeout_ns_);
        table_.vkDestroyFence(device_, fence, nullptr);
    }
    if (timeline_ != VK_NULL_HANDLE) table_.vkDestroySemaphore(device_, timeline_, nullptr);
    if (command_pool_ != VK_NULL_HANDLE) table_.vkDestroyCommandPool(device_, command_pool_, nullptr);
    if (submit_pool_ != VK_NULL_HANDLE) table_.vkDestroyCommandPool(device_, submit_pool_, nullptr);
    if (owned_) {
        table_.vkDeviceWaitIdle(device_);
        table_.vkDestroyDevice(device_, nullptr);
    }
}

VkFence Device::acquire_fence() {
    std::lock_guard<std::mutex> lock(fence_mutex_);
    VkFence fence = VK_NULL_HANDLE;
    if (!free_fences_.empty()) {
        fence = free_fences_.back();
        free_fences_.pop_back();
    } else {
        VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        fence_info.flags = VK_FENCE_CREATE_SIGNALED_BIT;
        vk_check(table_.vkCreateFence(device_, &fence_info, nullptr, &fence), "vkCreateFence");
        all_fences_.push_back(fence);
    }
    vk_check(table_.vkResetFences(device_, 1, &fence), "vkResetFences");
    return fence;
}

void Device::release_fence(VkFence fence) {
    if (fence == VK_NULL_HANDLE) return;
    std::lock_guard<std::mutex> lock(fence_mutex_);
    // After a lost device or a timeout the work may still run: the fence is left to the device's destruction.
    if (lost_) return;
    // Released fences have signalled, except one whose submission failed: that one is not reused.
    if (table_.vkGetFenceStatus(device_, fence) != VK_SUCCESS) {
        all_fences_.erase(std::find(all_fences_.begin(), all_fences_.end(), fence));
        table_.vkDestroyFence(device_, fence, nullptr);
        return;
    }
    free_fences_.push_back(fence);
}

VkResult Device::wait_fence(VkFence fence, uint64_t timeout_ns) {
    const VkResult waited = table_.vkWaitForFences(device_, 1, &fence, VK_TRUE, timeout_ns);
    if (waited == VK_ERROR_DEVICE_LOST) lost_ = true;
    return waited;
}

void Device::submit_async(const VkCommandBuffer* cmds, uint32_t count, const SubmitSync& sync) {
    check_not_lost();
    if (count == 0) throw Error(ErrorCode::Internal, "submit_async without command buffers");
    const bool timeline = timeline_ != VK_NULL_HANDLE;
    std::array<VkSemaphore, 2> signal{};
    std::array<uint64_t, 2> signal_values{};
    uint32_t signal_count = 0;
    if (sync.signal != VK_NULL_HANDLE) {
        signal[signal_count] = sync.signal;
        signal_values[signal_count++] = sync.signal_value;
    }
    lock_queue();
    struct Unlock {
        Device* self;
        ~Unlock() { self->unlock_queue(); }
    } unlock{this};
    // Values are handed out under the queue lock, so they rise in submission order as a timeline requires.
    uint64_t value = 0;
    if (timeline) {
        value = ++timeline_value_;
        signal[signal_count] = timeline_;
        signal_values[signal_count++] = value;
    }
    // One vkQueueSubmit per command buffer, for the reason submit_and_wait gives; all queued at once.
    for (uint32_t i = 0; i < count; ++i) {
        const bool first = i == 0, last = i + 1 == count;
        VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &cmds[i];
        VkTimelineSemaphoreSubmitInfo values{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
        if (first && sync.wait != VK_NULL_HANDLE) {
            submit.waitSemaphoreCount = 1;
            submit.pWaitSemaphores = &sync.wait;
            submit.pWaitDstStageMask = &sync.wait_stages;
            values.waitSemaphoreValueCount = 1;
            values.pWaitSemaphoreValues = &sync.wait_value;
        }
        if (last) {
            submit.signalSemaphoreCount = signal_count;
            submit.pSignalSemaphores = signal.data();
            values.signalSemaphoreValueCount = signal_count;
            values.pSignalSemaphoreValues = signal_values.data();
        }
        if (timeline && (submit.waitSemaphoreCount || submit.signalSemaphoreCount)) submit.pNext = &values;
        const VkResult submitted = queue_submit(submit, last ? sync.fence : VK_NULL_HANDLE);
        if (submitted == VK_ERROR_DEVICE_LOST) lost_ = true;
        vk_check(submitted, "vkQueueSubmit");
    }
    if (sync.timeline_value) *sync.timeline_value = value;
}

void Device::memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stages, VkAccessFlags src_access,
                            VkPipelineStageFlags dst_stages, VkAccessFlags dst_access) const {
    VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    b.srcAccessMask = src_access;
    b.dstAccessMask = dst_access;
    table_.vkCmdPipelineBarrier(cmd, src_stages, dst_stages, 0, 1, &b, 0, nullptr, 0, nullptr);
}

void Device::arm_fault(InjectedFault fault) { armed_faults_ |= 1u << static_cast<uint32_t>(fault); }

bool Device::take_fault(InjectedFault fault) {
    const uint32_t bit = 1u << static_cast<uint32_t>(fault);
    return (armed_faults_.fetch_and(~bit) & bit) != 0;
}

VkResult Device::queue_submit(const VkSubmitInfo& submit, VkFence fence) {
    if (take_fault(InjectedFault::DeviceLost)) {
        // As a lost device would leave it, except that the queue's earlier work has finished: nothing is left
        // in flight, so whatever the callers give up can still be destroyed cleanly.
        table_.vkQueueWaitIdle(queue_);
        return VK_ERROR_DEVICE_LOST;
    }
    return table_.vkQueueSubmit(queue_, 1, &submit, fence);
}

void Device::check_not_lost() const {
    if (lost_) throw Error(ErrorCode::DeviceLost, "the Vulkan device was lost earlier; create a new context");
}

void Device::lock_queue() {
    queue_mutex_.lock();
    if (host_lock_) host_lock_();
}

void Device::unlock_queue() {
    if (host_unlock_) host_unlock_();
    queue_mutex_.unlock();
}

VkCommandBuffer Device::begin_one_shot() {
    check_not_lost();
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = command_pool_;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    vk_check(table_.vkAllocateCommandBuffers(device_, &alloc, &cmd), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vk_check(table_.vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    // Order this command buffer after host writes and after earlier submissions' GPU work.
    memory_barrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_MEMORY_WRITE_BIT | VK_ACCESS_HOST_WRITE_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                   VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT);
    return cmd;
}

void Device::submit_one_shot(VkCommandBuffer cmd) {
    struct FreeOnExit {
        Device* self;
        VkCommandBuffer cmd;
        ~FreeOnExit() {
            // After a timeout the buffer may still be executing; freeing it would pull it from under the driver.
            if (self->work_abandoned_) return;
            self->table_.vkFreeCommandBuffers(self->device_, self->command_pool_, 1, &cmd);
        }
    } free_on_exit{this, cmd};
    // The host reads results after the fence: make the writes visible to it.
    memory_barrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_ACCESS_MEMORY_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_HOST_READ_BIT);
    vk_check(table_.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    submit_and_wait(&cmd, 1);
}

void Device::submit_and_wait(const VkCommandBuffer* cmds, uint32_t count) {
    check_not_lost();
    // Each command buffer goes to the queue in a vkQueueSubmit of its own, not as one of several VkSubmitInfos
    // of a single call: a driver may merge the batches of one call into one job (chained command buffers),
    // which a watchdog then times as a whole, and a host sharing a borrowed queue could not get its own work
    // (a frame) in between. Two submissions at most are queued at a time: the next one is ready when the
    // current one ends, so the GPU does not idle between them, while each is still waited for with the fence
    // timeout of its own.
    struct Fences {
        Device* self;
        std::array<VkFence, 2> fences{};
        ~Fences() {
            for (VkFence f : fences) self->release_fence(f);
        }
    } fences{this};
    std::array<bool, 2> pending{};
    const auto wait = [&](uint32_t slot) {
        pending[slot] = false;
        const VkResult waited = wait_fence(fences.fences[slot], fence_timeout_ns_);
        if (waited == VK_TIMEOUT) {
            // The work may still complete; we cannot reuse resources it touches, so the context is given up.
            abandon_work();
            throw Error(ErrorCode::Timeout, "vkWaitForFences timed out after " +
                                                std::to_string(fence_timeout_ns_ / 1000000) +
                                                " ms; the context can no longer be used");
        }
        vk_check(waited, "vkWaitForFences");
    };
    try {
        for (uint32_t i = 0; i < count; ++i) {
            const uint32_t slot = i % 2;
            if (pending[slot]) wait(slot);
            if (fences.fences[slot] == VK_NULL_HANDLE)
                fences.fences[slot] = acquire_fence();
            else
                vk_check(table_.vkResetFences(device_, 1, &fences.fences[slot]), "vkResetFences");
            VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
            submit.commandBufferCount = 1;
            submit.pCommandBuffers = &cmds[i];
            lock_queue();
            const VkResult submitted = queue_submit(submit, fences.fences[slot]);
            unlock_queue();
            if (submitted == VK_ERROR_DEVICE_LOST) lost_ = true;
            vk_check(submitted, "vkQueueSubmit");
            pending[slot] = true;
        }
        for (uint32_t i = count < 2 ? 0 : count - 2; i < count; ++i)
            if (pending[i % 2]) wait(i % 2);
    } catch (...) {
        // A submission that failed leaves the one before it queued: it must end before the caller may touch
        // (or free) what it uses, or reset its fence. If it does not, the device is given up.
        for (uint32_t slot = 0; slot < 2 && !lost_; ++slot)
            if (pending[slot] && wait_fence(fences.fences[slot], fence_timeout_ns_) != VK_SUCCESS) abandon_work();
        throw;
    }
}

}  // namespace hyenavk::gpu
