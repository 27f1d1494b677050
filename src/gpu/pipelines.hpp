// Compute pipelines made lazily from the embedded SPIR-V, keyed by shader and specialization constants.
// All kernels share one descriptor-set layout (storage buffers at bindings 0..kMaxBindings-1) and one
// push-constant range, so a pipeline layout never depends on the kernel.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <volk.h>

namespace hyenavk::gpu {

class Device;

class Pipelines {
public:
    static constexpr uint32_t kMaxBindings = 8;
    static constexpr uint32_t kPushConstantBytes = 128;

    explicit Pipelines(Device& device);
    ~Pipelines();
    Pipelines(const Pipelines&) = delete;
    Pipelines& operator=(const Pipelines&) = delete;

    // Specialization constant i (constant_id = i) takes spec[i]. Throws NotFound for an unknown shader.
    VkPipeline get(std::string_view shader, std::span<const uint32_t> spec = {});

    VkPipelineLayout layout() const { return layout_; }
    VkDescriptorSetLayout set_layout() const { return set_layout_; }
    size_t created_count() const;
    // The VkPipelineCache contents, for persisting between runs.
    std::vector<uint8_t> cache_data() const;

private:
    Device& device_;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::vector<uint32_t>>, VkPipeline, std::less<>> pipelines_;
};

}  // namespace hyenavk::gpu
