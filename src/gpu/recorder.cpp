#include "gpu/recorder.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "gpu/device.hpp"
#include "gpu/pipelines.hpp"
#include "gpu/shader_registry.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

constexpr uint32_t kSetsPerPool = 128;
constexpr VkPipelineStageFlags kWorkStages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
constexpr VkAccessFlags kWorkAccess = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

constexpr uint64_t kMaxWork = std::numeric_limits<uint64_t>::max();

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > kMaxWork - b ? kMaxWork : a + b; }
uint64_t saturating_mul(uint64_t a, uint64_t b) { return b != 0 && a > kMaxWork / b ? kMaxWork : a * b; }

// Invocations per workgroup of `shader`, from the LocalSize execution mode of its SPIR-V (sizes given by
// specialization constants count at their default). 1 where the module does not say.
uint64_t workgroup_invocations(std::string_view shader) {
    constexpr uint32_t kOpExecutionMode = 16, kOpFunction = 54, kLocalSize = 17;
    const ShaderCode* code = find_shader(shader);
    if (!code || code->word_count < 5) return 1;
    for (size_t i = 5; i < code->word_count;) {
        const uint32_t word_count = code->words[i] >> 16, opcode = code->words[i] & 0xffffu;
        if (word_count == 0 || i + word_count > code->word_count || opcode == kOpFunction) break;
        if (opcode == kOpExecutionMode && word_count >= 6 && code->words[i + 2] == kLocalSize)
            return std::max<uint64_t>(1, uint64_t(code->words[i + 3]) * code->words[i + 4] * code->words[i + 5]);
        i += word_count;
    }
    return 1;
}

}  // namespace

Plan& Plan::operator=(Plan&& other) noexcept {
    if (this != &other) {
        release();
        device_ = other.device_;
        command_pool_ = other.command_pool_;
        other.command_pool_ = VK_NULL_HANDLE;
        cmds_ = std::move(other.cmds_);
        descriptor_pools_ = std::move(other.descriptor_pools_);
        dispatches_ = other.dispatches_;
        barriers_ = other.barriers_;
        work_ = other.work_;
        query_pools_ = std::move(other.query_pools_);
        stamps_ = std::move(other.stamps_);
        other.device_ = nullptr;
        other.cmds_.clear();
        other.descriptor_pools_.clear();
        other.query_pools_.clear();
        other.stamps_.clear();
    }
    return *this;
}

Plan::~Plan() { release(); }

void Plan::release() {
    if (!device_) return;
    const VolkDeviceTable& vk = device_->vk();
    // After a timed-out wait the work may still be running: its objects are left to the device's destruction.
    if (!device_->work_abandoned()) {
        // Destroying the pool frees the command buffers.
        if (command_pool_ != VK_NULL_HANDLE) vk.vkDestroyCommandPool(device_->handle(), command_pool_, nullptr);
        for (VkDescriptorPool pool : descriptor_pools_) vk.vkDestroyDescriptorPool(device_->handle(), pool, nullptr);
        for (VkQueryPool pool : query_pools_) vk.vkDestroyQueryPool(device_->handle(), pool, nullptr);
    }
    device_ = nullptr;
    command_pool_ = VK_NULL_HANDLE;
    cmds_.clear();
    descriptor_pools_.clear();
    query_pools_.clear();
    stamps_.clear();
}

