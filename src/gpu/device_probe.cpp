#include "gpu/device_probe.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

DeviceType to_device_type(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::IntegratedGpu;
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::DiscreteGpu;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return DeviceType::VirtualGpu;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return DeviceType::Cpu;
        default: return DeviceType::Other;
    }
}

int preference(DeviceType type) {
    switch (type) {
        case DeviceType::DiscreteGpu: return 0;
        case DeviceType::IntegratedGpu: return 1;
        case DeviceType::VirtualGpu: return 2;
        case DeviceType::Cpu: return 3;
        default: return 4;
    }
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Feature structs that exist both as Vulkan 1.2 core and as extensions share their sType, so the same chain
// works on either path; each is chained only when the version or the extension makes it legal.
struct FeatureChain {
    VkPhysicalDeviceFeatures2 root{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features float16_int8{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice8BitStorageFeatures storage8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    bool has_float16_int8 = false, has_storage8 = false, has_timeline = false;

    FeatureChain(uint32_t api, const std::vector<std::string>& ext) {
        const bool v12 = api >= VK_API_VERSION_1_2;
        has_float16_int8 = v12 || has_extension(ext, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
        has_storage8 = v12 || has_extension(ext, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
        has_timeline = v12 || has_extension(ext, VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME);
        void** next = &root.pNext;
        auto link = [&next](auto& s) {
            *next = &s;
            next = &s.pNext;
        };
        link(storage16);
        if (has_float16_int8) link(float16_int8);
        if (has_storage8) link(storage8);
        if (has_timeline) link(timeline);
    }
};

}  // namespace

std::vector<std::string> device_extensions(VkPhysicalDevice physical_device) {
    uint32_t count = 0;
    vk_check(vkEnumerateDeviceExtensionProperties(physical_device, nullptr, &count, nullptr),
             "vkEnumerateDeviceExtensionProperties");
    std::vector<VkExtensionProperties> props(count);
    vk_check(vkEnumerateDeviceExtensionProperties(physical_device, nullptr, &count, props.data()),
             "vkEnumerateDeviceExtensionProperties");
    std::vector<std::string> names;
    for (uint32_t i = 0; i < count; ++i) names.emplace_back(props[i].extensionName);
    return names;
}

bool has_extension(const std::vector<std::string>& extensions, const char* name) {
    return std::find(extensions.begin(), extensions.end(), name) != extensions.end();
}

DeviceInfo probe_device(VkPhysicalDevice physical_device, uint32_t instance_api_version, uint32_t index) {
    const auto ext = device_extensions(physical_device);

    VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties maintenance3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    props.pNext = &subgroup;
    subgroup.pNext = &maintenance3;
    vkGetPhysicalDeviceProperties(physical_device, &props.properties);
    const uint32_t api = std::min(instance_api_version, props.properties.apiVersion);
    if (api >= VK_API_VERSION_1_2 || has_extension(ext, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME))
        maintenance3.pNext = &driver;
    vkGetPhysicalDeviceProperties2(physical_device, &props);
    const VkPhysicalDeviceLimits& limits = props.properties.limits;

    DeviceInfo info;
    info.index = index;
    info.name = props.properties.deviceName;
    info.type = to_device_type(props.properties.deviceType);
    info.vendor_id = props.properties.vendorID;
    info.device_id = props.properties.deviceID;
    info.driver_version = props.properties.driverVersion;
    info.device_api_version = props.properties.apiVersion;
    std::memcpy(info.pipeline_cache_uuid.data(), props.properties.pipelineCacheUUID, VK_UUID_SIZE);
    if (maintenance3.pNext == &driver) {
        info.driver_name = driver.driverName;
        info.driver_info = driver.driverInfo;
    }

    DeviceCaps& caps = info.caps;
    caps.api_version = api;
    caps.max_storage_buffer_range = limits.maxStorageBufferRange;
    caps.max_memory_allocation_size = maintenance3.maxMemoryAllocationSize;
    caps.min_storage_buffer_offset_alignment = limits.minStorageBufferOffsetAlignment;
    caps.non_coherent_atom_size = limits.nonCoherentAtomSize;
    caps.max_compute_shared_memory = limits.maxComputeSharedMemorySize;
    caps.max_workgroup_invocations = limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; ++i) {
        caps.max_workgroup_size[i] = limits.maxComputeWorkGroupSize[i];
        caps.max_workgroup_count[i] = limits.maxComputeWorkGroupCount[i];
    }
    caps.max_push_constants_size = limits.maxPushConstantsSize;
    caps.max_bound_descriptor_sets = limits.maxBoundDescriptorSets;
    caps.timestamp_period_ns = limits.timestampPeriod;

    VkPhysicalDeviceMemoryProperties memory;
    vkGetPhysicalDeviceMemoryProperties(physical_device, &memory);
    for (uint32_t i = 0; i < memory.memoryHeapCount; ++i)
        if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            caps.device_local_memory = std::max<uint64_t>(caps.device_local_memory, memory.memoryHeaps[i].size);

    const bool compute_subgroups = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    caps.subgroup_size = subgroup.subgroupSize;
    caps.subgroup_basic = compute_subgroups && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
    caps.subgroup_arithmetic =
        compute_subgroups && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    caps.subgroup_ballot = compute_subgroups && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);
    caps.subgroup_shuffle = compute_subgroups && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);

    FeatureChain features(api, ext);
    vkGetPhysicalDeviceFeatures2(physical_device, &features.root);
    caps.storage_buffer_16bit = features.storage16.storageBuffer16BitAccess;
    caps.shader_float16 = features.has_float16_int8 && features.float16_int8.shaderFloat16;
    caps.shader_int8 = features.has_float16_int8 && features.float16_int8.shaderInt8;
    caps.storage_buffer_8bit = features.has_storage8 && features.storage8.storageBuffer8BitAccess;
    caps.timeline_semaphore = features.has_timeline && features.timeline.timelineSemaphore;
    caps.cooperative_matrix = has_extension(ext, "VK_KHR_cooperative_matrix") ||
                              has_extension(ext, "VK_NV_cooperative_matrix");
    caps.memory_budget = has_extension(ext, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);

    uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &family_count, families.data());
    for (const auto& f : families)
        if ((f.queueFlags & VK_QUEUE_COMPUTE_BIT) && f.timestampValidBits > 0 && limits.timestampPeriod > 0) {
            caps.timestamps = true;
            break;
        }
    return info;
}

