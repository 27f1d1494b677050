#include "gpu/recorder.hpp"

#include <string>

#include "gpu/device.hpp"
#include "gpu/pipelines.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

constexpr uint32_t kSetsPerPool = 128;
constexpr VkPipelineStageFlags kWorkStages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
constexpr VkAccessFlags kWorkAccess = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

}  // namespace

Plan& Plan::operator=(Plan&& other) noexcept {
    if (this != &other) {
        release();
        device_ = other.device_;
        cmd_ = other.cmd_;
        descriptor_pools_ = std::move(other.descriptor_pools_);
        dispatches_ = other.dispatches_;
        barriers_ = other.barriers_;
        other.device_ = nullptr;
        other.cmd_ = VK_NULL_HANDLE;
        other.descriptor_pools_.clear();
    }
    return *this;
}

Plan::~Plan() { release(); }

void Plan::release() {
    if (!device_) return;
    const VolkDeviceTable& vk = device_->vk();
    // After a timed-out wait the work may still be running: its objects are left to the device's destruction.
    if (!device_->lost() && cmd_ != VK_NULL_HANDLE) {
        std::lock_guard<std::mutex> lock(device_->pool_mutex());
        vk.vkFreeCommandBuffers(device_->handle(), device_->command_pool(), 1, &cmd_);
    }
    if (!device_->lost())
        for (VkDescriptorPool pool : descriptor_pools_) vk.vkDestroyDescriptorPool(device_->handle(), pool, nullptr);
    device_ = nullptr;
    cmd_ = VK_NULL_HANDLE;
    descriptor_pools_.clear();
}

void Plan::submit() {
    if (!device_) throw Error(ErrorCode::Internal, "submit of an empty plan");
    device_->submit_and_wait(&cmd_, 1);
}

Recorder::Recorder(Device& device, Pipelines& pipelines) : device_(device), pipelines_(pipelines) {
    device_.check_not_lost();
    plan_.device_ = &device_;
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = device_.command_pool();
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    {
        std::lock_guard<std::mutex> lock(device_.pool_mutex());
        vk_check(device_.vk().vkAllocateCommandBuffers(device_.handle(), &alloc, &plan_.cmd_),
                 "vkAllocateCommandBuffers");
    }
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    vk_check(device_.vk().vkBeginCommandBuffer(plan_.cmd_, &begin), "vkBeginCommandBuffer");
    // Work from earlier submissions (uploads, other plans) may still be writing what this plan reads; one
    // barrier at the start orders everything before against everything in this plan.
    device_.memory_barrier(plan_.cmd_, kWorkStages | VK_PIPELINE_STAGE_HOST_BIT,
                   kWorkAccess | VK_ACCESS_HOST_WRITE_BIT, kWorkStages, kWorkAccess);
}

Recorder::~Recorder() = default;

const DeviceCaps& Recorder::caps() const { return device_.caps(); }

void Recorder::barrier() {
    device_.memory_barrier(plan_.cmd_, kWorkStages, kWorkAccess, kWorkStages, kWorkAccess);
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
                        std::array<uint32_t, 3> groups) {
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

    track(bindings);
    vk.vkCmdBindPipeline(plan_.cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    vk.vkCmdBindDescriptorSets(plan_.cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipelines_.layout(), 0, 1, &set, 0,
                               nullptr);
    if (push_bytes) vk.vkCmdPushConstants(plan_.cmd_, pipelines_.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    vk.vkCmdDispatch(plan_.cmd_, groups[0], groups[1], groups[2]);
    ++plan_.dispatches_;
}

void Recorder::copy(const BufferSlice& src, const BufferSlice& dst) {
    if (src.size != dst.size) throw Error(ErrorCode::Internal, "copy between slices of different sizes");
    track({{src, Access::Read}, {dst, Access::Write}});
    const VkBufferCopy region{src.offset, dst.offset, src.size};
    device_.vk().vkCmdCopyBuffer(plan_.cmd_, src.buffer, dst.buffer, 1, &region);
}

void Recorder::fill(const BufferSlice& dst, uint32_t value) {
    track({{dst, Access::Write}});
    device_.vk().vkCmdFillBuffer(plan_.cmd_, dst.buffer, dst.offset, dst.size, value);
}

void Recorder::external(std::initializer_list<Binding> bindings, const std::function<void(VkCommandBuffer)>& record) {
    track(bindings);
    record(plan_.cmd_);
    ++plan_.dispatches_;
}

Plan Recorder::finish() {
    // Results are read by the host after the fence: make every write visible to it.
    device_.memory_barrier(plan_.cmd_, kWorkStages, kWorkAccess, VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_HOST_READ_BIT);
    vk_check(device_.vk().vkEndCommandBuffer(plan_.cmd_), "vkEndCommandBuffer");
    pending_reads_.clear();
    pending_writes_.clear();
    return std::move(plan_);
}

}  // namespace hyenavk::gpu
