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
class DiskCache;

class Pipelines {
public:
    static constexpr uint32_t kMaxBindings = 8;
    static constexpr uint32_t kPushConstantBytes = 128;
    // The disk-cache entry that holds the VkPipelineCache contents.
    static constexpr const char* kDiskCacheKey = "vk-pipeline-cache";

    // With a disk cache, the VkPipelineCache starts from the stored one (when it validates) and is stored
    // back by save_to_disk() and at destruction whenever pipelines were added.
    explicit Pipelines(Device& device, DiskCache* disk_cache = nullptr);
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

    // Stores the pipeline cache where pipelines were added since the last store and its contents changed.
    // Never throws; returns whether an entry was written.
    bool save_to_disk();
    // Bytes of initial pipeline-cache data taken from the disk cache (0: started empty).
    size_t initial_cache_bytes() const { return initial_cache_bytes_; }
    // Pipelines the driver reported as found in the pipeline cache (where it reports creation feedback).
    size_t cache_hit_count() const;

private:
    Device& device_;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    DiskCache* disk_cache_ = nullptr;
    bool creation_feedback_ = false;
    size_t initial_cache_bytes_ = 0;
    uint64_t stored_hash_ = 0;  // checksum of the contents last loaded or stored
    bool dirty_ = false;        // pipelines added since then
    size_t cache_hits_ = 0;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::vector<uint32_t>>, VkPipeline, std::less<>> pipelines_;
};

}  // namespace hyenavk::gpu
