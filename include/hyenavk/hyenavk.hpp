// hyenavk: Striped Hyena sequence models on any Vulkan 1.1 device.
//
// The public C++ surface. It is small on purpose and shaped so that a C ABI can mirror it one to one:
// plain option structs, value types for device facts, one handle class per object, errors as exceptions
// of a single type that carries a code.
//
// Thread safety: every function and method may be called from any thread, also at once on one Context or
// Model (model.hpp says what waits for what); an object must not be used while it is moved or destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <vulkan/vulkan_core.h>  // handle types for the borrowed-device path; no function is called through it

#include "hyenavk/export.h"
#include "hyenavk/version.h"

namespace hyenavk {

struct Version {
    int major = 0;
    int minor = 0;
    int patch = 0;
};

// The version of the library loaded at run time (may differ from the HYENAVK_VERSION_* macros compiled in).
HYENAVK_API Version runtime_version() noexcept;
HYENAVK_API std::string version_string();

enum class ErrorCode {
    InvalidArgument,  // a caller's value is out of range or inconsistent
    NotFound,         // a named device, tensor, file or key does not exist
    Unsupported,      // the device lacks a feature or extension that was asked for
    DeviceLimit,      // a size exceeds a device limit (storage-buffer range, allocation size, ...)
    OutOfMemory,      // host or device memory ran out
    DeviceLost,       // the device was lost; the context cannot be used any more
    Timeout,          // a wait on the GPU exceeded its timeout
    Vulkan,           // any other failing Vulkan call (the message names it)
    Io,               // reading or writing a file failed
    Format,           // a file or value is malformed
    Internal,         // a broken invariant inside hyenavk
};
HYENAVK_API const char* to_string(ErrorCode code) noexcept;

// Every failure in hyenavk is reported as this exception; what() names the problem (and the Vulkan call, if any).
class HYENAVK_API Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message);
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

enum class DeviceType { Other, IntegratedGpu, DiscreteGpu, VirtualGpu, Cpu };
HYENAVK_API const char* to_string(DeviceType type) noexcept;

// What a device can do, as probed at start-up (and optionally clamped, see CapsClamp). Every fast path in
// hyenavk consults this struct instead of assuming a property of the hardware.
struct DeviceCaps {
    uint32_t api_version = 0;  // the Vulkan version hyenavk uses on this device (min of instance and device)

    uint64_t max_storage_buffer_range = 0;
    uint64_t max_memory_allocation_size = 0;
    uint64_t min_storage_buffer_offset_alignment = 0;
    uint64_t non_coherent_atom_size = 0;
    uint64_t device_local_memory = 0;  // size of the largest DEVICE_LOCAL heap
    uint32_t max_compute_shared_memory = 0;
    uint32_t max_workgroup_invocations = 0;
    std::array<uint32_t, 3> max_workgroup_size{};
    std::array<uint32_t, 3> max_workgroup_count{};
    uint32_t max_push_constants_size = 0;
    uint32_t max_bound_descriptor_sets = 0;

    uint32_t subgroup_size = 0;
    bool subgroup_basic = false;
    bool subgroup_arithmetic = false;
    bool subgroup_ballot = false;
    bool subgroup_shuffle = false;

    bool storage_buffer_16bit = false;  // 16-bit values in storage buffers (fp16 storage)
    bool shader_float16 = false;        // 16-bit float arithmetic
    bool storage_buffer_8bit = false;
    bool shader_int8 = false;
    bool timeline_semaphore = false;
    bool cooperative_matrix = false;
    bool memory_budget = false;  // VK_EXT_memory_budget
    bool timestamps = false;     // compute-queue timestamp queries
    float timestamp_period_ns = 0.0f;
};

