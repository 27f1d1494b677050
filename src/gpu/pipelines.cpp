#include "gpu/pipelines.hpp"

#include <cstring>
#include <optional>
#include <string>

#include "gpu/device.hpp"
#include "gpu/disk_cache.hpp"
#include "gpu/shader_registry.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {
namespace {

// Whether `data` starts with a VkPipelineCacheHeaderVersionOne for this very device. The disk cache has
// already checked the same identity; this guards against a payload that is not a pipeline cache at all.
bool pipeline_cache_matches(const std::vector<uint8_t>& data, const DeviceInfo& info) {
    VkPipelineCacheHeaderVersionOne header{};
    if (data.size() < sizeof header) return false;
    std::memcpy(&header, data.data(), sizeof header);
    return header.headerSize >= sizeof header && header.headerSize <= data.size() &&
           header.headerVersion == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && header.vendorID == info.vendor_id &&
           header.deviceID == info.device_id &&
           std::memcmp(header.pipelineCacheUUID, info.pipeline_cache_uuid.data(), VK_UUID_SIZE) == 0;
}

}  // namespace

Pipelines::Pipelines(Device& device, DiskCache* disk_cache) : device_(device), disk_cache_(disk_cache) {
    const VolkDeviceTable& vk = device_.vk();
    VkDescriptorSetLayoutBinding bindings[kMaxBindings];
    for (uint32_t i = 0; i < kMaxBindings; ++i)
        bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo set_info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    set_info.bindingCount = kMaxBindings;
    set_info.pBindings = bindings;
    vk_check(vk.vkCreateDescriptorSetLayout(device_.handle(), &set_info, nullptr, &set_layout_),
             "vkCreateDescriptorSetLayout");

    const VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
    VkPipelineLayoutCreateInfo layout_info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    layout_info.setLayoutCount = 1;
    layout_info.pSetLayouts = &set_layout_;
    layout_info.pushConstantRangeCount = 1;
    layout_info.pPushConstantRanges = &push;
    vk_check(vk.vkCreatePipelineLayout(device_.handle(), &layout_info, nullptr, &layout_), "vkCreatePipelineLayout");

    creation_feedback_ = device_.caps().api_version >= VK_API_VERSION_1_3;

    std::optional<std::vector<uint8_t>> initial;
    if (disk_cache_ && disk_cache_->enabled()) {
        initial = disk_cache_->load(kDiskCacheKey);
        if (initial && !pipeline_cache_matches(*initial, device_.info())) initial.reset();
    }
    VkPipelineCacheCreateInfo cache_info{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    if (initial) {
        cache_info.initialDataSize = initial->size();
        cache_info.pInitialData = initial->data();
        if (vk.vkCreatePipelineCache(device_.handle(), &cache_info, nullptr, &cache_) == VK_SUCCESS) {
            initial_cache_bytes_ = initial->size();
            stored_hash_ = fnv1a64(*initial);
            return;
        }
        // A driver that refuses the data: start empty, and the next store replaces it.
        cache_ = VK_NULL_HANDLE;
        cache_info.initialDataSize = 0;
        cache_info.pInitialData = nullptr;
    }
    vk_check(vk.vkCreatePipelineCache(device_.handle(), &cache_info, nullptr, &cache_), "vkCreatePipelineCache");
}

Pipelines::~Pipelines() {
    save_to_disk();
    const VolkDeviceTable& vk = device_.vk();
    for (auto& [key, pipeline] : pipelines_) vk.vkDestroyPipeline(device_.handle(), pipeline, nullptr);
    vk.vkDestroyPipelineCache(device_.handle(), cache_, nullptr);
    vk.vkDestroyPipelineLayout(device_.handle(), layout_, nullptr);
    vk.vkDestroyDescriptorSetLayout(device_.handle(), set_layout_, nullptr);
}

VkPipeline Pipelines::get(std::string_view shader, std::span<const uint32_t> spec) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::pair<std::string, std::vector<uint32_t>> key{std::string(shader), {spec.begin(), spec.end()}};
    if (auto it = pipelines_.find(key); it != pipelines_.end()) return it->second;

    const ShaderCode* code = find_shader(shader);
    if (!code) throw Error(ErrorCode::NotFound, "no compute shader named '" + std::string(shader) + "' is built in");
    const VolkDeviceTable& vk = device_.vk();
    VkShaderModuleCreateInfo module_info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    module_info.codeSize = code->word_count * sizeof(uint32_t);
    module_info.pCode = code->words;
    VkShaderModule module = VK_NULL_HANDLE;
    vk_check(vk.vkCreateShaderModule(device_.handle(), &module_info, nullptr, &module), "vkCreateShaderModule");

    std::vector<VkSpecializationMapEntry> entries(spec.size());
    for (uint32_t i = 0; i < spec.size(); ++i) entries[i] = {i, i * 4u, 4u};
    VkSpecializationInfo spec_info{static_cast<uint32_t>(entries.size()), entries.data(), spec.size_bytes(),
                                   spec.data()};
    VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    info.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    info.stage.module = module;
    info.stage.pName = "main";
    info.stage.pSpecializationInfo = spec.empty() ? nullptr : &spec_info;
    info.layout = layout_;
    VkPipelineCreationFeedback feedback{};
    VkPipelineCreationFeedback stage_feedback{};
    VkPipelineCreationFeedbackCreateInfo feedback_info{VK_STRUCTURE_TYPE_PIPELINE_CREATION_FEEDBACK_CREATE_INFO};
    feedback_info.pPipelineCreationFeedback = &feedback;
    feedback_info.pipelineStageCreationFeedbackCount = 1;
    feedback_info.pPipelineStageCreationFeedbacks = &stage_feedback;
    if (creation_feedback_) info.pNext = &feedback_info;
    VkPipeline pipeline = VK_NULL_HANDLE;
    const VkResult result = vk.vkCreateComputePipelines(device_.handle(), cache_, 1, &info, nullptr, &pipeline);
    vk.vkDestroyShaderModule(device_.handle(), module, nullptr);
    vk_check(result, ("vkCreateComputePipelines(" + std::string(shader) + ")").c_str());
    pipelines_.emplace(std::move(key), pipeline);
    dirty_ = true;
    if ((feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_VALID_BIT) &&
        (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_APPLICATION_PIPELINE_CACHE_HIT_BIT))
        ++cache_hits_;
    return pipeline;
}

