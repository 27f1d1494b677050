// Moves bytes between host memory and allocations: directly through a mapping where the memory is
// host-visible, else through a staging buffer in bounded chunks.
#pragma once

#include <cstddef>

#include "gpu/memory.hpp"

namespace hyenavk::gpu {

class Device;

// For mapped memory that is not host-coherent: host writes to [offset, offset + bytes) of `a` made visible to
// the device, and device writes to that range made visible to host reads. Nothing to do for coherent memory.
void flush_host_writes(const Device& device, const Allocation& a, VkDeviceSize offset, VkDeviceSize bytes);
void invalidate_for_host(const Device& device, const Allocation& a, VkDeviceSize offset, VkDeviceSize bytes);

class Transfer {
public:
    Transfer(Device& device, MemoryPools& pools) : device_(device), pools_(pools) {}

    void upload(const Allocation& dst, VkDeviceSize dst_offset, const void* src, size_t bytes);
    void download(const Allocation& src, VkDeviceSize src_offset, void* dst, size_t bytes);
    void fill(const Allocation& dst, VkDeviceSize dst_offset, VkDeviceSize bytes, uint32_t value);

    static constexpr size_t kChunk = 8u << 20;

private:
    Allocation& staging();
    Device& device_;
    MemoryPools& pools_;
    Allocation staging_;
};

}  // namespace hyenavk::gpu