// Makes a device look more limited than it is, so that fallbacks and limit errors can be tested on any
// machine. A zero or false member leaves the real value alone.
struct CapsClamp {
    uint64_t max_storage_buffer_range = 0;
    uint64_t max_memory_allocation_size = 0;
    uint32_t max_compute_shared_memory = 0;
    bool disable_subgroup_ops = false;
    bool disable_16bit = false;
    bool disable_8bit = false;
    bool disable_timeline_semaphore = false;
    bool disable_cooperative_matrix = false;
};

struct DeviceInfo {
    uint32_t index = 0;  // position in list_devices()
    std::string name;
    DeviceType type = DeviceType::Other;
    uint32_t vendor_id = 0;
    uint32_t device_id = 0;
    std::string driver_name;  // e.g. "llvmpipe", "NVIDIA"; empty where the driver does not say
    std::string driver_info;  // e.g. "Mesa 22.3.6 (LLVM 15.0.6)"
    uint32_t driver_version = 0;
    uint32_t device_api_version = 0;  // what the device itself reports
    std::array<uint8_t, 16> pipeline_cache_uuid{};
    DeviceCaps caps;
};

enum class LogLevel { Debug, Info, Warning, Error };
// Receives driver and validation-layer messages. Called from whichever thread triggered the message.
using LogCallback = std::function<void(LogLevel level, const std::string& message)>;

struct InstanceOptions {
    bool validation = false;  // load VK_LAYER_KHRONOS_validation (fails with Unsupported where it is missing)
    LogCallback log;          // default: warnings and errors go to stderr
};

// Every Vulkan 1.1 device visible to the loader, in the loader's order.
HYENAVK_API std::vector<DeviceInfo> list_devices(const InstanceOptions& options = {});

struct ContextOptions {
    // "" picks the default (discrete, then integrated, then virtual, then CPU, then others; ties by order);
    // a decimal number picks that index of list_devices(); anything else is a case-insensitive substring of
    // the device name that must match exactly one device.
    std::string device;
    // Loads the validation layer with synchronization validation. Every message it reports at warning or
    // error level is counted (validation_message_count) and passed to log. Intended for tests.
    bool validation = false;
    LogCallback log;
    CapsClamp clamp;
    // Longest wait for one submission before a Timeout error (which leaves the context unusable). Generous,
    // because a CPU device (lavapipe) can take minutes over very long sequences.
    uint64_t fence_timeout_ns = 600'000'000'000ull;
    // Most estimated work per queue submission, in arithmetic operations (commands that only move memory
    // count 8 operations per byte moved). Longer recorded work is split into several submissions so that no
    // single one runs into a driver watchdog (about 2 s on Windows TDR and amdgpu), which would end in
    // DeviceLost. A slow integrated GPU still sustains some 20 G operations/s on these kernels, so the
    // default of 2 G keeps a submission near 0.1 s: a margin of about 20x for estimates that run low. A fast
    // GPU pays one extra vkQueueSubmit per split, overlapped with the work. 0 means unbounded (one submission
    // per plan). fence_timeout_ns applies to each submission.
    uint64_t max_submission_work = 2'000'000'000ull;
    // Device memory hyenavk may hold at once; models plan their work to fit (chunking long sequences, not
    // caching filter spectra) and fail with OutOfMemory naming it where nothing fits. 0: what the device
    // offers (VK_EXT_memory_budget's budget, else the device-local heap; half the host's memory on a CPU device).
    // More than the device has (its largest device-local heap; the host's memory on a CPU device, whose heap
    // size is nominal) is clamped to that, with a warning through `log`.
    uint64_t memory_budget_bytes = 0;
    // Where compiled pipelines and FFT kernels are kept between runs, so that later contexts on the same
    // device, driver and hyenavk version start faster. "" is $XDG_CACHE_HOME/hyenavk, else
    // $HOME/.cache/hyenavk. Entries that do not validate are ignored and rewritten; a directory that cannot
    // be written only costs the speed-up (with one warning through log).
    std::string cache_dir;
    bool disk_cache = true;  // false: neither read nor write the cache
    // Write a GPU timestamp after every command of every plan, for Context::kernel_times() (hyenavk bench
    // --kernels). Costs a little time per command; ignored where the device has no compute timestamps.
    bool profile_kernels = false;
};

