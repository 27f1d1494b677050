// Devices and contexts through the C ABI.
#include <cstring>
#include <memory>
#include <vector>

#include "c_api/guard.hpp"
#include "hyenavk/diagnostics.hpp"

namespace hyenavk::c_api {
namespace {

LogCallback log_callback(hyenavk_log_fn log, void* user_data) {
    if (!log) return {};
    return [log, user_data](LogLevel level, const std::string& message) {
        log(user_data, static_cast<hyenavk_log_level>(level), message.c_str());
    };
}

hyenavk_device_info device_info(const DeviceInfo& d) {
    hyenavk_device_info info{};
    info.struct_size = sizeof info;
    info.index = d.index;
    copy_string(info.name, d.name);
    info.type = static_cast<hyenavk_device_type>(d.type);
    info.vendor_id = d.vendor_id;
    info.device_id = d.device_id;
    copy_string(info.driver_name, d.driver_name);
    copy_string(info.driver_info, d.driver_info);
    info.api_version = d.caps.api_version;
    info.device_local_memory = d.caps.device_local_memory;
    info.max_storage_buffer_range = d.caps.max_storage_buffer_range;
    info.subgroup_size = d.caps.subgroup_size;
    info.storage_buffer_16bit = d.caps.storage_buffer_16bit;
    info.timeline_semaphore = d.caps.timeline_semaphore;
    info.timestamps = d.caps.timestamps;
    return info;
}

ContextOptions context_options(const hyenavk_context_options* in) {
    hyenavk_context_options defaults;
    hyenavk_context_options_init(&defaults);
    const hyenavk_context_options o = read_struct(in, defaults, "hyenavk_context_options");
    ContextOptions options;
    options.device = o.device ? o.device : "";
    options.validation = o.validation != 0;
    options.log = log_callback(o.log, o.log_user_data);
    options.fence_timeout_ns = o.fence_timeout_ns;
    options.max_submission_work = o.max_submission_work;
    options.memory_budget_bytes = o.memory_budget_bytes;
    options.cache_dir = o.cache_dir ? o.cache_dir : "";
    options.disk_cache = o.disk_cache != 0;
    options.profile_kernels = o.profile_kernels != 0;
    return options;
}

}  // namespace
}  // namespace hyenavk::c_api

using namespace hyenavk;
using namespace hyenavk::c_api;

