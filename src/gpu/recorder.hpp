// Records compute work into reusable command buffers. It tracks which buffer ranges each command reads and
// writes and inserts a barrier only where a command conflicts with an unsynchronised earlier access
// (read after write, write after read, write after write). The result is a Plan that can be replayed.
//
// Every command carries an estimate of its work in arithmetic operations (commands that only move memory
// count kOpsPerByte per byte moved). When a command would take the current command buffer past the
// device's max_submission_work (ContextOptions), the buffer is ended and the command starts a new one, which
// the plan submits separately: no submission runs long enough to trip a driver watchdog.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
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

// Recorded command buffers and the descriptor sets they use; submit() may be called any number of times.
class Plan {
public:
    Plan() = default;
    Plan(Plan&& other) noexcept { *this = std::move(other); }
    Plan& operator=(Plan&& other) noexcept;
    ~Plan();

    void submit();  // submits the command buffers in order, one queue submission each, and waits for them
    const std::vector<VkCommandBuffer>& command_buffers() const { return cmds_; }
    uint32_t submission_count() const { return static_cast<uint32_t>(cmds_.size()); }
    uint32_t dispatch_count() const { return dispatches_; }
    // Barriers placed between conflicting commands (not the one that begins each command buffer).
    uint32_t barrier_count() const { return barriers_; }
    uint64_t estimated_work() const { return work_; }  // arithmetic operations, all submissions together

    // GPU time per kind of command (shader name, "copy", "fill", "fft") over the last submit(), from the
    // timestamps a profiling device records after each command; empty where none were recorded. A command's
    // time runs from the end of the one before it, so barrier waits count against the command that waited.
    std::vector<KernelTime> kernel_times() const;

private:
    friend class Recorder;
    void release();  // frees the command buffers and descriptor pools; leaves an empty plan
    Device* device_ = nullptr;
    VkCommandPool command_pool_ = VK_NULL_HANDLE;
    std::vector<VkCommandBuffer> cmds_;
    std::vector<VkDescriptorPool> descriptor_pools_;
    uint32_t dispatches_ = 0;
    uint32_t barriers_ = 0;
    uint64_t work_ = 0;
    // Timestamps: query pools of kQueriesPerPool, and per command buffer the queries it writes in order (the
    // first marks its start) with the label of the command each one ends.
    static constexpr uint32_t kQueriesPerPool = 256;
    struct Stamp {
        uint32_t pool, query;
        std::string label;
    };
    std::vector<VkQueryPool> query_pools_;
    std::vector<std::vector<Stamp>> stamps_;
};

class Recorder {
public:
    Recorder(Device& device, Pipelines& pipelines);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Estimates, in arithmetic operations, used where a command gives none.
    static constexpr uint64_t kOpsPerInvocation = 16;  // per shader invocation of a dispatch
    static constexpr uint64_t kOpsPerByte = 8;         // per byte read or written by a copy, fill or external

    // Binds `bindings` to bindings 0..n-1 of `shader` and dispatches `groups` workgroups. Every slice must lie
    // within the device's storage-buffer range (DeviceLimit otherwise). `work` estimates the arithmetic
    // operations of the whole dispatch (2 * rows * cols * inner for a matrix product, say); 0 takes
    // workgroups x workgroup size x kOpsPerInvocation, which undercounts kernels that loop over an inner
    // dimension or over a grid larger than the one dispatched.
    void dispatch(std::string_view shader, std::span<const uint32_t> spec, std::initializer_list<Binding> bindings,
                  const void* push, uint32_t push_bytes, std::array<uint32_t, 3> groups, uint64_t work = 0);
    template <class Push>
    void dispatch(std::string_view shader, std::span<const uint32_t> spec, std::initializer_list<Binding> bindings,
                  const Push& push, std::array<uint32_t, 3> groups, uint64_t work = 0) {
        static_assert(sizeof(Push) <= 128, "push constants are limited to 128 bytes");
        dispatch(shader, spec, bindings, &push, sizeof(Push), groups, work);
    }

    // Work: kOpsPerByte per byte read and written.
    void copy(const BufferSlice& src, const BufferSlice& dst);
    void fill(const BufferSlice& dst, uint32_t value);

    // For code that records its own commands (VkFFT): declares what they touch, so barriers are placed
    // around them, then lets `record` write into the command buffer. `work` as for dispatch; 0 assumes two
    // read-and-write passes over every declared binding (4 x kOpsPerByte per byte bound).
    void external(std::initializer_list<Binding> bindings, const std::function<void(VkCommandBuffer)>& record,
                  uint64_t work = 0);

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
    VkCommandBuffer cmd() const { return plan_.cmds_.back(); }
    void begin_command_buffer();
    // Counts `work` for the next command, first moving to a new command buffer if it would exceed the bound.
    void reserve(uint64_t work);
    void track(std::initializer_list<Binding> bindings);
    void barrier();
    VkDescriptorSet allocate_set();
    void stamp(const char* label);  // a timestamp after the last command, where the device is profiling

    Device& device_;
    Pipelines& pipelines_;
    Plan plan_;
    std::vector<Range> pending_reads_, pending_writes_;
    uint32_t sets_left_in_pool_ = 0;
    uint64_t max_work_ = 0;     // per command buffer; 0: unbounded
    uint64_t buffer_work_ = 0;  // in the command buffer being recorded
};

}  // namespace hyenavk::gpu
