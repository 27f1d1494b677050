// The Vulkan loader is opened at run time through volk, so the library has no link-time dependency on
// libvulkan and works where the loader is installed late (or is MoltenVK's).
#pragma once

#include <volk.h>

namespace hyenavk::gpu {

// Opens the loader once per process; throws Unsupported when no Vulkan loader is installed.
void ensure_loader();

// Loads instance-level entry points. volk keeps them in process-wide pointers; the loader's trampolines
// dispatch on the handle passed, so loading them once from any instance serves every instance and device
// (VkFFT calls Vulkan through these same pointers).
void ensure_instance_functions(VkInstance instance);

}  // namespace hyenavk::gpu
