#include "model/forward_submission.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "gpu/transfer.hpp"
#include "gpu/vk_check.hpp"
#include "io/float16.hpp"
#include "model/non_finite.hpp"

namespace hyenavk {
namespace {

// Host values written into device memory of `element` type at `dst` (a mapping), converting where fp16.
void write_elements(std::byte* dst, std::span<const float> values, ops::ElementType element) {
    if (element == ops::ElementType::F32) {
        std::memcpy(dst, values.data(), values.size_bytes());
        return;
    }
    auto* half = reinterpret_cast<uint16_t*>(dst);
    for (size_t i = 0; i < values.size(); ++i) half[i] = io::f32_to_f16(values[i]);
}

void read_elements(const std::byte* src, std::span<float> values, ops::ElementType element) {
    if (element == ops::ElementType::F32) {
        std::memcpy(values.data(), src, values.size_bytes());
        return;
    }
    const auto* half = reinterpret_cast<const uint16_t*>(src);
    for (size_t i = 0; i < values.size(); ++i) values[i] = io::f16_to_f32(half[i]);
}

// The whole allocation flushed to (or invalidated from) the device, where its memory is not coherent.
void flush(const gpu::Allocation& a, const gpu::Device& device) { gpu::flush_host_writes(device, a, 0, a.size()); }

void invalidate(const gpu::Allocation& a, const gpu::Device& device) {
    gpu::invalidate_for_host(device, a, 0, a.size());
}

bool all_mapped(const std::vector<model::IoPiece>& pieces) {
    for (const model::IoPiece& p : pieces)
        if (!p.allocation->mapped()) return false;
    return true;
}

}  // namespace

namespace detail {

Submission::~Submission() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    // Dropped before it was waited for (a synchronous forward that threw, say): the device must be done with
    // the command buffers and tensors before they go. Where it does not finish, they are left to the device.
    gpu::Device& device = *ctx.device;
    if (device.work_abandoned()) return;
    // A lost device runs nothing any more: what the submission used can go without a wait.
    if (!device.lost() && fence != VK_NULL_HANDLE &&
        device.wait_fence(fence, device.fence_timeout_ns()) != VK_SUCCESS && !device.lost()) {
        device.abandon_work();
        return;
    }
    release();
}

bool Submission::ready() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_ || ctx.device->vk().vkGetFenceStatus(ctx.device->handle(), fence) == VK_SUCCESS;
}

void Submission::finish(uint64_t timeout_ns) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    gpu::Device& device = *ctx.device;
    const VkResult waited = device.wait_fence(fence, timeout_ns);
    if (waited == VK_TIMEOUT)
        throw Error(ErrorCode::Timeout, "the forward has not finished after " + std::to_string(timeout_ns / 1000000) +
                                            " ms; it goes on, wait again later");
    gpu::vk_check(waited, "vkWaitForFences");
    if (!host_output.empty()) {
        if (!reads_output_tensors) {
            invalidate(output_staging, device);
            read_elements(output_staging.mapped(), host_output, fw->element);
        } else {
            for (const model::IoPiece& p : fw->outputs) {
                invalidate(*p.allocation, device);
                read_elements(p.allocation->mapped(), host_output.subspan(p.first, p.count), fw->element);
            }
        }
    }
    if (device.profiling()) device.set_last_kernel_times(fw->plan.kernel_times());
    release();
}

void Submission::abandon() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ctx.device->lost()) {
        ctx.device->lock_queue();
        const VkResult idle = ctx.device->vk().vkQueueWaitIdle(ctx.device->queue());
        ctx.device->unlock_queue();
        if (idle != VK_SUCCESS) {
            done_ = true;  // the device failed: what the work used is left to the device's destruction
            return;
        }
    }
    release();
}

void Submission::release() {
    gpu::Device& device = *ctx.device;
    if (!own_commands.empty()) {
        std::lock_guard<std::mutex> lock(device.submit_pool_mutex());
        device.vk().vkFreeCommandBuffers(device.handle(), device.submit_pool(),
                                         static_cast<uint32_t>(own_commands.size()), own_commands.data());
        own_commands.clear();
    }
    device.release_fence(fence);
    fence = VK_NULL_HANDLE;
    input_staging = gpu::Allocation();
    output_staging = gpu::Allocation();
    fw.reset();
    done_ = true;
}

}  // namespace detail

