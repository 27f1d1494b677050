// Records compute work into a reusable command buffer. It tracks which buffer ranges each command reads and
// writes and inserts a barrier only where a command conflicts with an unsynchronised earlier access
// (read after write, write after read, write after write). The result is a Plan that can be replayed.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include <volk.h>

#include "gpu/memory.hpp"
#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

class Device;
class Pipelines;

enum class Access { Read, Write, ReadWrite };

struct Binding {
    BufferSlice slice;
    Access access = Access::Read;
};

// A recorded command buffer and the descriptor sets it uses; submit() may be called any number of times.
class Plan {
public:
    Plan() = default;
    Plan(Plan&& other) noexcept { *this = std::move(other); }
    Plan& operator=(Plan&& other) noexcept;
    ~Plan();

    void submit();  // submits and waits
    VkCommandBuffer command_buffer() const { return cmd_; }
    uint32_t dispatch_count() const { return dispatches_; }
    uint32_t barrier_count() const { return barriers_; }

private:
    friend class Recorder;
    void release();  // frees the command buffer and descriptor pools; leaves an empty plan
    Device* device_ = nullptr;
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> descriptor_pools_;
    uint32_t dispatches_ = 0;
    uint32_t barriers_ = 0;
};

class Recorder {
public:
    Recorder(Device& device, Pipelines& pipelines);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Binds `bindings` to bindings 0..n-1 of `shader` and dispatches `groups` workgroups. Every slice must lie
    // within the device's storage-buffer range (DeviceLimit otherwise).
    void dispatch(std::string_view shader, std::span<const uint32_t> spec, std::initializer_list<Binding> bindings,
                  const void* push, uint32_t push_bytes, std::array<uint32_t, 3> groups);
    template <class Push>
    void dispatch(std::string_view shader, std::span<const uint32_t> spec, std::initializer_list<Binding> bindings,
                  const Push& push, std::array<uint32_t, 3> groups) {
        static_assert(sizeof(Push) <= 128, "push constants are limited to 128 bytes");
        dispatch(shader, spec, bindings, &push, sizeof(Push), groups);
    }

    void copy(const BufferSlice& src, const BufferSlice& dst);
    void fill(const BufferSlice& dst, uint32_t value);

    // For code that records its own commands (VkFFT): declares what they touch, so barriers are placed
    // around them, then lets `record` write into the command buffer.
    void external(std::initializer_list<Binding> bindings, const std::function<void(VkCommandBuffer)>& record);

    Plan finish();

    const DeviceCaps& caps() const;
    Device& device() const { return device_; }
    Pipelines& pipelines() const { return pipelines_; }

private:
    struct Range {
        VkBuffer buffer;
        VkDeviceSize begin, end;
        bool overlaps(const Range& o) const { return buffer == o.buffer && begin < o.end && o.begin < end; }
    };
    void track(std::initializer_list<Binding> bindings);
    void barrier();
    VkDescriptorSet allocate_set();

    Device& device_;
    Pipelines& pipelines_;
    Plan plan_;
    std::vector<Range> pending_reads_, pending_writes_;
    uint32_t sets_left_in_pool_ = 0;
};

}  // namespace hyenavk::gpu
