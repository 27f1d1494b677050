#include "gpu/instance.hpp"

#include <cstdio>
#include <cstring>
#include <string>

#include "gpu/loader.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

bool has_layer(const char* name) {
    uint32_t count = 0;
    vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> layers(count);
    vkEnumerateInstanceLayerProperties(&count, layers.data());
    for (const auto& l : layers)
        if (std::strcmp(l.layerName, name) == 0) return true;
    return false;
}

std::vector<std::string> instance_extensions(const char* layer) {
    uint32_t count = 0;
    vkEnumerateInstanceExtensionProperties(layer, &count, nullptr);
    std::vector<VkExtensionProperties> props(count);
    vkEnumerateInstanceExtensionProperties(layer, &count, props.data());
    std::vector<std::string> names;
    for (const auto& p : props) names.emplace_back(p.extensionName);
    return names;
}

bool contains(const std::vector<std::string>& names, const char* name) {
    for (const auto& n : names)
        if (n == name) return true;
    return false;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                VkDebugUtilsMessageTypeFlagsEXT,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
    auto* sink = static_cast<MessageSink*>(user);
    LogLevel level = LogLevel::Debug;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
        level = LogLevel::Error;
    else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
        level = LogLevel::Warning;
    else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT)
        level = LogLevel::Info;
    if (level == LogLevel::Warning || level == LogLevel::Error) sink->validation_messages.fetch_add(1);
    sink->emit(level, data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

}  // namespace

void MessageSink::emit(LogLevel level, const char* text) {
    if (log) {
        log(level, text);
        return;
    }
    if (level == LogLevel::Warning || level == LogLevel::Error)
        std::fprintf(stderr, "hyenavk: %s: %s\n", level == LogLevel::Error ? "error" : "warning", text);
}

std::unique_ptr<Instance> Instance::create(bool validation, LogCallback log) {
    ensure_loader();
    std::unique_ptr<Instance> self(new Instance());
    self->sink_ = std::make_unique<MessageSink>();
    self->sink_->log = std::move(log);
    self->owned_ = true;

    uint32_t loader_version = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion) vkEnumerateInstanceVersion(&loader_version);
    if (loader_version < VK_API_VERSION_1_1)
        throw Error(ErrorCode::Unsupported, "the Vulkan loader supports only Vulkan 1.0; hyenavk needs 1.1");
    self->api_version_ = loader_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : loader_version;

    std::vector<const char*> layers;
    std::vector<const char*> extensions;
    const auto available = instance_extensions(nullptr);
    if (contains(available, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
        self->portability_enumeration_ = true;
    }
    bool debug_utils = false;
    if (validation) {
        if (!has_layer(kValidationLayer))
            throw Error(ErrorCode::Unsupported,
                        "validation was requested but VK_LAYER_KHRONOS_validation is not installed "
                        "(Debian: vulkan-validationlayers)");
        layers.push_back(kValidationLayer);
        debug_utils = contains(available, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) ||
                      contains(instance_extensions(kValidationLayer), VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        if (!debug_utils)
            throw Error(ErrorCode::Unsupported, "validation was requested but VK_EXT_debug_utils is missing");
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    }

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "hyenavk";
    app.pEngineName = "hyenavk";
    app.engineVersion = VK_MAKE_API_VERSION(0, HYENAVK_VERSION_MAJOR, HYENAVK_VERSION_MINOR, HYENAVK_VERSION_PATCH);
    app.apiVersion = self->api_version_;

    // Synchronization validation catches missing barriers, the bug class a compute recorder is most prone to.
    const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;

    VkDebugUtilsMessengerCreateInfoEXT messenger_info{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    messenger_info.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messenger_info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                 VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messenger_info.pfnUserCallback = on_debug_message;
    messenger_info.pUserData = self->sink_.get();
    if (validation) {
        // Chained into instance creation too, so messages from vkCreateInstance/vkDestroyInstance are seen.
        features.pNext = &messenger_info;
    }

    VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    info.pApplicationInfo = &app;
    info.enabledLayerCount = static_cast<uint32_t>(layers.size());
    info.ppEnabledLayerNames = layers.data();
    info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    info.ppEnabledExtensionNames = extensions.data();
    if (self->portability_enumeration_) info.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    if (validation) info.pNext = &features;
    vk_check(vkCreateInstance(&info, nullptr, &self->instance_), "vkCreateInstance");
    ensure_instance_functions(self->instance_);

    if (validation) {
        // Extension entry points are fetched per instance: the shared function table was filled from whichever
        // instance came first, which may not have enabled debug utils.
        const auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(self->instance_, "vkCreateDebugUtilsMessengerEXT"));
        self->destroy_messenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(self->instance_, "vkDestroyDebugUtilsMessengerEXT"));
        if (!create_messenger || !self->destroy_messenger_)
            throw Error(ErrorCode::Unsupported, "the instance lacks VK_EXT_debug_utils entry points");
        vk_check(create_messenger(self->instance_, &messenger_info, nullptr, &self->messenger_),
                 "vkCreateDebugUtilsMessengerEXT");
    }
    return self;
}

std::unique_ptr<Instance> Instance::borrow(VkInstance instance, uint32_t api_version, LogCallback log) {
    if (instance == VK_NULL_HANDLE) throw Error(ErrorCode::InvalidArgument, "borrowed VkInstance is null");
    if (api_version < VK_API_VERSION_1_1)
        throw Error(ErrorCode::Unsupported, "the borrowed instance was created for Vulkan 1.0; hyenavk needs 1.1");
    ensure_loader();
    std::unique_ptr<Instance> self(new Instance());
    self->sink_ = std::make_unique<MessageSink>();
    self->sink_->log = std::move(log);
    self->instance_ = instance;
    self->api_version_ = api_version;
    self->owned_ = false;
    ensure_instance_functions(instance);
    return self;
}

Instance::~Instance() {
    if (messenger_ != VK_NULL_HANDLE) destroy_messenger_(instance_, messenger_, nullptr);
    if (owned_ && instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physical_devices() const {
    uint32_t count = 0;
    vk_check(vkEnumeratePhysicalDevices(instance_, &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> devices(count);
    vk_check(vkEnumeratePhysicalDevices(instance_, &count, devices.data()), "vkEnumeratePhysicalDevices");
    devices.resize(count);
    return devices;
}

}  // namespace hyenavk::gpu
