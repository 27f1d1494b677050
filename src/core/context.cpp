#include <algorithm>
#include <chrono>
#include <string>

#include "core/context_impl.hpp"
#include "core/sizes.hpp"
#include "gpu/device_probe.hpp"
#include "gpu/loader.hpp"
#include "gpu/recorder.hpp"

namespace hyenavk {

const char* to_string(DeviceType type) noexcept {
    switch (type) {
        case DeviceType::IntegratedGpu: return "integrated GPU";
        case DeviceType::DiscreteGpu: return "discrete GPU";
        case DeviceType::VirtualGpu: return "virtual GPU";
        case DeviceType::Cpu: return "CPU";
        default: return "other";
    }
}

std::vector<DeviceInfo> list_devices(const InstanceOptions& options) {
    auto instance = gpu::Instance::create(options.validation, options.log);
    std::vector<DeviceInfo> devices;
    const auto handles = instance->physical_devices();
    for (uint32_t i = 0; i < handles.size(); ++i)
        devices.push_back(gpu::probe_device(handles[i], instance->api_version(), i));
    return devices;
}

DeviceSetup required_device_setup(VkInstance instance, VkPhysicalDevice physical_device,
                                  uint32_t instance_api_version) {
    if (instance == VK_NULL_HANDLE || physical_device == VK_NULL_HANDLE)
        throw Error(ErrorCode::InvalidArgument, "required_device_setup needs an instance and a physical device");
    gpu::ensure_loader();
    gpu::ensure_instance_functions(instance);
    // The version the device will be used as: the lowest of the instance's, the device's and 1.3 (what
    // hyenavk is written against).
    return gpu::wanted_setup(physical_device, std::min<uint32_t>(instance_api_version, VK_API_VERSION_1_3));
}

namespace {

std::unique_ptr<gpu::DiskCache> make_disk_cache(const ContextOptions& options, const DeviceInfo& info,
                                                gpu::MessageSink& sink) {
    if (!options.disk_cache) return std::make_unique<gpu::DiskCache>();
    // The sink belongs to the instance, which the context destroys after the cache.
    return std::make_unique<gpu::DiskCache>(options.cache_dir, gpu::CacheIdentity::of(info),
                                            [&sink](const std::string& message) {
                                                sink.emit(LogLevel::Warning, message.c_str());
                                            });
}

// The caller's budget, or the default; one beyond what the device has is clamped to it, with a warning (a
// CPU device's driver would otherwise allocate host memory until the system runs out).
void apply_memory_budget(detail::ContextImpl& impl, uint64_t requested) {
    const uint64_t applied = impl.memory.set_budget(requested);
    if (requested == 0 || applied == requested) return;
    const bool cpu = impl.device->info().type == DeviceType::Cpu;
    const std::string message = "memory budget of " + detail::mib(requested) + " is more than " +
                                (cpu ? "this host's memory" : "the device's largest memory heap") + " (" +
                                detail::mib(applied) + "); using " + detail::mib(applied) +
                                " (ContextOptions::memory_budget_bytes, --memory-budget)";
    impl.instance->sink().emit(LogLevel::Warning, message.c_str());
}

}  // namespace

Context::Context(std::unique_ptr<detail::ContextImpl> impl) : impl_(std::move(impl)) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

Context Context::create(const ContextOptions& options) {
    auto instance = gpu::Instance::create(options.validation, options.log);
    const auto handles = instance->physical_devices();
    std::vector<DeviceInfo> devices;
    for (uint32_t i = 0; i < handles.size(); ++i)
        devices.push_back(gpu::probe_device(handles[i], instance->api_version(), i));
    const uint32_t chosen = gpu::choose_device(devices, options.device);
    DeviceInfo info = devices[chosen];
    if (info.caps.api_version < VK_API_VERSION_1_1)
        throw Error(ErrorCode::Unsupported, "device '" + info.name + "' supports only Vulkan 1.0; hyenavk needs 1.1");
    gpu::apply_clamp(info.caps, options.clamp);
    auto device = gpu::Device::create(handles[chosen], info, options.fence_timeout_ns);
    device->set_max_submission_work(options.max_submission_work);
    device->set_profiling(options.profile_kernels);
    auto disk_cache = make_disk_cache(options, device->info(), instance->sink());
    Context context(
        std::make_unique<detail::ContextImpl>(std::move(instance), std::move(device), std::move(disk_cache)));
    apply_memory_budget(context.impl(), options.memory_budget_bytes);
    return context;
}

Context Context::borrow(const BorrowedDevice& borrowed, const ContextOptions& options) {
    auto instance = gpu::Instance::borrow(borrowed.instance, borrowed.instance_api_version, options.log);
    if (borrowed.physical_device == VK_NULL_HANDLE)
        throw Error(ErrorCode::InvalidArgument, "borrowed physical device is null");
    DeviceInfo info = gpu::probe_device(borrowed.physical_device, instance->api_version(), 0);
    // Only what the host enabled may be used.
    DeviceCaps& caps = info.caps;
    caps.storage_buffer_16bit &= borrowed.storage_buffer_16bit_enabled;
    caps.shader_float16 &= borrowed.shader_float16_enabled;
    caps.storage_buffer_8bit &= borrowed.storage_buffer_8bit_enabled;
    caps.shader_int8 &= borrowed.shader_int8_enabled;
    caps.timeline_semaphore &= borrowed.timeline_semaphore_enabled;
    caps.memory_budget &= gpu::has_extension(borrowed.enabled_extensions, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    gpu::apply_clamp(caps, options.clamp);
    auto device = gpu::Device::borrow(borrowed, info, options.fence_timeout_ns);
    device->set_max_submission_work(options.max_submission_work);
    device->set_profiling(options.profile_kernels);
    auto disk_cache = make_disk_cache(options, device->info(), instance->sink());
    Context context(
        std::make_unique<detail::ContextImpl>(std::move(instance), std::move(device), std::move(disk_cache)));
    apply_memory_budget(context.impl(), options.memory_budget_bytes);
    return context;
}

const DeviceInfo& Context::device() const { return impl_->device->info(); }
bool Context::borrowed() const { return impl_->device->borrowed(); }
std::vector<KernelTime> Context::kernel_times() const { return impl_->device->last_kernel_times(); }

double Context::copy_bandwidth(uint64_t bytes) const {
    if (bytes < 4 || bytes % 4 != 0)
        throw Error(ErrorCode::InvalidArgument, "copy_bandwidth: bytes must be a positive multiple of 4");
    gpu::Allocation src = impl_->memory.allocate_dedicated(gpu::Lifetime::Activations, bytes);
    gpu::Allocation dst = impl_->memory.allocate_dedicated(gpu::Lifetime::Activations, bytes);
    gpu::Recorder fill(*impl_->device, impl_->pipelines);
    fill.fill(src.slice(), 0x3f800000u);  // touch both, so that first-use page faults are not timed
    fill.fill(dst.slice(), 0);
    fill.finish().submit();
    gpu::Recorder rec(*impl_->device, impl_->pipelines);
    rec.copy(src.slice(), dst.slice());
    gpu::Plan plan = rec.finish();
    double best = 0;
    for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        plan.submit();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s > 0) best = std::max(best, 2.0 * double(bytes) / s);
    }
    return best;
}
uint64_t Context::validation_message_count() const { return impl_->instance->sink().validation_messages.load(); }

}  // namespace hyenavk
