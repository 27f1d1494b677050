// Turns a failing VkResult into a hyenavk::Error that names the call.
#pragma once

#include <volk.h>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

const char* vk_result_name(VkResult result) noexcept;

[[noreturn]] void throw_vk_error(VkResult result, const char* call);

inline void vk_check(VkResult result, const char* call) {
    if (result != VK_SUCCESS) throw_vk_error(result, call);
}

}  // namespace hyenavk::gpu
