// The borrowed-device path: the test plays the host application, creating its own instance and device the
// way a renderer would, lending them to hyenavk, and tearing everything down itself.
#include <doctest/doctest.h>

#include <mutex>
#include <vector>

#include "core/context_impl.hpp"
#include "gpu/recorder.hpp"
#include "support/gpu_fixture.hpp"

using namespace hyenavk;

TEST_SUITE_BEGIN("runtime");

TEST_CASE("a context on a device the host created, used and released without touching the host's objects") {
    REQUIRE(volkInitialize() == VK_SUCCESS);
    // The host's own instance, with the validation layer so that hyenavk's use of its device is checked too.
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.apiVersion = VK_API_VERSION_1_1;
    const char* layer = "VK_LAYER_KHRONOS_validation";
    const char* ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ici.pApplicationInfo = &app;
    ici.enabledLayerCount = 1;
    ici.ppEnabledLayerNames = &layer;
    ici.enabledExtensionCount = 1;
    ici.ppEnabledExtensionNames = &ext;
    VkInstance instance = VK_NULL_HANDLE;
    REQUIRE(vkCreateInstance(&ici, nullptr, &instance) == VK_SUCCESS);
    volkLoadInstanceOnly(instance);

    auto on_message = [](VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,
                         const VkDebugUtilsMessengerCallbackDataEXT* data, void*) -> VkBool32 {
        test::counting_log()(LogLevel::Error, data->pMessage);
        return VK_FALSE;
    };
    VkDebugUtilsMessengerCreateInfoEXT mci{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    mci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    mci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
    mci.pfnUserCallback = on_message;
    VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
    REQUIRE(vkCreateDebugUtilsMessengerEXT(instance, &mci, nullptr, &messenger) == VK_SUCCESS);

    uint32_t count = 1;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    REQUIRE(vkEnumeratePhysicalDevices(instance, &count, &physical) >= 0);
    REQUIRE(physical != VK_NULL_HANDLE);

    // Ask hyenavk what it would like enabled, and enable exactly that, as a host would.
    const DeviceSetup setup = required_device_setup(instance, physical);
    std::vector<const char*> extensions;
    for (const auto& e : setup.extensions) extensions.push_back(e.c_str());
    VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    storage16.storageBuffer16BitAccess = setup.storage_buffer_16bit;
    features.pNext = &storage16;

    uint32_t family_count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, nullptr);
    std::vector<VkQueueFamilyProperties> families(family_count);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &family_count, families.data());
    uint32_t family = 0;
    while (family < family_count && !(families[family].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++family;
    REQUIRE(family < family_count);
    const float priority = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = family;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.pNext = &features;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    dci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    dci.ppEnabledExtensionNames = extensions.data();
    VkDevice device = VK_NULL_HANDLE;
    REQUIRE(vkCreateDevice(physical, &dci, nullptr, &device) == VK_SUCCESS);
    VolkDeviceTable table;
    volkLoadDeviceTable(&table, device);
    VkQueue queue = VK_NULL_HANDLE;
    table.vkGetDeviceQueue(device, family, 0, &queue);

    std::mutex host_queue_mutex;
    int locks = 0;
    {
        BorrowedDevice lent;
        lent.instance = instance;
        lent.instance_api_version = VK_API_VERSION_1_1;
        lent.physical_device = physical;
        lent.device = device;
        lent.queue_family_index = family;
        lent.queue = queue;
        lent.lock_queue = [&] {
            host_queue_mutex.lock();
            ++locks;
        };
        lent.unlock_queue = [&] { host_queue_mutex.unlock(); };
        lent.enabled_extensions = setup.extensions;
        lent.storage_buffer_16bit_enabled = setup.storage_buffer_16bit;

        Context ctx = Context::borrow(lent);
        CHECK(ctx.borrowed());
        CHECK(ctx.device().caps.api_version == VK_API_VERSION_1_1);
        auto& impl = ctx.impl();
        const uint32_t n = 256;
        auto x = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
        impl.transfer.fill(x, 0, n * 4, 0x3f800000u);  // 1.0f
        std::vector<float> back(n);
        impl.transfer.download(x, 0, back.data(), n * 4);
        CHECK(back[0] == 1.0f);
        CHECK(back[n - 1] == 1.0f);
        CHECK(locks >= 1);  // hyenavk took the host's queue lock around its submissions
    }
    // hyenavk is gone; the host's device still works and is the host's to destroy.
    CHECK(table.vkDeviceWaitIdle(device) == VK_SUCCESS);
    table.vkDestroyDevice(device, nullptr);
    vkDestroyDebugUtilsMessengerEXT(instance, messenger, nullptr);
    vkDestroyInstance(instance, nullptr);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
