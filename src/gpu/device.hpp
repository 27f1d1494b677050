// A logical device with one compute queue, its own or borrowed, and the submission path.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <volk.h>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

class Device {
public:
    // Creates a device on `physical_device` with the optional features that `info.caps` reports enabled.
    static std::unique_ptr<Device> create(VkPhysicalDevice physical_device, const DeviceInfo& info,
                                          uint64_t fence_timeout_ns);
    // Wraps a host's device. `info.caps` must already reflect what the host enabled.
    static std::unique_ptr<Device> borrow(const BorrowedDevice& borrowed, const DeviceInfo& info,
                                          uint64_t fence_timeout_ns);
    ~Device();

    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice handle() const { return device_; }
    VkPhysicalDevice physical() const { return physical_; }
    VkQueue queue() const { return queue_; }
    uint32_t queue_family() const { return queue_family_; }
    const VolkDeviceTable& vk() const { return table_; }
    const DeviceInfo& info() const { return info_; }
    const DeviceCaps& caps() const { return info_.caps; }
    bool borrowed() const { return !owned_; }
    const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_properties_; }

    // One-shot command buffers for uploads, downloads and plan building.
    VkCommandBuffer begin_one_shot();
    // Ends, submits and waits for `cmd`, then frees it.
    void submit_one_shot(VkCommandBuffer cmd);
    // Submits each of `cmds` as its own queue submission, in order, and waits for all of them. The context's
    // fence timeout applies to each submission; after a timeout or a lost device nothing they use may be freed.
    void submit_and_wait(const VkCommandBuffer* cmds, uint32_t count);

    // The most estimated work (arithmetic operations, see ContextOptions::max_submission_work) a Recorder puts
    // into one command buffer; 0 for no bound.
    uint64_t max_submission_work() const { return max_submission_work_; }
    void set_max_submission_work(uint64_t work) { max_submission_work_ = work; }
    // Whether Recorders write a timestamp after every command (ContextOptions::profile_kernels); only where
    // the device has compute-queue timestamps.
    bool profiling() const { return profiling_; }
    void set_profiling(bool on) { profiling_ = on && info().caps.timestamps; }
    const std::vector<KernelTime>& last_kernel_times() const { return last_kernel_times_; }
    void set_last_kernel_times(std::vector<KernelTime> times) { last_kernel_times_ = std::move(times); }

    // Serialises use of the queue with the host (its lock callbacks) and with other hyenavk threads.
    void lock_queue();
    void unlock_queue();

    VkCommandPool command_pool() const { return command_pool_; }
    std::mutex& pool_mutex() { return pool_mutex_; }

    void memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stages, VkAccessFlags src_access,
                        VkPipelineStageFlags dst_stages, VkAccessFlags dst_access) const;

    // Once a submission fails with VK_ERROR_DEVICE_LOST the device is unusable; every later call throws.
    void check_not_lost() const;
    bool lost() const { return lost_; }

private:
    Device() = default;
    void init_common();

    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    bool owned_ = false;
    bool lost_ = false;
    uint64_t fence_timeout_ns_ = 0;
    uint64_t max_submission_work_ = 0;
    bool profiling_ = false;
    std::vector<KernelTime> last_kernel_times_;
    DeviceInfo info_;
    VolkDeviceTable table_{};
    VkPhysicalDeviceMemoryProperties memory_properties_{};
    VkCommandPool command_pool_ = VK_NULL_HANDLE;
    // One fence per submission in flight: submit_and_wait keeps up to two queued so the GPU never idles
    // between the submissions of a split plan.
    std::array<VkFence, 2> fences_{};
    std::mutex pool_mutex_;
    std::mutex queue_mutex_;
    std::function<void()> host_lock_, host_unlock_;
};

}  // namespace hyenavk::gpu
