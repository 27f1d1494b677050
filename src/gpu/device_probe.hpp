// Reads what a physical device is and can do into the public DeviceInfo/DeviceCaps, and picks a device.
#pragma once

#include <string>
#include <vector>

#include <volk.h>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

std::vector<std::string> device_extensions(VkPhysicalDevice physical_device);
bool has_extension(const std::vector<std::string>& extensions, const char* name);

DeviceInfo probe_device(VkPhysicalDevice physical_device, uint32_t instance_api_version, uint32_t index);

// Applies a CapsClamp: only ever makes the caps stricter.
void apply_clamp(DeviceCaps& caps, const CapsClamp& clamp);

// Resolves ContextOptions::device against the probed list; throws NotFound / InvalidArgument with the
// candidates listed.
uint32_t choose_device(const std::vector<DeviceInfo>& devices, const std::string& selector);

// The optional extensions and features hyenavk uses, restricted to what the device supports.
DeviceSetup wanted_setup(VkPhysicalDevice physical_device, uint32_t instance_api_version);

}  // namespace hyenavk::gpu
