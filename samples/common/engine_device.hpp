// The samples' stand-in for a game engine's Vulkan device: the instance, device and queue an engine creates,
// and destroys, itself, set up the way a renderer would and lent to hyenavk with exactly the features that
// hyenavk::required_device_setup asks for. With validation the instance loads the Khronos validation layer, with
// synchronization validation as hyenavk's own instances have it, and counts what its own debug messenger
// reports: hyenavk attaches no messenger to an instance it borrows.
//
// Header-only, so that a sample built against the installed package needs nothing beyond hyenavk and the
// Vulkan loader.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include <hyenavk/hyenavk.hpp>

namespace samples {

// Validation-layer messages at warning or error level, counted by the engine's messenger. It lives outside
// every object because the messenger chained into vkCreateInstance also reports during vkDestroyInstance.
inline std::atomic<uint64_t> validation_messages{0};

// `program` is the program's name, which prefixes each message.
inline VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                            VkDebugUtilsMessageTypeFlagsEXT,
                                                            const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                            void* program) {
    if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
        validation_messages.fetch_add(1);
        std::fprintf(stderr, "%s: [vulkan] %s\n", static_cast<const char*>(program),
                     data && data->pMessage ? data->pMessage : "(no message)");
    }
    return VK_FALSE;
}

// The engine's own Vulkan failures; hyenavk reports its failures as hyenavk::Error.
inline void check(VkResult result, const char* call) {
    if (result != VK_SUCCESS)
        throw std::runtime_error(std::string(call) + " failed with VkResult " + std::to_string(result));
}

