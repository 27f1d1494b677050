// A host application's own Vulkan instance and device, created the way a renderer would, for lending to
// hyenavk with Context::borrow. The instance loads the validation layer with synchronization validation and
// reports through test::counting_log(), so hyenavk's use of the host's device, and every hand-over of work
// between the host's submissions and hyenavk's, is checked. The device enables exactly what
// required_device_setup asks for (less timeline semaphores, where the options say so).
//
// Buffers, semaphores, command buffers and fences made here belong to the host and go with it: destroy every
// model and context that borrows the device first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include <doctest/doctest.h>
#include <volk.h>

#include "gpu/loader.hpp"
#include "hyenavk/hyenavk.hpp"
#include "support/gpu_fixture.hpp"

namespace hyenavk::test {

struct HostDeviceOptions {
    // The apiVersion the host creates its instance with (capped at the loader's): under 1.2, what Vulkan 1.2
    // promoted, timeline semaphores among it, is extension territory.
    uint32_t api_version = VK_API_VERSION_1_3;
    // Enable timeline semaphores where required_device_setup offers them.
    bool timeline_semaphore = true;
};

// A host-visible, coherent buffer of the host's, mapped for its whole life.
struct HostBuffer {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    std::byte* mapped = nullptr;

    float* floats(VkDeviceSize byte_offset = 0) const { return reinterpret_cast<float*>(mapped + byte_offset); }
};

// A semaphore of the host's as one of its submissions waits on or signals it: binary, or timeline at `value`.
struct HostSync {
    VkSemaphore semaphore = VK_NULL_HANDLE;
    uint64_t value = 0;
    bool timeline = false;
};

class HostDevice {
public:
    // Longest the host waits for one of its fences: lavapipe under validation is slow, but not this slow.
    static constexpr uint64_t kTimeoutNs = 120'000'000'000ull;

    explicit HostDevice(const HostDeviceOptions& options = {}) {
        try {
            create_instance(options.api_version);
            create_device(options.timeline_semaphore);
        } catch (...) {
            release();
            throw;
        }
    }
    ~HostDevice() { release(); }
    HostDevice(const HostDevice&) = delete;
    HostDevice& operator=(const HostDevice&) = delete;

