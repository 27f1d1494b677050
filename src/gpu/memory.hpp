// Device memory in a few large blocks, sub-allocated by lifetime. Each block is one VkDeviceMemory bound to
// one VkBuffer, so a tensor is (buffer, offset, size) and descriptors bind ranges of shared buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <volk.h>

namespace hyenavk::gpu {

class Device;

// The host's physical memory in bytes; 0 where the system does not say.
uint64_t host_memory_bytes();

enum class Lifetime {
    Weights,      // uploaded once, live as long as the model
    Activations,  // per-plan intermediates
    Staging,      // host-visible, for uploads and downloads
};
constexpr int kLifetimeCount = 3;

// A view of a range of a buffer; does not own anything.
struct BufferSlice {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;

    BufferSlice sub(VkDeviceSize byte_offset, VkDeviceSize byte_size) const {
        return {buffer, offset + byte_offset, byte_size};
    }
};

class MemoryPools;

// An owned range of a block; returns it to the pool when destroyed.
class Allocation {
public:
    Allocation() = default;
    Allocation(Allocation&& other) noexcept { *this = std::move(other); }
    Allocation& operator=(Allocation&& other) noexcept;
    ~Allocation() { release(); }

    const BufferSlice& slice() const { return slice_; }
    VkDeviceSize size() const { return slice_.size; }
    bool empty() const { return pools_ == nullptr; }
    // Host pointer to the start of this range when the memory is host-visible, else nullptr.
    std::byte* mapped() const { return mapped_; }
    bool coherent() const { return coherent_; }
    VkDeviceMemory memory() const { return memory_; }
    VkDeviceSize memory_offset() const { return slice_.offset; }  // the block's buffer starts at memory offset 0

    void release();

private:
    friend class MemoryPools;
    MemoryPools* pools_ = nullptr;
    int lifetime_ = 0;
    size_t block_ = 0;
    BufferSlice slice_;
    VkDeviceSize reserved_ = 0;  // size rounded to the alignment, as held in the free list
    bool dedicated_ = false;     // owns its whole block, which goes back to the device on release
    std::byte* mapped_ = nullptr;
    bool coherent_ = true;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
};

struct MemoryStats {
    VkDeviceSize reserved[kLifetimeCount] = {};  // bytes of VkDeviceMemory held
    VkDeviceSize used[kLifetimeCount] = {};      // bytes handed out
    VkDeviceSize peak_reserved = 0;              // highest total reserved so far
};

class MemoryPools {
public:
    explicit MemoryPools(Device& device);
    ~MemoryPools();
    MemoryPools(const MemoryPools&) = delete;
    MemoryPools& operator=(const MemoryPools&) = delete;

    // Throws DeviceLimit when `size` exceeds the device's largest allocation, OutOfMemory when none is left
    // or the budget would be exceeded.
    Allocation allocate(Lifetime lifetime, VkDeviceSize size);
    // A block of its own, sized exactly (rounded to the alignment) and returned to the device when the
    // allocation is released: for large, plan-sized buffers whose footprint must be predictable.
    Allocation allocate_dedicated(Lifetime lifetime, VkDeviceSize size);
    // The bytes a dedicated allocation of `size` reserves.
    VkDeviceSize dedicated_bytes(VkDeviceSize size) const;
    MemoryStats stats() const;

    // Device memory hyenavk may hold at once; block allocations beyond it fail with OutOfMemory.
    // 0 restores the default (see default_budget()); a budget beyond capacity() is clamped to it. Returns the
    // budget now in force.
    VkDeviceSize set_budget(VkDeviceSize bytes);
    VkDeviceSize budget() const;
    // What the device can give: VK_EXT_memory_budget's heap budget where present, else the device-local
    // heap; on a CPU device (lavapipe, whose heap size is nominal) half of the host's physical memory.
    VkDeviceSize default_budget() const;
    // The most any budget may be: the largest device-local heap, or on a CPU device the host's physical
    // memory (beyond it the driver's allocations would succeed until the system runs out of memory).
    VkDeviceSize capacity() const;
    // Bytes currently reserved from the device, every lifetime together.
    VkDeviceSize reserved() const;
    // Blocks above this size are made only for single requests larger than it.
    static constexpr VkDeviceSize kDefaultBlockSize = 64ull << 20;
    static constexpr VkDeviceSize kStagingBlockSize = 16ull << 20;
    // Weights come in many tensors of a few MiB at most: small blocks keep a small model's footprint close
    // to its size (the big, plan-sized buffers are dedicated allocations).
    static constexpr VkDeviceSize kWeightBlockSize = 4ull << 20;

private:
    friend class Allocation;
    struct Block {
        VkDeviceMemory memory = VK_NULL_HANDLE;
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceSize size = 0;
        std::byte* mapped = nullptr;
        bool coherent = true;
        std::map<VkDeviceSize, VkDeviceSize> free;  // offset -> size, coalesced
        bool dedicated = false;
    };
    Allocation take(int lifetime, size_t index, VkDeviceSize size, VkDeviceSize reserved);
    void destroy_block(int lifetime, size_t index);
    void free_range(int lifetime, size_t block, VkDeviceSize offset, VkDeviceSize size);
    size_t add_block(int lifetime, VkDeviceSize size);
    VkDeviceSize reserved_total() const;  // every lifetime's blocks together; under mutex_
    uint32_t pick_memory_type(uint32_t type_bits, Lifetime lifetime, int attempt) const;

    Device& device_;
    VkDeviceSize alignment_ = 256;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Block>> blocks_[kLifetimeCount];
    MemoryStats stats_;
    VkDeviceSize budget_ = 0;
};

}  // namespace hyenavk::gpu
