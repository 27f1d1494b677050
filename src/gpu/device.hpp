// A logical device with one compute queue, its own or borrowed, and the submission path.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <volk.h>

#include "hyenavk/diagnostics.hpp"
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

    // One-shot command buffers for uploads, downloads and plan building, from the device's command pool: the
    // caller holds pool_mutex() from begin_one_shot until submit_one_shot returns.
    VkCommandBuffer begin_one_shot();
    // Ends, submits and waits for `cmd`, then frees it.
    void submit_one_shot(VkCommandBuffer cmd);
    // Submits each of `cmds` as its own queue submission, in order, and waits for all of them. The context's
    // fence timeout applies to each submission; after a timeout or a lost device nothing they use may be freed.
    void submit_and_wait(const VkCommandBuffer* cmds, uint32_t count);

    // What submit_async waits for and signals around its command buffers.
    struct SubmitSync {
        VkSemaphore wait = VK_NULL_HANDLE;  // before the first command buffer
        uint64_t wait_value = 0;            // for a timeline semaphore
        VkPipelineStageFlags wait_stages = 0;
        VkSemaphore signal = VK_NULL_HANDLE;  // after the last one, besides the device's timeline
        uint64_t signal_value = 0;
        VkFence fence = VK_NULL_HANDLE;     // signalled after the last one
        uint64_t* timeline_value = nullptr; // receives the timeline value the last one signals (0: none)
    };
    // Queues `cmds` in order, one vkQueueSubmit each, and returns without waiting.
    void submit_async(const VkCommandBuffer* cmds, uint32_t count, const SubmitSync& sync);
    // The device's timeline semaphore (null where the device has none): submit_async signals a new value of it
    // after each batch, for hosts that chain their work after hyenavk's.
    VkSemaphore timeline_semaphore() const { return timeline_; }

    // Fences come from a pool, unsignalled; they go back once signalled (or never submitted).
    VkFence acquire_fence();
    void release_fence(VkFence fence);
    // vkWaitForFences, noting a lost device.
    VkResult wait_fence(VkFence fence, uint64_t timeout_ns);
    uint64_t fence_timeout_ns() const { return fence_timeout_ns_; }

    // The most estimated work (arithmetic operations, see ContextOptions::max_submission_work) a Recorder puts
    // into one command buffer; 0 for no bound.
    uint64_t max_submission_work() const { return max_submission_work_; }
    void set_max_submission_work(uint64_t work) { max_submission_work_ = work; }
    // Whether Recorders write a timestamp after every command (ContextOptions::profile_kernels); only where
    // the device has compute-queue timestamps.
    bool profiling() const { return profiling_; }
    void set_profiling(bool on) { profiling_ = on && info().caps.timestamps; }
    std::vector<KernelTime> last_kernel_times() const {
        std::lock_guard<std::mutex> lock(kernel_times_mutex_);
        return last_kernel_times_;
    }
    void set_last_kernel_times(std::vector<KernelTime> times) {
        std::lock_guard<std::mutex> lock(kernel_times_mutex_);
        last_kernel_times_ = std::move(times);
    }

    // Serialises use of the queue with the host (its lock callbacks) and with other hyenavk threads.
    void lock_queue();
    void unlock_queue();

    VkCommandPool command_pool() const { return command_pool_; }
    std::mutex& pool_mutex() { return pool_mutex_; }
    // A second pool, for the few commands recorded on every asynchronous submission (a forward's input and
    // output copies): recording them never waits for a transfer or an FFT set-up that holds pool_mutex().
    VkCommandPool submit_pool() const { return submit_pool_; }
    std::mutex& submit_pool_mutex() { return submit_pool_mutex_; }

    void memory_barrier(VkCommandBuffer cmd, VkPipelineStageFlags src_stages, VkAccessFlags src_access,
                        VkPipelineStageFlags dst_stages, VkAccessFlags dst_access) const;

    // Once a submission fails with VK_ERROR_DEVICE_LOST the device is unusable; every later call throws.
    void check_not_lost() const;
    bool lost() const { return lost_; }
    // Gives the device up with work that may still run (a timed-out wait, a forward waiting for a host semaphore
    // nobody signals): what that work uses can be neither waited for nor freed, and is left to the device's
    // destruction. After a plain lost device nothing runs any more, and objects are destroyed as usual.
    void abandon_work() {
        work_abandoned_ = true;
        lost_ = true;
    }
    bool work_abandoned() const { return work_abandoned_; }

    // Fault injection (hyenavk::inject_fault): arms a fault that the next queue submission or device-memory
    // allocation takes, once.
    void arm_fault(InjectedFault fault);
    // Whether `fault` was armed; disarms it.
    bool take_fault(InjectedFault fault);

private:
    Device() = default;
    void init_common();
    // vkQueueSubmit of one batch, under the queue lock, or an injected VK_ERROR_DEVICE_LOST.
    VkResult queue_submit(const VkSubmitInfo& submit, VkFence fence);

    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    bool owned_ = false;
    std::atomic<bool> lost_{false};
    std::atomic<bool> work_abandoned_{false};
    std::atomic<uint32_t> armed_faults_{0};  // bit (1 << InjectedFault)
    uint64_t fence_timeout_ns_ = 0;
    uint64_t max_submission_work_ = 0;
    bool profiling_ = false;
    std::vector<KernelTime> last_kernel_times_;
    DeviceInfo info_;
    VolkDeviceTable table_{};
    VkPhysicalDeviceMemoryProperties memory_properties_{};
    VkCommandPool command_pool_ = VK_NULL_HANDLE;
    VkCommandPool submit_pool_ = VK_NULL_HANDLE;
    std::mutex submit_pool_mutex_;
    std::vector<VkFence> all_fences_, free_fences_;
    std::mutex fence_mutex_;
    VkSemaphore timeline_ = VK_NULL_HANDLE;
    uint64_t timeline_value_ = 0;  // the last value submitted; under the queue lock
    mutable std::mutex kernel_times_mutex_;
    std::mutex pool_mutex_;
    std::mutex queue_mutex_;
    std::function<void()> host_lock_, host_unlock_;
};

}  // namespace hyenavk::gpu