// GPU time of one kind of command (a shader, "copy", "fill", "fft") within a submitted plan.
struct KernelTime {
    std::string name;
    uint32_t count = 0;  // commands of this kind
    double ms = 0;       // their GPU time together, each from the end of the command before it
};

// A device owned by the host application (a renderer, say). hyenavk uses it and never destroys it.
struct BorrowedDevice {
    VkInstance instance = VK_NULL_HANDLE;
    uint32_t instance_api_version = VK_API_VERSION_1_1;  // the apiVersion the host created its instance with
    VkPhysicalDevice physical_device = VK_NULL_HANDLE;
    VkDevice device = VK_NULL_HANDLE;
    uint32_t queue_family_index = 0;  // must support compute
    VkQueue queue = VK_NULL_HANDLE;
    // Called around every vkQueueSubmit hyenavk makes on `queue`, for hosts that submit to it from other
    // threads. Both or neither.
    std::function<void()> lock_queue;
    std::function<void()> unlock_queue;
    // Device extensions and features the host enabled; hyenavk uses only those that appear here.
    std::vector<std::string> enabled_extensions;
    bool storage_buffer_16bit_enabled = false;
    bool shader_float16_enabled = false;
    bool storage_buffer_8bit_enabled = false;
    bool shader_int8_enabled = false;
    bool timeline_semaphore_enabled = false;
};

// What hyenavk would like a host to enable when it creates a device that it will lend: the device
// extensions (only those the device supports) and features (only those the device has). Everything
// listed is optional; hyenavk runs on plain Vulkan 1.1 and uses whatever is enabled.
struct DeviceSetup {
    uint32_t api_version = VK_API_VERSION_1_1;
    std::vector<std::string> extensions;
    bool storage_buffer_16bit = false;
    bool shader_float16 = false;
    bool storage_buffer_8bit = false;
    bool shader_int8 = false;
    bool timeline_semaphore = false;
};
// `instance_api_version` is the apiVersion the host creates its instance with: below 1.2, features promoted
// to core in 1.2 come with the extensions that provide them.
HYENAVK_API DeviceSetup required_device_setup(VkInstance instance, VkPhysicalDevice physical_device,
                                              uint32_t instance_api_version = VK_API_VERSION_1_1);

namespace detail {
class ContextImpl;
}

// A device hyenavk computes on: its own or a borrowed one, with memory pools, pipelines and caches.
class HYENAVK_API Context {
public:
    static Context create(const ContextOptions& options = {});
    static Context borrow(const BorrowedDevice& device, const ContextOptions& options = {});

    Context(Context&&) noexcept;
    Context& operator=(Context&&) noexcept;
    ~Context();

    const DeviceInfo& device() const;
    bool borrowed() const;
    // Validation-layer messages seen at warning or error level since the context was created.
    uint64_t validation_message_count() const;
    // Per-kind GPU times of the last plan submitted (a model's forward, say), longest first; empty unless the
    // context was made with ContextOptions::profile_kernels on a device with timestamps.
    std::vector<KernelTime> kernel_times() const;
    // The device's buffer-to-buffer copy bandwidth in bytes per second (bytes read plus bytes written): the
    // best of a few copies of `bytes` between two device buffers, timed around the submission. A yardstick
    // for kernels that stream memory; it allocates 2 x `bytes` for the duration of the call.
    double copy_bandwidth(uint64_t bytes = uint64_t(64) << 20) const;

    detail::ContextImpl& impl() const { return *impl_; }

private:
    explicit Context(std::unique_ptr<detail::ContextImpl> impl);
    std::unique_ptr<detail::ContextImpl> impl_;
};

}  // namespace hyenavk