size_t Pipelines::created_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pipelines_.size();
}

size_t Pipelines::cache_hit_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_hits_;
}

bool Pipelines::save_to_disk() {
    if (!disk_cache_ || !disk_cache_->enabled()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!dirty_) return false;
    dirty_ = false;
    try {
        size_t size = 0;
        if (device_.vk().vkGetPipelineCacheData(device_.handle(), cache_, &size, nullptr) != VK_SUCCESS) return false;
        std::vector<uint8_t> data(size);
        if (device_.vk().vkGetPipelineCacheData(device_.handle(), cache_, &size, data.data()) != VK_SUCCESS)
            return false;
        data.resize(size);
        const uint64_t hash = fnv1a64(data);
        if (hash == stored_hash_ || !pipeline_cache_matches(data, device_.info())) return false;
        if (!disk_cache_->store(kDiskCacheKey, data)) return false;
        stored_hash_ = hash;
        return true;
    } catch (const std::exception&) {
        return false;  // out of host memory: the cache is an optimisation
    }
}

std::vector<uint8_t> Pipelines::cache_data() const {
    size_t size = 0;
    vk_check(device_.vk().vkGetPipelineCacheData(device_.handle(), cache_, &size, nullptr), "vkGetPipelineCacheData");
    std::vector<uint8_t> data(size);
    vk_check(device_.vk().vkGetPipelineCacheData(device_.handle(), cache_, &size, data.data()),
             "vkGetPipelineCacheData");
    data.resize(size);
    return data;
}

}  // namespace hyenavk::gpu
