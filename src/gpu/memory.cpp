#include "gpu/memory.hpp"

#include <algorithm>
#include <string>

#include <unistd.h>

#include "core/sizes.hpp"
#include "gpu/device.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

VkDeviceSize align_up(VkDeviceSize value, VkDeviceSize alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

using detail::mib;

// The largest device-local heap (heap 0 where none is marked so).
uint32_t largest_local_heap(const VkPhysicalDeviceMemoryProperties& props) {
    uint32_t heap = 0;
    for (uint32_t i = 0; i < props.memoryHeapCount; ++i)
        if ((props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            props.memoryHeaps[i].size > props.memoryHeaps[heap].size)
            heap = i;
    return heap;
}

}  // namespace

uint64_t host_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? detail::saturating_product({uint64_t(pages), uint64_t(page)}) : 0;
}

Allocation& Allocation::operator=(Allocation&& other) noexcept {
    if (this != &other) {
        release();
        pools_ = other.pools_;
        lifetime_ = other.lifetime_;
        block_ = other.block_;
        slice_ = other.slice_;
        reserved_ = other.reserved_;
        mapped_ = other.mapped_;
        coherent_ = other.coherent_;
        memory_ = other.memory_;
        other.pools_ = nullptr;
    }
    return *this;
}

void Allocation::release() {
    if (pools_) pools_->free_range(lifetime_, block_, slice_.offset, reserved_);
    pools_ = nullptr;
}

MemoryPools::MemoryPools(Device& device) : device_(device) {
    const DeviceCaps& caps = device.caps();
    // One alignment serves descriptors (storage offsets), flushes of non-coherent memory and vector loads.
    alignment_ = std::max<VkDeviceSize>({caps.min_storage_buffer_offset_alignment, caps.non_coherent_atom_size, 16});
    budget_ = default_budget();
}

MemoryPools::~MemoryPools() {
    const VolkDeviceTable& vk = device_.vk();
    for (auto& list : blocks_)
        for (auto& b : list) {
            if (b->memory == VK_NULL_HANDLE) continue;
            if (b->mapped) vk.vkUnmapMemory(device_.handle(), b->memory);
            vk.vkDestroyBuffer(device_.handle(), b->buffer, nullptr);
            vk.vkFreeMemory(device_.handle(), b->memory, nullptr);
        }
}

uint32_t MemoryPools::pick_memory_type(uint32_t type_bits, Lifetime lifetime, int attempt) const {
    const auto& props = device_.memory_properties();
    // Preference lists, best first; a later attempt (after an allocation failure) takes the next candidate.
    std::vector<VkMemoryPropertyFlags> wanted;
    if (lifetime == Lifetime::Staging) {
        wanted = {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                      VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                  VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                  VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT};
    } else {
        wanted = {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0};
    }
    int seen = 0;
    std::vector<uint32_t> tried;
    for (VkMemoryPropertyFlags flags : wanted)
        for (uint32_t i = 0; i < props.memoryTypeCount; ++i) {
            if (!(type_bits & (1u << i)) || (props.memoryTypes[i].propertyFlags & flags) != flags) continue;
            if (std::find(tried.begin(), tried.end(), i) != tried.end()) continue;
            tried.push_back(i);
            if (seen++ == attempt) return i;
        }
    return UINT32_MAX;
}

VkDeviceSize MemoryPools::reserved_total() const {
    VkDeviceSize total = 0;
    for (VkDeviceSize r : stats_.reserved) total += r;
    return total;
}

