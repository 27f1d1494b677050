#include "gpu/loader.hpp"

#include <mutex>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

void ensure_loader() {
    static std::once_flag once;
    static VkResult result = VK_ERROR_INITIALIZATION_FAILED;
    std::call_once(once, [] { result = volkInitialize(); });
    if (result != VK_SUCCESS)
        throw Error(ErrorCode::Unsupported,
                    "no Vulkan loader found (install libvulkan1 and a Vulkan driver, e.g. mesa-vulkan-drivers)");
}

void ensure_instance_functions(VkInstance instance) {
    static std::once_flag once;
    std::call_once(once, [instance] { volkLoadInstance(instance); });
}

}  // namespace hyenavk::gpu
