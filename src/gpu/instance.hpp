// A VkInstance, created by hyenavk (optionally with the validation layer) or borrowed from the host.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <volk.h>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

// Where driver and validation messages go. Shared with the debug messenger's C callback, so it must
// outlive the messenger: the Instance owns both and destroys the messenger first.
struct MessageSink {
    LogCallback log;
    std::atomic<uint64_t> validation_messages{0};
    void emit(LogLevel level, const char* text);
};

class Instance {
public:
    // Creates an instance; with validation, loads VK_LAYER_KHRONOS_validation with synchronization validation.
    static std::unique_ptr<Instance> create(bool validation, LogCallback log);
    static std::unique_ptr<Instance> borrow(VkInstance instance, uint32_t api_version, LogCallback log);
    ~Instance();

    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const { return instance_; }
    uint32_t api_version() const { return api_version_; }
    bool portability_enumeration() const { return portability_enumeration_; }
    MessageSink& sink() { return *sink_; }
    std::vector<VkPhysicalDevice> physical_devices() const;

private:
    Instance() = default;
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger_ = nullptr;
    uint32_t api_version_ = VK_API_VERSION_1_1;
    bool owned_ = false;
    bool portability_enumeration_ = false;
    std::unique_ptr<MessageSink> sink_;
};

}  // namespace hyenavk::gpu