size_t MemoryPools::add_block(int lifetime, VkDeviceSize size) {
    const VkDeviceSize held = reserved_total();
    if (budget_ && held + size > budget_)
        throw Error(ErrorCode::OutOfMemory, "device memory budget exceeded: hyenavk holds " + mib(held) + " and needs " +
                                                mib(size) + " more, beyond the budget of " + mib(budget_) +
                                                " (ContextOptions::memory_budget_bytes, --memory-budget)");
    const VolkDeviceTable& vk = device_.vk();
    VkDevice dev = device_.handle();
    auto block = std::make_unique<Block>();
    block->size = size;

    VkBufferCreateInfo buffer_info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    buffer_info.size = size;
    buffer_info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                        VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    buffer_info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    vk_check(vk.vkCreateBuffer(dev, &buffer_info, nullptr, &block->buffer), "vkCreateBuffer");
    VkMemoryRequirements req;
    vk.vkGetBufferMemoryRequirements(dev, block->buffer, &req);

    VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    uint32_t type = UINT32_MAX;
    // An injected fault fails every memory type, as a device with no memory left would.
    const bool injected = device_.take_fault(InjectedFault::OutOfDeviceMemory);
    for (int attempt = 0; result != VK_SUCCESS; ++attempt) {
        type = pick_memory_type(req.memoryTypeBits, static_cast<Lifetime>(lifetime), attempt);
        if (type == UINT32_MAX) break;
        VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
        alloc.allocationSize = req.size;
        alloc.memoryTypeIndex = type;
        result = injected ? VK_ERROR_OUT_OF_DEVICE_MEMORY : vk.vkAllocateMemory(dev, &alloc, nullptr, &block->memory);
        if (result != VK_SUCCESS && result != VK_ERROR_OUT_OF_DEVICE_MEMORY && result != VK_ERROR_OUT_OF_HOST_MEMORY)
            break;
    }
    if (result != VK_SUCCESS) {
        vk.vkDestroyBuffer(dev, block->buffer, nullptr);
        if (type == UINT32_MAX && result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
            throw Error(ErrorCode::OutOfMemory, "device memory exhausted allocating a block of " + mib(size));
        throw_vk_error(result, "vkAllocateMemory");
    }
    vk_check(vk.vkBindBufferMemory(dev, block->buffer, block->memory, 0), "vkBindBufferMemory");
    const VkMemoryPropertyFlags flags = device_.memory_properties().memoryTypes[type].propertyFlags;
    block->coherent = (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
    if (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        void* p = nullptr;
        vk_check(vk.vkMapMemory(dev, block->memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
        block->mapped = static_cast<std::byte*>(p);
    }
    block->free.emplace(0, size);
    stats_.reserved[lifetime] += size;

    stats_.peak_reserved = std::max(stats_.peak_reserved, reserved_total());
    auto& list = blocks_[lifetime];
    for (size_t i = 0; i < list.size(); ++i)
        if (list[i]->memory == VK_NULL_HANDLE) {
            list[i] = std::move(block);
            return i;
        }
    list.push_back(std::move(block));
    return list.size() - 1;
}

Allocation MemoryPools::take(int l, size_t index, VkDeviceSize size, VkDeviceSize reserved) {
    Block& b = *blocks_[l][index];
    for (auto it = b.free.begin(); it != b.free.end(); ++it) {
        if (it->second < reserved) continue;
        const VkDeviceSize offset = it->first;
        const VkDeviceSize rest = it->second - reserved;
        b.free.erase(it);
        if (rest) b.free.emplace(offset + reserved, rest);
        Allocation a;
        a.pools_ = this;
        a.lifetime_ = l;
        a.block_ = index;
        a.slice_ = {b.buffer, offset, size};
        a.reserved_ = reserved;
        a.dedicated_ = b.dedicated;
        a.mapped_ = b.mapped ? b.mapped + offset : nullptr;
        a.coherent_ = b.coherent;
        a.memory_ = b.memory;
        stats_.used[l] += reserved;
        return a;
    }
    return {};
}

Allocation MemoryPools::allocate(Lifetime lifetime, VkDeviceSize size) {
    const int l = static_cast<int>(lifetime);
    const VkDeviceSize max_alloc = device_.caps().max_memory_allocation_size;
    const VkDeviceSize reserved = align_up(std::max<VkDeviceSize>(size, 1), alignment_);
    if (reserved > max_alloc)
        throw Error(ErrorCode::DeviceLimit, "a buffer of " + mib(size) + " exceeds the device's maximum allocation size (" +
                                                mib(max_alloc) + ", maxMemoryAllocationSize)");
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < blocks_[l].size(); ++i) {
        if (blocks_[l][i]->dedicated || blocks_[l][i]->memory == VK_NULL_HANDLE) continue;
        Allocation a = take(l, i, size, reserved);
        if (!a.empty()) return a;
    }
    const VkDeviceSize base = lifetime == Lifetime::Staging   ? kStagingBlockSize
                              : lifetime == Lifetime::Weights ? kWeightBlockSize
                                                              : kDefaultBlockSize;
    VkDeviceSize block = std::max(reserved, std::min(base, max_alloc));
    // Where a whole block would overrun the budget, the block is just the request: a tight budget then holds
    // exactly what is used.
    if (budget_ && reserved_total() + block > budget_) block = reserved;
    return take(l, add_block(l, block), size, reserved);
}

VkDeviceSize MemoryPools::dedicated_bytes(VkDeviceSize size) const {
    return align_up(std::max<VkDeviceSize>(size, 1), alignment_);
}

Allocation MemoryPools::allocate_dedicated(Lifetime lifetime, VkDeviceSize size) {
    const int l = static_cast<int>(lifetime);
    const VkDeviceSize reserved = dedicated_bytes(size);
    if (reserved > device_.caps().max_memory_allocation_size)
        throw Error(ErrorCode::DeviceLimit, "a buffer of " + mib(size) + " exceeds the device's maximum allocation size (" +
                                                mib(device_.caps().max_memory_allocation_size) +
                                                ", maxMemoryAllocationSize)");
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t index = add_block(l, reserved);
    blocks_[l][index]->dedicated = true;
    return take(l, index, size, reserved);
}

void MemoryPools::destroy_block(int lifetime, size_t index) {
    Block& b = *blocks_[lifetime][index];
    const VolkDeviceTable& vk = device_.vk();
    if (b.mapped) vk.vkUnmapMemory(device_.handle(), b.memory);
    vk.vkDestroyBuffer(device_.handle(), b.buffer, nullptr);
    vk.vkFreeMemory(device_.handle(), b.memory, nullptr);
    stats_.reserved[lifetime] -= b.size;
    b = Block{};  // the slot stays, so other allocations' block indices remain valid
}

VkDeviceSize MemoryPools::set_budget(VkDeviceSize bytes) {
    const VkDeviceSize value = std::min(bytes ? bytes : default_budget(), capacity());
    std::lock_guard<std::mutex> lock(mutex_);
    budget_ = value;
    return value;
}

VkDeviceSize MemoryPools::reserved() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reserved_total();
}

VkDeviceSize MemoryPools::budget() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return budget_;
}

VkDeviceSize MemoryPools::capacity() const {
    if (device_.info().type == DeviceType::Cpu)
        if (const uint64_t host = host_memory_bytes()) return host;
    const auto& props = device_.memory_properties();
    return props.memoryHeaps[largest_local_heap(props)].size;
}

VkDeviceSize MemoryPools::default_budget() const {
    const DeviceCaps& caps = device_.caps();
    if (device_.info().type == DeviceType::Cpu)
        if (const uint64_t host = host_memory_bytes()) return host / 2;
    const auto& props = device_.memory_properties();
    const uint32_t heap = largest_local_heap(props);
    if (caps.memory_budget) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
        props2.pNext = &budget;
        vkGetPhysicalDeviceMemoryProperties2(device_.physical(), &props2);
        // heapBudget counts what this process already holds as usable; the pools' own blocks are part of it.
        if (budget.heapBudget[heap] > 0) return budget.heapBudget[heap];
    }
    return props.memoryHeaps[heap].size;
}

void MemoryPools::free_range(int lifetime, size_t block, VkDeviceSize offset, VkDeviceSize size) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (blocks_[lifetime][block]->dedicated) {
        stats_.used[lifetime] -= size;
        destroy_block(lifetime, block);
        return;
    }
    auto& free = blocks_[lifetime][block]->free;
    auto [it, inserted] = free.emplace(offset, size);
    // Coalesce with the neighbours so that large requests can reuse freed space.
    if (it != free.begin()) {
        auto prev = std::prev(it);
        if (prev->first + prev->second == it->first) {
            prev->second += it->second;
            free.erase(it);
            it = prev;
        }
    }
    auto next = std::next(it);
    if (next != free.end() && it->first + it->second == next->first) {
        it->second += next->second;
        free.erase(next);
    }
    stats_.used[lifetime] -= size;
}

MemoryStats MemoryPools::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

}  // namespace hyenavk::gpu