void apply_clamp(DeviceCaps& caps, const CapsClamp& clamp) {
    auto tighten = [](auto& value, auto limit) {
        if (limit != 0 && limit < value) value = limit;
    };
    tighten(caps.max_storage_buffer_range, clamp.max_storage_buffer_range);
    tighten(caps.max_memory_allocation_size, clamp.max_memory_allocation_size);
    tighten(caps.max_compute_shared_memory, clamp.max_compute_shared_memory);
    if (clamp.disable_subgroup_ops) {
        caps.subgroup_basic = caps.subgroup_arithmetic = caps.subgroup_ballot = caps.subgroup_shuffle = false;
    }
    if (clamp.disable_16bit) caps.storage_buffer_16bit = caps.shader_float16 = false;
    if (clamp.disable_8bit) caps.storage_buffer_8bit = caps.shader_int8 = false;
    if (clamp.disable_timeline_semaphore) caps.timeline_semaphore = false;
    if (clamp.disable_cooperative_matrix) caps.cooperative_matrix = false;
}

uint32_t choose_device(const std::vector<DeviceInfo>& devices, const std::string& selector) {
    if (devices.empty()) throw Error(ErrorCode::NotFound, "no Vulkan device found");
    auto listing = [&devices] {
        std::string s;
        for (const auto& d : devices) s += "\n  " + std::to_string(d.index) + ": " + d.name;
        return s;
    };
    if (selector.empty()) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < devices.size(); ++i)
            if (preference(devices[i].type) < preference(devices[best].type)) best = i;
        return best;
    }
    // A number is an index when it is one; otherwise (a model number, say) it is matched against names.
    const bool numeric =
        selector.size() < 10 && std::all_of(selector.begin(), selector.end(), [](unsigned char c) { return std::isdigit(c); });
    if (numeric && std::stoul(selector) < devices.size()) return static_cast<uint32_t>(std::stoul(selector));
    std::vector<uint32_t> matches;
    for (const auto& d : devices)
        if (lower(d.name).find(lower(selector)) != std::string::npos) matches.push_back(d.index);
    if (matches.empty()) {
        const std::string what = numeric ? "no device with index " + selector + " and no device name contains it"
                                         : "no device name contains '" + selector + "'";
        throw Error(ErrorCode::NotFound, what + "; devices:" + listing());
    }
    if (matches.size() > 1) {
        std::string names;
        for (uint32_t i : matches) names += "\n  " + std::to_string(i) + ": " + devices[i].name;
        throw Error(ErrorCode::InvalidArgument, "device '" + selector + "' matches more than one device:" + names);
    }
    return matches.front();
}

DeviceSetup wanted_setup(VkPhysicalDevice physical_device, uint32_t instance_api_version) {
    const DeviceInfo info = probe_device(physical_device, instance_api_version, 0);
    const auto ext = device_extensions(physical_device);
    const uint32_t api = info.caps.api_version;
    DeviceSetup setup;
    setup.api_version = api;
    auto want = [&](const char* name, bool needed) {
        if (needed && has_extension(ext, name)) setup.extensions.emplace_back(name);
    };
    // Promoted to core in 1.2: only listed where the device is used as 1.1.
    want(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME, api < VK_API_VERSION_1_2);
    want(VK_KHR_8BIT_STORAGE_EXTENSION_NAME, api < VK_API_VERSION_1_2);
    want(VK_KHR_TIMELINE_SEMAPHORE_EXTENSION_NAME, api < VK_API_VERSION_1_2);
    want(VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME, api < VK_API_VERSION_1_2);
    want(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME, true);
    // A portability (MoltenVK) device must have this enabled when it offers it.
    want("VK_KHR_portability_subset", true);
    setup.storage_buffer_16bit = info.caps.storage_buffer_16bit;
    setup.shader_float16 = info.caps.shader_float16;
    setup.storage_buffer_8bit = info.caps.storage_buffer_8bit;
    setup.shader_int8 = info.caps.shader_int8;
    setup.timeline_semaphore = info.caps.timeline_semaphore;
    return setup;
}

}  // namespace hyenavk::gpu