std::vector<KernelTime> Plan::kernel_times() const {
    std::vector<KernelTime> times;
    if (!device_ || query_pools_.empty()) return times;
    const VolkDeviceTable& vk = device_->vk();
    const double ns_per_tick = device_->caps().timestamp_period_ns;
    for (const auto& stamps : stamps_) {
        uint64_t previous = 0;
        for (size_t i = 0; i < stamps.size(); ++i) {
            uint64_t t = 0;
            vk_check(vk.vkGetQueryPoolResults(device_->handle(), query_pools_[stamps[i].pool], stamps[i].query, 1,
                                              sizeof(t), &t, sizeof(t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                     "vkGetQueryPoolResults");
            if (i > 0) {
                auto it = std::find_if(times.begin(), times.end(),
                                       [&](const KernelTime& k) { return k.name == stamps[i].label; });
                if (it == times.end()) it = times.insert(times.end(), KernelTime{stamps[i].label, 0, 0});
                ++it->count;
                it->ms += double(t - previous) * ns_per_tick * 1e-6;
            }
            previous = t;
        }
    }
    std::sort(times.begin(), times.end(), [](const KernelTime& a, const KernelTime& b) { return a.ms > b.ms; });
    return times;
}

void Plan::submit() {
    if (!device_ || cmds_.empty()) throw Error(ErrorCode::Internal, "submit of an empty plan");
    device_->submit_and_wait(cmds_.data(), static_cast<uint32_t>(cmds_.size()));
    if (!query_pools_.empty()) device_->set_last_kernel_times(kernel_times());
}

Recorder::Recorder(Device& device, Pipelines& pipelines)
    : device_(device), pipelines_(pipelines), max_work_(device.max_submission_work()) {
    device_.check_not_lost();
    plan_.device_ = &device_;
    // A pool of the plan's own: recording touches the pool, so plans recorded on different threads must not
    // share one.
    VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool_info.queueFamilyIndex = device_.queue_family();
    vk_check(device_.vk().vkCreateCommandPool(device_.handle(), &pool_info, nullptr, &plan_.command_pool_),
             "vkCreateCommandPool");
    begin_command_buffer();
}

Recorder::~Recorder() = default;

const DeviceCaps& Recorder::caps() const { return device_.caps(); }

void Recorder::begin_command_buffer() {
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = plan_.command_pool_;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    vk_check(device_.vk().vkAllocateCommandBuffers(device_.handle(), &alloc, &cmd), "vkAllocateCommandBuffers");
    plan_.cmds_.push_back(cmd);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    // A plan is queued again while its last submission may still be pending (forwards of one shape on a
    // frame loop); its barriers order the two runs on the queue.
    begin.flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT;
    vk_check(device_.vk().vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    // Work from earlier submissions (uploads, other plans, this plan's earlier command buffers) may still be
    // writing what this command buffer reads; one barrier at the start orders everything before it on the
    // queue against everything in it, so no access recorded earlier needs tracking any more.
    device_.memory_barrier(cmd, kWorkStages | VK_PIPELINE_STAGE_HOST_BIT, kWorkAccess | VK_ACCESS_HOST_WRITE_BIT,
                           kWorkStages, kWorkAccess);
    pending_reads_.clear();
    pending_writes_.clear();
    buffer_work_ = 0;
    if (device_.profiling()) {
        plan_.stamps_.emplace_back();
        stamp("start");
    }
}

void Recorder::stamp(const char* label) {
    if (!device_.profiling()) return;
    const VolkDeviceTable& vk = device_.vk();
    auto& stamps = plan_.stamps_.back();
    // A fresh pool whenever the last one is full (or this command buffer has none yet: pools are reset by
    // the command buffer that first writes them, so one never spans two command buffers).
    const bool need_pool = stamps.empty() || stamps.back().query + 1 == Plan::kQueriesPerPool;
    if (need_pool) {
        VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        info.queryType = VK_QUERY_TYPE_TIMESTAMP;
        info.queryCount = Plan::kQueriesPerPool;
        VkQueryPool pool = VK_NULL_HANDLE;
        vk_check(vk.vkCreateQueryPool(device_.handle(), &info, nullptr, &pool), "vkCreateQueryPool");
        plan_.query_pools_.push_back(pool);
        vk.vkCmdResetQueryPool(cmd(), pool, 0, Plan::kQueriesPerPool);
    }
    const uint32_t pool = need_pool ? uint32_t(plan_.query_pools_.size() - 1) : stamps.back().pool;
    const uint32_t query = need_pool ? 0 : stamps.back().query + 1;
    vk.vkCmdWriteTimestamp(cmd(), VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, plan_.query_pools_[pool], query);
    stamps.push_back({pool, query, label});
}

void Recorder::reserve(uint64_t work) {
    if (plan_.cmds_.empty()) throw Error(ErrorCode::Internal, "recording into a finished recorder");
    // A command never splits: one that alone exceeds the bound gets a command buffer to itself.
    if (max_work_ != 0 && buffer_work_ != 0 && saturating_add(buffer_work_, work) > max_work_) {
        // Nothing is needed at the end of this buffer: the next one begins with a barrier against all of it,
        // and the last one of the plan makes every write visible to the host.
        vk_check(device_.vk().vkEndCommandBuffer(cmd()), "vkEndCommandBuffer");
        begin_command_buffer();
    }
    buffer_work_ = saturating_add(buffer_work_, work);
    plan_.work_ = saturating_add(plan_.work_, work);
}

void Recorder::barrier() {
    device_.memory_barrier(cmd(), kWorkStages, kWorkAccess, kWorkStages, kWorkAccess);
    pending_reads_.clear();
    pending_writes_.clear();
    ++plan_.barriers_;
}

void Recorder::track(std::initializer_list<Binding> bindings) {
    bool conflict = false;
    for (const Binding& b : bindings) {
        const Range r{b.slice.buffer, b.slice.offset, b.slice.offset + b.slice.size};
        for (const Range& w : pending_writes_) conflict |= w.overlaps(r);  // RAW and WAW
        if (b.access != Access::Read)
            for (const Range& rd : pending_reads_) conflict |= rd.overlaps(r);  // WAR
    }
    if (conflict) barrier();
    for (const Binding& b : bindings) {
        const Range r{b.slice.buffer, b.slice.offset, b.slice.offset + b.slice.size};
        if (b.access != Access::Write) pending_reads_.push_back(r);
        if (b.access != Access::Read) pending_writes_.push_back(r);
    }
}

VkDescriptorSet Recorder::allocate_set() {
    const VolkDeviceTable& vk = device_.vk();
    if (sets_left_in_pool_ == 0) {
        const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * Pipelines::kMaxBindings};
        VkDescriptorPoolCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        info.maxSets = kSetsPerPool;
        info.poolSizeCount = 1;
        info.pPoolSizes = &size;
        VkDescriptorPool pool = VK_NULL_HANDLE;
        vk_check(vk.vkCreateDescriptorPool(device_.handle(), &info, nullptr, &pool), "vkCreateDescriptorPool");
        plan_.descriptor_pools_.push_back(pool);
        sets_left_in_pool_ = kSetsPerPool;
    }
    VkDescriptorSetLayout layout = pipelines_.set_layout();
    VkDescriptorSetAllocateInfo alloc{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    alloc.descriptorPool = plan_.descriptor_pools_.back();
    alloc.descriptorSetCount = 1;
    alloc.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    vk_check(vk.vkAllocateDescriptorSets(device_.handle(), &alloc, &set), "vkAllocateDescriptorSets");
    --sets_left_in_pool_;
    return set;
}

void Recorder::dispatch(std::string_view shader, std::span<const uint32_t> spec,
                        std::initializer_list<Binding> bindings, const void* push, uint32_t push_bytes,
                        std::array<uint32_t, 3> groups, uint64_t work) {
    const DeviceCaps& caps = device_.caps();
    if (bindings.size() > Pipelines::kMaxBindings)
        throw Error(ErrorCode::Internal, "too many bindings for " + std::string(shader));
    for (const Binding& b : bindings)
        if (b.slice.size > caps.max_storage_buffer_range)
            throw Error(ErrorCode::DeviceLimit,
                        std::string(shader) + ": a tensor of " + std::to_string(b.slice.size) +
                            " bytes exceeds the device's storage-buffer range (maxStorageBufferRange = " +
                            std::to_string(caps.max_storage_buffer_range) + " bytes)");
    for (int i = 0; i < 3; ++i)
        if (groups[i] == 0 || groups[i] > caps.max_workgroup_count[i])
            throw Error(ErrorCode::DeviceLimit, std::string(shader) + ": workgroup count " +
                                                    std::to_string(groups[i]) + " in dimension " +
                                                    std::to_string(i) + " is outside the device's range");
    if (push_bytes > Pipelines::kPushConstantBytes)
        throw Error(ErrorCode::Internal, "push constants too large for " + std::string(shader));

    VkPipeline pipeline = pipelines_.get(shader, spec);
    VkDescriptorSet set = allocate_set();
    VkDescriptorBufferInfo infos[Pipelines::kMaxBindings];
    VkWriteDescriptorSet writes[Pipelines::kMaxBindings];
    uint32_t n = 0;
    for (const Binding& b : bindings) {
        infos[n] = {b.slice.buffer, b.slice.offset, b.slice.size};
        writes[n] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[n].dstSet = set;
        writes[n].dstBinding = n;
        writes[n].descriptorCount = 1;
        writes[n].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[n].pBufferInfo = &infos[n];
        ++n;
    }
    const VolkDeviceTable& vk = device_.vk();
    vk.vkUpdateDescriptorSets(device_.handle(), n, writes, 0, nullptr);

    if (work == 0) {
        const uint64_t total_groups = saturating_mul(saturating_mul(groups[0], groups[1]), groups[2]);
        work = saturating_mul(saturating_mul(total_groups, workgroup_invocations(shader)), kOpsPerInvocation);
    }
    reserve(work);
    track(bindings);
    const VkCommandBuffer cmd_buffer = cmd();
    vk.vkCmdBindPipeline(cmd_buffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vk.vkCmdBindDescriptorSets(cmd_buffer, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines_.layout(), 0, 1, &set, 0,
                               nullptr);
    if (push_bytes) vk.vkCmdPushConstants(cmd_buffer, pipelines_.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    vk.vkCmdDispatch(cmd_buffer, groups[0], groups[1], groups[2]);
    ++plan_.dispatches_;
    if (device_.profiling()) stamp(std::string(shader).c_str());
}

void Recorder::copy(const BufferSlice& src, const BufferSlice& dst) {
    if (src.size != dst.size) throw Error(ErrorCode::Internal, "copy between slices of different sizes");
    reserve(saturating_mul(saturating_mul(src.size, 2), kOpsPerByte));
    track({{src, Access::Read}, {dst, Access::Write}});
    const VkBufferCopy region{src.offset, dst.offset, src.size};
    device_.vk().vkCmdCopyBuffer(cmd(), src.buffer, dst.buffer, 1, &region);
    stamp("copy");
}

void Recorder::fill(const BufferSlice& dst, uint32_t value) {
    reserve(saturating_mul(dst.size, kOpsPerByte));
    track({{dst, Access::Write}});
    device_.vk().vkCmdFillBuffer(cmd(), dst.buffer, dst.offset, dst.size, value);
    stamp("fill");
}

void Recorder::external(std::initializer_list<Binding> bindings, const std::function<void(VkCommandBuffer)>& record,
                        uint64_t work) {
    if (work == 0)
        for (const Binding& b : bindings) work = saturating_add(work, saturating_mul(b.slice.size, 4 * kOpsPerByte));
    reserve(work);
    track(bindings);
    record(cmd());
    ++plan_.dispatches_;
    stamp("fft");
}

Plan Recorder::finish() {
    if (plan_.cmds_.empty()) throw Error(ErrorCode::Internal, "a recorder finishes only once");
    // Results are read by the host after the last fence: make every write visible to it. The barrier's first
    // scope takes in the plan's earlier command buffers too, which went to the same queue before this one.
    device_.memory_barrier(cmd(), kWorkStages, kWorkAccess, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vk_check(device_.vk().vkEndCommandBuffer(cmd()), "vkEndCommandBuffer");
    pending_reads_.clear();
    pending_writes_.clear();
    return std::move(plan_);
}

}  // namespace hyenavk::gpu