    // The device as hyenavk borrows it: exactly what the host enabled, and the host's queue lock.
    BorrowedDevice lend() {
        BorrowedDevice lent;
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

    uint32_t api_version() const { return api_version_; }
    // What the device was created with.
    const DeviceSetup& setup() const { return setup_; }
    VkDevice device() const { return device_; }
    const VolkDeviceTable& vk() const { return vk_; }

    HostBuffer create_buffer(VkDeviceSize size, VkBufferUsageFlags usage) {
        HostBuffer b;
        b.size = size;
        VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        info.size = size;
        info.usage = usage;
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        REQUIRE(vk_.vkCreateBuffer(device_, &info, nullptr, &b.buffer) == VK_SUCCESS);
        buffers_.push_back(b.buffer);
        VkMemoryRequirements requirements;
        vk_.vkGetBufferMemoryRequirements(device_, b.buffer, &requirements);
        VkPhysicalDeviceMemoryProperties memory;
        vkGetPhysicalDeviceMemoryProperties(physical_, &memory);
        const VkMemoryPropertyFlags wanted = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        uint32_t type = 0;
        while (type < memory.memoryTypeCount && !((requirements.memoryTypeBits & (1u << type)) &&
                                                  (memory.memoryTypes[type].propertyFlags & wanted) == wanted))
            ++type;
        REQUIRE(type < memory.memoryTypeCount);
        VkMemoryAllocateInfo allocate{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
        allocate.allocationSize = requirements.size;
        allocate.memoryTypeIndex = type;
        REQUIRE(vk_.vkAllocateMemory(device_, &allocate, nullptr, &b.memory) == VK_SUCCESS);
        memories_.push_back(b.memory);
        REQUIRE(vk_.vkBindBufferMemory(device_, b.buffer, b.memory, 0) == VK_SUCCESS);
        void* mapped = nullptr;
        REQUIRE(vk_.vkMapMemory(device_, b.memory, 0, VK_WHOLE_SIZE, 0, &mapped) == VK_SUCCESS);
        b.mapped = static_cast<std::byte*>(mapped);
        return b;
    }

    VkSemaphore create_semaphore(bool timeline) {
        VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
        type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
        VkSemaphoreCreateInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        if (timeline) info.pNext = &type;
        VkSemaphore semaphore = VK_NULL_HANDLE;
        REQUIRE(vk_.vkCreateSemaphore(device_, &info, nullptr, &semaphore) == VK_SUCCESS);
        semaphores_.push_back(semaphore);
        return semaphore;
    }

    // Records `record` into a command buffer of its own and submits it on the shared queue: waiting for
    // `wait_for` at the transfer and compute stages (where it has a semaphore), then signalling `signal` (where
    // it has one) and the fence returned.
    VkFence submit(const std::function<void(VkCommandBuffer)>& record, const HostSync& wait_for = {},
                   const HostSync& signal = {}) {
        VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        alloc.commandPool = pool_;
        alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        alloc.commandBufferCount = 1;
        VkCommandBuffer cmd = VK_NULL_HANDLE;
        REQUIRE(vk_.vkAllocateCommandBuffers(device_, &alloc, &cmd) == VK_SUCCESS);
        commands_.push_back(cmd);
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        REQUIRE(vk_.vkBeginCommandBuffer(cmd, &begin) == VK_SUCCESS);
        record(cmd);
        REQUIRE(vk_.vkEndCommandBuffer(cmd) == VK_SUCCESS);

        VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        VkFence fence = VK_NULL_HANDLE;
        REQUIRE(vk_.vkCreateFence(device_, &fence_info, nullptr, &fence) == VK_SUCCESS);
        fences_.push_back(fence);

        const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
        VkTimelineSemaphoreSubmitInfo values{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
        VkSubmitInfo info{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        info.commandBufferCount = 1;
        info.pCommandBuffers = &cmd;
        if (wait_for.semaphore != VK_NULL_HANDLE) {
            info.waitSemaphoreCount = 1;
            info.pWaitSemaphores = &wait_for.semaphore;
            info.pWaitDstStageMask = &stages;
            values.waitSemaphoreValueCount = 1;
            values.pWaitSemaphoreValues = &wait_for.value;
        }
        if (signal.semaphore != VK_NULL_HANDLE) {
            info.signalSemaphoreCount = 1;
            info.pSignalSemaphores = &signal.semaphore;
            values.signalSemaphoreValueCount = 1;
            values.pSignalSemaphoreValues = &signal.value;
        }
        if (wait_for.timeline || signal.timeline) info.pNext = &values;
        std::lock_guard<std::mutex> lock(queue_mutex_);
        REQUIRE(vk_.vkQueueSubmit(queue_, 1, &info, fence) == VK_SUCCESS);
        return fence;
    }

    void wait(VkFence fence) { REQUIRE(vk_.vkWaitForFences(device_, 1, &fence, VK_TRUE, kTimeoutNs) == VK_SUCCESS); }

    // A submission after `wait_for` whose barrier makes every transfer and shader write queued before it visible
    // to host reads, waited for: afterwards the mapped buffers hold what the device wrote.
    void read_back_after(const HostSync& wait_for = {}) {
        wait(submit(
            [this](VkCommandBuffer cmd) {
                VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
                to_host.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT;
                to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
                vk_.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0, nullptr);
            },
            wait_for));
    }

    // Copies `bytes` from `src` to `dst` on the device, after `wait_for`, signalling `signal`.
    VkFence copy(const HostBuffer& src, VkDeviceSize src_offset, const HostBuffer& dst, VkDeviceSize dst_offset,
                 VkDeviceSize bytes, const HostSync& wait_for = {}, const HostSync& signal = {}) {
        return submit(
            [&](VkCommandBuffer cmd) {
                const VkBufferCopy region{src_offset, dst_offset, bytes};
                vk_.vkCmdCopyBuffer(cmd, src.buffer, dst.buffer, 1, &region);
            },
            wait_for, signal);
    }

    // Whether signal_from_host can work: check before queueing work that waits for it, or that work never ends.
    bool can_signal_from_host() const { return signal_semaphore() != nullptr; }
    // Sets a timeline semaphore from the host, as a host thread that finishes CPU work does.
    void signal_from_host(VkSemaphore timeline, uint64_t value) {
        VkSemaphoreSignalInfo info{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO};
        info.semaphore = timeline;
        info.value = value;
        REQUIRE(can_signal_from_host());
        REQUIRE(signal_semaphore()(device_, &info) == VK_SUCCESS);
    }

private:
    PFN_vkSignalSemaphore signal_semaphore() const {
        return api_version_ >= VK_API_VERSION_1_2 ? vk_.vkSignalSemaphore : vk_.vkSignalSemaphoreKHR;
    }

    void create_instance(uint32_t wanted_version) {
        gpu::ensure_loader();
        uint32_t loader_version = VK_API_VERSION_1_1;
        REQUIRE(vkEnumerateInstanceVersion(&loader_version) == VK_SUCCESS);
        api_version_ = std::min(wanted_version, loader_version);

        VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
        app.pApplicationName = "hyenavk-tests-host";
        app.apiVersion = api_version_;
        const char* layer = "VK_LAYER_KHRONOS_validation";
        const char* extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};

        messenger_info_.messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        messenger_info_.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                      VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        messenger_info_.pfnUserCallback = on_message;
        // Synchronization validation is what checks the hand-over between the host's work and hyenavk's.
        static const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
        VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
        features.enabledValidationFeatureCount = 1;
        features.pEnabledValidationFeatures = enables;
        features.pNext = &messenger_info_;  // so vkCreateInstance and vkDestroyInstance report too

        VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
        info.pNext = &features;
        info.pApplicationInfo = &app;
        info.enabledLayerCount = 1;
        info.ppEnabledLayerNames = &layer;
        info.enabledExtensionCount = 2;
        info.ppEnabledExtensionNames = extensions;
        REQUIRE(vkCreateInstance(&info, nullptr, &instance_) == VK_SUCCESS);
        volkLoadInstanceOnly(instance_);
        const auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
        destroy_messenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
        const bool loaded = create != nullptr && destroy_messenger_ != nullptr;
        REQUIRE(loaded);
        REQUIRE(create(instance_, &messenger_info_, nullptr, &messenger_) == VK_SUCCESS);
    }

    void create_device(bool allow_timeline) {
        uint32_t count = 1;
        const VkResult listed = vkEnumeratePhysicalDevices(instance_, &count, &physical_);
        REQUIRE((listed == VK_SUCCESS || listed == VK_INCOMPLETE));
        REQUIRE(physical_ != VK_NULL_HANDLE);

        setup_ = required_device_setup(instance_, physical_);
        setup_.timeline_semaphore = setup_.timeline_semaphore && allow_timeline;
        std::vector<const char*> extensions;
        for (const auto& e : setup_.extensions) extensions.push_back(e.c_str());

        // Each feature struct is chained only where something in it is enabled.
        VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
        VkPhysicalDeviceShaderFloat16Int8Features float16_int8{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
        VkPhysicalDevice8BitStorageFeatures storage8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
        VkPhysicalDeviceTimelineSemaphoreFeatures timeline{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
        void** next = &features.pNext;
        const auto link = [&next](auto& s) {
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

        uint32_t family_count = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, nullptr);
        std::vector<VkQueueFamilyProperties> families(family_count);
        vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, families.data());
        family_ = 0;
        while (family_ < family_count && !(families[family_].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++family_;
        REQUIRE(family_ < family_count);

        const float priority = 1.0f;
        VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
        queue_info.queueFamilyIndex = family_;
        queue_info.queueCount = 1;
        queue_info.pQueuePriorities = &priority;
        VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
        info.pNext = &features;
        info.queueCreateInfoCount = 1;
        info.pQueueCreateInfos = &queue_info;
        info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
        info.ppEnabledExtensionNames = extensions.data();
        REQUIRE(vkCreateDevice(physical_, &info, nullptr, &device_) == VK_SUCCESS);
        volkLoadDeviceTable(&vk_, device_);
        vk_.vkGetDeviceQueue(device_, family_, 0, &queue_);

        VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        pool_info.queueFamilyIndex = family_;
        REQUIRE(vk_.vkCreateCommandPool(device_, &pool_info, nullptr, &pool_) == VK_SUCCESS);
    }

    // Everything in reverse order of creation; safe on a partly built host.
    void release() noexcept {
        if (device_ != VK_NULL_HANDLE) {
            vk_.vkDeviceWaitIdle(device_);
            for (VkFence f : fences_) vk_.vkDestroyFence(device_, f, nullptr);
            if (pool_ != VK_NULL_HANDLE) vk_.vkDestroyCommandPool(device_, pool_, nullptr);  // frees commands_
            for (VkSemaphore s : semaphores_) vk_.vkDestroySemaphore(device_, s, nullptr);
            for (VkBuffer b : buffers_) vk_.vkDestroyBuffer(device_, b, nullptr);
            for (VkDeviceMemory m : memories_) vk_.vkFreeMemory(device_, m, nullptr);
            vk_.vkDestroyDevice(device_, nullptr);
            device_ = VK_NULL_HANDLE;
        }
        if (messenger_ != VK_NULL_HANDLE) destroy_messenger_(instance_, messenger_, nullptr);
        messenger_ = VK_NULL_HANDLE;
        if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
        instance_ = VK_NULL_HANDLE;
    }

    static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
        counting_log()(LogLevel::Error, data && data->pMessage ? data->pMessage : "(no message)");
        return VK_FALSE;
    }

    uint32_t api_version_ = VK_API_VERSION_1_1;
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerCreateInfoEXT messenger_info_{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    DeviceSetup setup_;
    uint32_t family_ = 0;
    VkDevice device_ = VK_NULL_HANDLE;
    VolkDeviceTable vk_{};
    VkQueue queue_ = VK_NULL_HANDLE;
    std::mutex queue_mutex_;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    std::vector<VkCommandBuffer> commands_;
    std::vector<VkFence> fences_;
    std::vector<VkSemaphore> semaphores_;
    std::vector<VkBuffer> buffers_;
    std::vector<VkDeviceMemory> memories_;
};

}  // namespace hyenavk::test
