#include "gpu/pipelines.hpp"

#include <string>

#include "gpu/device.hpp"
#include "gpu/shader_registry.hpp"
#include "gpu/vk_check.hpp"

namespace hyenavk::gpu {

Pipelines::Pipelines(Device& device) : device_(device) {
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

    VkPipelineCacheCreateInfo cache_info{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    vk_check(vk.vkCreatePipelineCache(device_.handle(), &cache_info, nullptr, &cache_), "vkCreatePipelineCache");
}

Pipelines::~Pipelines() {
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
    VkPipeline pipeline = VK_NULL_HANDLE;
    const VkResult result = vk.vkCreateComputePipelines(device_.handle(), cache_, 1, &info, nullptr, &pipeline);
    vk.vkDestroyShaderModule(device_.handle(), module, nullptr);
    vk_check(result, ("vkCreateComputePipelines(" + std::string(shader) + ")").c_str());
    pipelines_.emplace(std::move(key), pipeline);
    return pipeline;
}

size_t Pipelines::created_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pipelines_.size();
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
