#include "gpu/transfer.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "gpu/device.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

// Flush/invalidate ranges must be multiples of nonCoherentAtomSize (or reach the end of the memory).
VkMappedMemoryRange atom_range(const Device& device, const Allocation& a, VkDeviceSize offset, VkDeviceSize bytes) {
    const VkDeviceSize atom = std::max<VkDeviceSize>(device.caps().non_coherent_atom_size, 1);
    VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
    range.memory = a.memory();
    const VkDeviceSize begin = (a.memory_offset() + offset) / atom * atom;
    const VkDeviceSize end = (a.memory_offset() + offset + bytes + atom - 1) / atom * atom;
    range.offset = begin;
    range.size = end - begin;
    return range;
}

void check_range(const Allocation& a, VkDeviceSize offset, size_t bytes, const char* what) {
    if (a.empty() || offset + bytes > a.size())
        throw Error(ErrorCode::Internal, std::string(what) + " of " + std::to_string(bytes) + " bytes at offset " +
                                             std::to_string(offset) + " is outside its buffer");
}

}  // namespace

void flush_host_writes(const Device& device, const Allocation& a, VkDeviceSize offset, VkDeviceSize bytes) {
    if (a.coherent()) return;
    const VkMappedMemoryRange range = atom_range(device, a, offset, bytes);
    vk_check(device.vk().vkFlushMappedMemoryRanges(device.handle(), 1, &range), "vkFlushMappedMemoryRanges");
}

void invalidate_for_host(const Device& device, const Allocation& a, VkDeviceSize offset, VkDeviceSize bytes) {
    if (a.coherent()) return;
    const VkMappedMemoryRange range = atom_range(device, a, offset, bytes);
    vk_check(device.vk().vkInvalidateMappedMemoryRanges(device.handle(), 1, &range), "vkInvalidateMappedMemoryRanges");
}

Allocation& Transfer::staging() {
    if (staging_.empty()) staging_ = pools_.allocate(Lifetime::Staging, kChunk);
    return staging_;
}

void Transfer::upload(const Allocation& dst, VkDeviceSize dst_offset, const void* src, size_t bytes) {
    check_range(dst, dst_offset, bytes, "upload");
    device_.check_not_lost();
    if (dst.mapped()) {
        std::memcpy(dst.mapped() + dst_offset, src, bytes);
        flush_host_writes(device_, dst, dst_offset, bytes);
        return;
    }
    std::lock_guard<std::mutex> lock(device_.pool_mutex());  // the staging buffer and the one-shot pool
    Allocation& stage = staging();
    const auto* p = static_cast<const std::byte*>(src);
    for (size_t done = 0; done < bytes;) {
        const size_t n = std::min(kChunk, bytes - done);
        std::memcpy(stage.mapped(), p + done, n);
        flush_host_writes(device_, stage, 0, n);
        VkCommandBuffer cmd = device_.begin_one_shot();
        const VkBufferCopy copy{stage.slice().offset, dst.slice().offset + dst_offset + done, n};
        device_.vk().vkCmdCopyBuffer(cmd, stage.slice().buffer, dst.slice().buffer, 1, &copy);
        device_.submit_one_shot(cmd);
        done += n;
    }
}

void Transfer::download(const Allocation& src, VkDeviceSize src_offset, void* dst, size_t bytes) {
    check_range(src, src_offset, bytes, "download");
    device_.check_not_lost();
    if (src.mapped()) {
        invalidate_for_host(device_, src, src_offset, bytes);
        std::memcpy(dst, src.mapped() + src_offset, bytes);
        return;
    }
    std::lock_guard<std::mutex> lock(device_.pool_mutex());  // the staging buffer and the one-shot pool
    Allocation& stage = staging();
    auto* p = static_cast<std::byte*>(dst);
    for (size_t done = 0; done < bytes;) {
        const size_t n = std::min(kChunk, bytes - done);
        VkCommandBuffer cmd = device_.begin_one_shot();
        const VkBufferCopy copy{src.slice().offset + src_offset + done, stage.slice().offset, n};
        device_.vk().vkCmdCopyBuffer(cmd, src.slice().buffer, stage.slice().buffer, 1, &copy);
        device_.submit_one_shot(cmd);
        invalidate_for_host(device_, stage, 0, n);
        std::memcpy(p + done, stage.mapped(), n);
        done += n;
    }
}

void Transfer::fill(const Allocation& dst, VkDeviceSize dst_offset, VkDeviceSize bytes, uint32_t value) {
    check_range(dst, dst_offset, bytes, "fill");
    if (bytes % 4 != 0 || dst_offset % 4 != 0)
        throw Error(ErrorCode::Internal, "fill needs a 4-byte aligned range");
    std::lock_guard<std::mutex> lock(device_.pool_mutex());
    VkCommandBuffer cmd = device_.begin_one_shot();
    device_.vk().vkCmdFillBuffer(cmd, dst.slice().buffer, dst.slice().offset + dst_offset, bytes, value);
    device_.submit_one_shot(cmd);
}

}  // namespace hyenavk::gpu