extern "C" {

void hyenavk_device_info_init(hyenavk_device_info* info) {
    if (!info) return;
    std::memset(static_cast<void*>(info), 0, sizeof *info);
    info->struct_size = sizeof *info;
}

hyenavk_status hyenavk_list_devices(int validation, hyenavk_log_fn log, void* log_user_data, hyenavk_device_info* devices,
                                    uint32_t* count) {
    return guard([&] {
        require(count != nullptr, "hyenavk_list_devices: count is NULL");
        InstanceOptions options;
        options.validation = validation != 0;
        options.log = log_callback(log, log_user_data);
        const std::vector<DeviceInfo> found = list_devices(options);
        if (!devices) {
            *count = static_cast<uint32_t>(found.size());
            return;
        }
        const uint32_t n = std::min<uint32_t>(*count, static_cast<uint32_t>(found.size()));
        for (uint32_t i = 0; i < n; ++i) write_struct(&devices[i], device_info(found[i]), "hyenavk_device_info");
        *count = n;
    });
}

void hyenavk_context_options_init(hyenavk_context_options* options) {
    if (!options) return;
    const ContextOptions defaults;
    *options = hyenavk_context_options{};
    options->struct_size = sizeof *options;
    options->fence_timeout_ns = defaults.fence_timeout_ns;
    options->max_submission_work = defaults.max_submission_work;
    options->memory_budget_bytes = defaults.memory_budget_bytes;
    options->disk_cache = defaults.disk_cache ? 1 : 0;
    options->profile_kernels = defaults.profile_kernels ? 1 : 0;
}

hyenavk_status hyenavk_context_create(const hyenavk_context_options* options, hyenavk_context* context) {
    return guard([&] {
        require(context != nullptr, "hyenavk_context_create: context is NULL");
        *context = nullptr;
        *context = new hyenavk_context_t{Context::create(context_options(options))};
    });
}

void hyenavk_borrowed_device_init(hyenavk_borrowed_device* device) {
    if (!device) return;
    *device = hyenavk_borrowed_device{};
    device->struct_size = sizeof *device;
    device->instance_api_version = VK_API_VERSION_1_1;
}

void hyenavk_device_setup_init(hyenavk_device_setup* setup) {
    if (!setup) return;
    *setup = hyenavk_device_setup{};
    setup->struct_size = sizeof *setup;
}

hyenavk_status hyenavk_required_device_setup(VkInstance instance, VkPhysicalDevice physical_device,
                                             uint32_t instance_api_version, hyenavk_device_setup* setup) {
    return guard([&] {
        require(setup != nullptr, "hyenavk_required_device_setup: setup is NULL");
        const DeviceSetup wanted = required_device_setup(instance, physical_device, instance_api_version);
        if (wanted.extensions.size() > HYENAVK_MAX_SETUP_EXTENSIONS)
            throw Error(ErrorCode::Internal, "hyenavk_required_device_setup: more extensions than the struct holds");
        hyenavk_device_setup out{};
        out.api_version = wanted.api_version;
        out.extension_count = static_cast<uint32_t>(wanted.extensions.size());
        for (size_t i = 0; i < wanted.extensions.size(); ++i) copy_string(out.extensions[i], wanted.extensions[i]);
        out.storage_buffer_16bit = wanted.storage_buffer_16bit;
        out.shader_float16 = wanted.shader_float16;
        out.storage_buffer_8bit = wanted.storage_buffer_8bit;
        out.shader_int8 = wanted.shader_int8;
        out.timeline_semaphore = wanted.timeline_semaphore;
        write_struct(setup, out, "hyenavk_device_setup");
    });
}

hyenavk_status hyenavk_context_borrow(const hyenavk_borrowed_device* device, const hyenavk_context_options* options,
                                      hyenavk_context* context) {
    return guard([&] {
        require(context != nullptr, "hyenavk_context_borrow: context is NULL");
        *context = nullptr;
        require(device != nullptr, "hyenavk_context_borrow: device is NULL");
        hyenavk_borrowed_device defaults;
        hyenavk_borrowed_device_init(&defaults);
        const hyenavk_borrowed_device d = read_struct(device, defaults, "hyenavk_borrowed_device");
        require((d.lock_queue == nullptr) == (d.unlock_queue == nullptr),
                "hyenavk_context_borrow: give both lock_queue and unlock_queue, or neither");
        require(d.enabled_extension_count == 0 || d.enabled_extensions != nullptr,
                "hyenavk_context_borrow: enabled_extensions is NULL but enabled_extension_count is not 0");
        BorrowedDevice b;
        b.instance = d.instance;
        b.instance_api_version = d.instance_api_version;
        b.physical_device = d.physical_device;
        b.device = d.device;
        b.queue_family_index = d.queue_family_index;
        b.queue = d.queue;
        if (d.lock_queue) {
            b.lock_queue = [fn = d.lock_queue, user = d.queue_lock_user_data] { fn(user); };
            b.unlock_queue = [fn = d.unlock_queue, user = d.queue_lock_user_data] { fn(user); };
        }
        for (uint32_t i = 0; i < d.enabled_extension_count; ++i) {
            require(d.enabled_extensions[i] != nullptr, "hyenavk_context_borrow: enabled_extensions[" +
                                                            std::to_string(i) + "] is NULL");
            b.enabled_extensions.emplace_back(d.enabled_extensions[i]);
        }
        b.storage_buffer_16bit_enabled = d.storage_buffer_16bit_enabled != 0;
        b.shader_float16_enabled = d.shader_float16_enabled != 0;
        b.storage_buffer_8bit_enabled = d.storage_buffer_8bit_enabled != 0;
        b.shader_int8_enabled = d.shader_int8_enabled != 0;
        b.timeline_semaphore_enabled = d.timeline_semaphore_enabled != 0;
        *context = new hyenavk_context_t{Context::borrow(b, context_options(options))};
    });
}

void hyenavk_context_destroy(hyenavk_context context) {
    try {
        delete context;
    } catch (...) {  // destructors do not throw; this only keeps the promise that nothing crosses the ABI
    }
}

hyenavk_status hyenavk_context_device(hyenavk_context context, hyenavk_device_info* info) {
    return guard([&] {
        require(context != nullptr, "hyenavk_context_device: context is NULL");
        write_struct(info, device_info(context->context.device()), "hyenavk_device_info");
    });
}

uint64_t hyenavk_context_validation_message_count(hyenavk_context context) {
    return context ? context->context.validation_message_count() : 0;
}

hyenavk_status hyenavk_context_inject_fault(hyenavk_context context, hyenavk_fault fault) {
    return guard([&] {
        require(context != nullptr, "hyenavk_context_inject_fault: context is NULL");
        inject_fault(context->context, static_cast<InjectedFault>(fault));
    });
}

}  // extern "C"