namespace model {

namespace {

constexpr VkPipelineStageFlags kWorkStages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
constexpr VkAccessFlags kWorkAccess = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

void check_finite(std::span<const float> input, uint32_t length, uint32_t features) {
    const auto bad = first_non_finite(input);
    if (!bad) return;
    const size_t i = bad->index;
    const uint64_t per_batch = uint64_t(length) * features;
    throw Error(ErrorCode::InvalidArgument, std::string("input holds ") + bad->kind + " at [" +
                                                std::to_string(i / per_batch) + ", " +
                                                std::to_string(i % per_batch / features) + ", " +
                                                std::to_string(i % features) + "] (--no-finite-check skips this check)");
}

void check_request(const detail::ContextImpl& ctx, const PreparedForward& fw, const ForwardRequest& r,
                   uint32_t input_features) {
    const bool host_in = !r.input.empty(), buffer_in = r.input_buffer.buffer != VK_NULL_HANDLE;
    const bool host_out = !r.output.empty(), buffer_out = r.output_buffer.buffer != VK_NULL_HANDLE;
    if (host_in == buffer_in)
        throw Error(ErrorCode::InvalidArgument, host_in ? "the forward has both a host input and an input buffer; give one"
                                                        : "the forward has no input (host values or an input buffer)");
    if (host_out == buffer_out)
        throw Error(ErrorCode::InvalidArgument, host_out
                                                    ? "the forward has both a host output and an output buffer; give one"
                                                    : "the forward has no output (host memory or an output buffer)");
    if (host_in) check_input_count(r.input.size(), r.batch, r.length, input_features);
    if (fw.batch != r.batch || fw.length != r.length)
        throw Error(ErrorCode::Internal, "submit_forward: the request's shape is not the prepared forward's");
    if (host_out && r.output.size() < fw.output_values())
        throw Error(ErrorCode::InvalidArgument, "output holds " + std::to_string(r.output.size()) +
                                                    " values; this forward writes " +
                                                    std::to_string(fw.output_values()));
    const bool uses_host_objects = buffer_in || buffer_out || r.wait.semaphore != VK_NULL_HANDLE ||
                                   r.signal.semaphore != VK_NULL_HANDLE;
    if (uses_host_objects && !ctx.device->borrowed())
        throw Error(ErrorCode::InvalidArgument,
                    "buffers and semaphores of the host need a context on the host's device (Context::borrow)");
    if ((buffer_in || buffer_out) && fw.element != ops::ElementType::F32)
        throw Error(ErrorCode::Unsupported, "input and output buffers need an fp32 model; this one stores fp16");
    if ((buffer_in && r.input_buffer.offset % 4 != 0) || (buffer_out && r.output_buffer.offset % 4 != 0))
        throw Error(ErrorCode::InvalidArgument, "buffer offsets must be multiples of 4 bytes");
}

// Host-visible memory for one submission's host input or output.
gpu::Allocation staging(detail::ContextImpl& ctx, uint64_t bytes) {
    gpu::Allocation a = ctx.memory.allocate(gpu::Lifetime::Staging, bytes);
    if (!a.mapped()) throw Error(ErrorCode::Internal, "staging memory is not host-visible");
    return a;
}

}  // namespace

void check_input_count(uint64_t values, uint32_t batch, uint32_t length, uint32_t features) {
    const uint64_t needed = uint64_t(batch) * length * features;
    if (values != needed)
        throw Error(ErrorCode::InvalidArgument, "input has " + std::to_string(values) + " values; [B, L, features] = [" +
                                                    std::to_string(batch) + ", " + std::to_string(length) + ", " +
                                                    std::to_string(features) + "] needs " + std::to_string(needed));
}

uint64_t forward_timeout_ns(const detail::ContextImpl& ctx, const detail::Submission& submission) {
    const uint64_t per = ctx.device->fence_timeout_ns(), n = submission.plan_submissions + 2;
    return per > std::numeric_limits<uint64_t>::max() / n ? std::numeric_limits<uint64_t>::max() : per * n;
}

std::shared_ptr<detail::Submission> submit_forward(detail::ContextImpl& ctx, std::shared_ptr<PreparedForward> fw,
                                                   const ForwardRequest& r, uint32_t input_features,
                                                   bool check_finite_values, std::unique_lock<std::mutex>* hold) {
    check_request(ctx, *fw, r, input_features);
    const bool host_in = !r.input.empty(), host_out = !r.output.empty();
    if (host_in && check_finite_values) check_finite(r.input, r.length, input_features);
    gpu::Device& device = *ctx.device;
    device.check_not_lost();

    std::unique_lock<std::mutex> lock(fw->submit_mutex);
    // Forwards of one shape share their plan and tensors; on the device each runs after the one before (every
    // command buffer begins with a barrier on all earlier work). On the host, the latest one may still be
    // running: its tensors then take no direct write. A host output is read straight from the tensors only by
    // a caller that holds the shape until it has read it; others get a copy of their own.
    const std::shared_ptr<detail::Submission> previous = fw->last.lock();
    const bool previous_running = previous && !previous->ready();

    auto sub = std::make_shared<detail::Submission>(ctx, fw);
    sub->plan_submissions = fw->plan.submission_count();
    const uint32_t eb = ops::element_bytes(fw->element);

    // Copies into the input tensors, and out of the output tensors, that go into the recorded commands.
    struct Copy {
        VkBuffer src, dst;
        VkBufferCopy region;
    };
    std::vector<Copy> copies_in, copies_out;
    if (host_in && all_mapped(fw->inputs) && !previous_running) {
        for (const IoPiece& p : fw->inputs) {
            write_elements(p.allocation->mapped(), r.input.subspan(p.first, p.count), fw->element);
            flush(*p.allocation, device);
        }
    } else if (host_in) {
        sub->input_staging = staging(ctx, fw->input_values() * eb);
        const gpu::Allocation& stage = sub->input_staging;
        write_elements(stage.mapped(), r.input, fw->element);
        flush(stage, device);
        for (const IoPiece& p : fw->inputs)
            copies_in.push_back({stage.slice().buffer, p.allocation->slice().buffer,
                                 {stage.slice().offset + p.first * eb, p.allocation->slice().offset, p.count * eb}});
    } else {
        for (const IoPiece& p : fw->inputs)
            copies_in.push_back({r.input_buffer.buffer, p.allocation->slice().buffer,
                                 {r.input_buffer.offset + p.first * 4, p.allocation->slice().offset, p.count * 4}});
    }
    if (host_out && all_mapped(fw->outputs) && hold) {
        sub->reads_output_tensors = true;
    } else if (host_out) {
        sub->output_staging = staging(ctx, fw->output_values() * eb);
        const gpu::Allocation& stage = sub->output_staging;
        for (const IoPiece& p : fw->outputs)
            copies_out.push_back({p.allocation->slice().buffer, stage.slice().buffer,
                                  {p.allocation->slice().offset, stage.slice().offset + p.first * eb, p.count * eb}});
    } else {
        for (const IoPiece& p : fw->outputs)
            copies_out.push_back({p.allocation->slice().buffer, r.output_buffer.buffer,
                                  {p.allocation->slice().offset, r.output_buffer.offset + p.first * 4, p.count * 4}});
    }
    if (host_out) sub->host_output = r.output.first(fw->output_values());

    // The prologue (only where there are input copies) and the epilogue, recorded for this submission.
    std::vector<VkCommandBuffer> cmds;
    {
        std::lock_guard<std::mutex> pool_lock(device.submit_pool_mutex());
        const VolkDeviceTable& vk = device.vk();
        const auto record = [&](const std::vector<Copy>& copies, bool is_input) {
            VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
            alloc.commandPool = device.submit_pool();
            alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
            alloc.commandBufferCount = 1;
            VkCommandBuffer cmd = VK_NULL_HANDLE;
            gpu::vk_check(vk.vkAllocateCommandBuffers(device.handle(), &alloc, &cmd), "vkAllocateCommandBuffers");
            sub->own_commands.push_back(cmd);
            VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
            begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
            gpu::vk_check(vk.vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
            if (is_input) {
                // Earlier forwards may still read the input tensors; the host wrote the staging buffer.
                device.memory_barrier(cmd, kWorkStages | VK_PIPELINE_STAGE_HOST_BIT, kWorkAccess | VK_ACCESS_HOST_WRITE_BIT,
                                      VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
            } else {
                device.memory_barrier(cmd, kWorkStages, kWorkAccess, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
            }
            for (const Copy& c : copies) vk.vkCmdCopyBuffer(cmd, c.src, c.dst, 1, &c.region);
            if (!is_input && host_out)
                device.memory_barrier(cmd, kWorkStages, kWorkAccess, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
            gpu::vk_check(vk.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
            return cmd;
        };
        if (!copies_in.empty()) cmds.push_back(record(copies_in, true));
        const auto& plan_cmds = fw->plan.command_buffers();
        cmds.insert(cmds.end(), plan_cmds.begin(), plan_cmds.end());
        cmds.push_back(record(copies_out, false));
    }
    // Submitted outside the pool lock: abandoning a failed submission frees its command buffers, which takes it.
    {
        sub->fence = device.acquire_fence();
        gpu::Device::SubmitSync sync;
        sync.wait = r.wait.semaphore;
        sync.wait_value = r.wait.value;
        sync.wait_stages = VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
        sync.signal = r.signal.semaphore;
        sync.signal_value = r.signal.value;
        sync.fence = sub->fence;
        sync.timeline_value = &sub->timeline_value;
        try {
            device.submit_async(cmds.data(), static_cast<uint32_t>(cmds.size()), sync);
        } catch (...) {
            // Some command buffers may be queued without the fence: they must end before anything is freed.
            sub->abandon();
            throw;
        }
    }
    fw->last = sub;
    fw->last_used = next_use_stamp();
    if (hold) *hold = std::move(lock);
    return sub;
}

}  // namespace model
}  // namespace hyenavk