inline bool has_layer(const char* name) {
    uint32_t count = 0;
    check(vkEnumerateInstanceLayerProperties(&count, nullptr), "vkEnumerateInstanceLayerProperties");
    std::vector<VkLayerProperties> layers(count);
    check(vkEnumerateInstanceLayerProperties(&count, layers.data()), "vkEnumerateInstanceLayerProperties");
    return std::any_of(layers.begin(), layers.end(),
                       [name](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

inline bool has_instance_extension(const char* layer, const char* name) {
    uint32_t count = 0;
    check(vkEnumerateInstanceExtensionProperties(layer, &count, nullptr), "vkEnumerateInstanceExtensionProperties");
    std::vector<VkExtensionProperties> extensions(count);
    check(vkEnumerateInstanceExtensionProperties(layer, &count, extensions.data()),
          "vkEnumerateInstanceExtensionProperties");
    return std::any_of(extensions.begin(), extensions.end(),
                       [name](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

class EngineDevice {
public:
    // `program` names the application to Vulkan and prefixes validation messages. Without `allow_timeline` the
    // device goes without timeline semaphores, as an engine targeting plain Vulkan 1.1 might.
    EngineDevice(const char* program, bool validation, bool allow_timeline = true) : program_(program) {
        try {
            create_instance(validation);
            create_device(allow_timeline);
        } catch (...) {
            release();
            throw;
        }
    }
    ~EngineDevice() { release(); }
    EngineDevice(const EngineDevice&) = delete;
    EngineDevice& operator=(const EngineDevice&) = delete;

    // The device as hyenavk borrows it: what the engine created and exactly the features it enabled. hyenavk
    // takes the engine's queue lock around its use of the queue, so the engine may submit from its own threads.
    hyenavk::BorrowedDevice lend() {
        hyenavk::BorrowedDevice lent;
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

    const VkPhysicalDeviceProperties& properties() const { return properties_; }
    VkPhysicalDevice physical_device() const { return physical_; }
    VkDevice device() const { return device_; }
    uint32_t queue_family() const { return family_; }
    VkQueue queue() const { return queue_; }
    // The lock the engine takes around its own submissions to queue(), as hyenavk does around its.
    std::mutex& queue_mutex() { return queue_mutex_; }

private:
    void create_instance(bool validation) {
        // As new as the loader offers, up to the 1.3 this program is written against; hyenavk needs 1.1.
        uint32_t loader_version = VK_API_VERSION_1_0;
        check(vkEnumerateInstanceVersion(&loader_version), "vkEnumerateInstanceVersion");
        if (loader_version < VK_API_VERSION_1_1)
            throw std::runtime_error("the Vulkan loader supports only Vulkan 1.0; hyenavk needs 1.1");
        api_version_ = std::min<uint32_t>(loader_version, VK_API_VERSION_1_3);

        std::vector<const char*> layers;
        std::vector<const char*> extensions;
        // Portability drivers (MoltenVK) are listed only to instances that ask for them.
        const bool portability = has_instance_extension(nullptr, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
        if (portability) extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
        const char* layer = "VK_LAYER_KHRONOS_validation";
        bool validation_features = false;
        if (validation) {
            if (!has_layer(layer))
                throw std::runtime_error(
                    "--validation needs VK_LAYER_KHRONOS_validation (Debian: vulkan-validationlayers)");
            layers.push_back(layer);
            extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
            validation_features = has_instance_extension(layer, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
            if (validation_features) extensions.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
        }

        VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
        app.pApplicationName = program_.c_str();
        app.pEngineName = program_.c_str();
        app.apiVersion = api_version_;

        VkDebugUtilsMessengerCreateInfoEXT messenger_info{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        messenger_info.messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        messenger_info.pfnUserCallback = on_validation_message;
        messenger_info.pUserData = program_.data();  // lives until after vkDestroyInstance
        // Synchronization validation checks the barriers in hyenavk's command buffers as well as the engine's.
        const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
        VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
        features.enabledValidationFeatureCount = 1;
        features.pEnabledValidationFeatures = enables;
        features.pNext = &messenger_info;  // also reports during vkCreateInstance and vkDestroyInstance

        VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
        if (validation) info.pNext = validation_features ? static_cast<const void*>(&features) : &messenger_info;
        if (portability) info.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
        info.pApplicationInfo = &app;
        info.enabledLayerCount = static_cast<uint32_t>(layers.size());
        info.ppEnabledLayerNames = layers.data();
        info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
        info.ppEnabledExtensionNames = extensions.data();
        check(vkCreateInstance(&info, nullptr, &instance_), "vkCreateInstance");

        if (validation) {
            const auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
                vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
            destroy_messenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
                vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
            if (!create_messenger || !destroy_messenger_)
                throw std::runtime_error("the instance lacks VK_EXT_debug_utils entry points");
            check(create_messenger(instance_, &messenger_info, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
        }
    }

    void create_device(bool allow_timeline) {
        uint32_t count = 0;
        check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
        if (count == 0) throw std::runtime_error("no Vulkan device");
        std::vector<VkPhysicalDevice> physical_devices(count);
        const VkResult listed = vkEnumeratePhysicalDevices(instance_, &count, physical_devices.data());
        if (listed != VK_INCOMPLETE) check(listed, "vkEnumeratePhysicalDevices");
        physical_ = physical_devices.front();
        vkGetPhysicalDeviceProperties(physical_, &properties_);

        // Ask hyenavk what it would like, and enable exactly that (less timeline semaphores without
        // allow_timeline).
        setup_ = hyenavk::required_device_setup(instance_, physical_, api_version_);
        setup_.timeline_semaphore = setup_.timeline_semaphore && allow_timeline;
        std::vector<const char*> extensions;
        for (const auto& e : setup_.extensions) extensions.push_back(e.c_str());

        // A feature struct is chained only where something in it is enabled: the ones promoted to core in 1.2
        // must not appear on a 1.1 device that lacks their extension.
        VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
        VkPhysicalDeviceShaderFloat16Int8Features float16_int8{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
        VkPhysicalDevice8BitStorageFeatures storage8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
        VkPhysicalDeviceTimelineSemaphoreFeatures timeline{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
        void** next = &features.pNext;
        auto link = [&next](auto& s) {
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

        // A renderer's main queue: graphics and compute, else any family with compute.
        uint32_t family_count = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, nullptr);
        std::vector<VkQueueFamilyProperties> families(family_count);
        vkGetPhysicalDeviceQueueFamilyProperties(physical_, &family_count, families.data());
        const auto has = [&](uint32_t family, VkQueueFlags flags) {
            return (families[family].queueFlags & flags) == flags;
        };
        family_ = family_count;
        for (uint32_t i = 0; i < family_count && family_ == family_count; ++i)
            if (has(i, VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT)) family_ = i;
        for (uint32_t i = 0; i < family_count && family_ == family_count; ++i)
            if (has(i, VK_QUEUE_COMPUTE_BIT)) family_ = i;
        if (family_ == family_count) throw std::runtime_error("the device has no compute queue");

        const float priority = 1.0f;
        VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
        queue_info.queueFamilyIndex = family_;
        queue_info.queueCount = 1;
        queue_info.pQueuePriorities = &priority;
        VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
        device_info.pNext = &features;
        device_info.queueCreateInfoCount = 1;
        device_info.pQueueCreateInfos = &queue_info;
        device_info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
        device_info.ppEnabledExtensionNames = extensions.data();
        check(vkCreateDevice(physical_, &device_info, nullptr, &device_), "vkCreateDevice");
        vkGetDeviceQueue(device_, family_, 0, &queue_);
    }

    // Everything in reverse order of creation; safe on a partly built device.
    void release() noexcept {
        if (device_ != VK_NULL_HANDLE) {
            vkDeviceWaitIdle(device_);
            vkDestroyDevice(device_, nullptr);
            device_ = VK_NULL_HANDLE;
        }
        if (messenger_ != VK_NULL_HANDLE) destroy_messenger_(instance_, messenger_, nullptr);
        messenger_ = VK_NULL_HANDLE;
        if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
        instance_ = VK_NULL_HANDLE;
    }

    std::string program_;
    VkInstance instance_ = VK_NULL_HANDLE;
    uint32_t api_version_ = VK_API_VERSION_1_1;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    VkPhysicalDeviceProperties properties_{};
    hyenavk::DeviceSetup setup_;
    uint32_t family_ = 0;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    std::mutex queue_mutex_;
};

}  // namespace samples
