// Batched in-place real FFTs (R2C forward, C2R inverse) through VkFFT. Rows of the workspace hold
// 2 * (n / 2 + 1) floats: n real samples (plus padding) before the forward transform, n / 2 + 1 complex
// values after it. The inverse is unnormalised (a round trip scales by n).
// This is the only part of hyenavk that includes VkFFT's header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include <volk.h>

namespace hyenavk::gpu {
class Device;
class DiskCache;
}

namespace hyenavk::fft {

// Floats per workspace row for an n-point real transform.
inline uint64_t row_floats(uint64_t n) { return 2 * (n / 2 + 1); }

// The smallest even 2,3,5,7-smooth size >= n (sizes VkFFT handles without Bluestein's algorithm).
// InvalidArgument for n > kMaxSmoothSize.
constexpr uint64_t kMaxSmoothSize = uint64_t(1) << 62;
uint64_t smooth_size(uint64_t n);

class FftPlan {
public:
    // Builds (compiles) the transforms for `rows` rows of length n in `buffer`, starting at byte `offset`.
    // With a disk cache, the compiled kernels come from it where a valid entry exists, and are stored in it
    // otherwise.
    FftPlan(gpu::Device& device, uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset,
            gpu::DiskCache* disk_cache = nullptr);
    ~FftPlan();
    FftPlan(const FftPlan&) = delete;
    FftPlan& operator=(const FftPlan&) = delete;

    void record_forward(VkCommandBuffer cmd);
    void record_inverse(VkCommandBuffer cmd);

    // Whether the kernels were loaded from the disk cache rather than compiled.
    bool loaded_from_disk() const { return loaded_from_disk_; }
    // The disk-cache key: everything that shapes VkFFT's generated code for this plan.
    static std::string cache_key(uint64_t n, uint64_t rows, VkDeviceSize offset);

private:
    struct App;
    void record(VkCommandBuffer cmd, int direction);
    gpu::Device& device_;
    std::unique_ptr<App> app_;
    bool loaded_from_disk_ = false;
};

// Plans keyed by (n, rows, buffer, offset): building one costs a shader compile (about 0.2 s on lavapipe), so
// each is made once and reused by every recording that transforms the same range. At most `capacity` plans
// are kept, the least recently used dropped first; dropping only releases the cache's reference, so a plan
// lives on while whoever recorded commands with it holds its shared_ptr.
class FftPlanCache {
public:
    static constexpr size_t kDefaultCapacity = 16;

    explicit FftPlanCache(gpu::Device& device, gpu::DiskCache* disk_cache = nullptr,
                          size_t capacity = kDefaultCapacity);
    std::shared_ptr<FftPlan> get(uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset);
    // Drops every plan bound to `buffer`: called before the buffer is destroyed, since a later buffer may
    // get the same handle and must not find plans whose descriptors point at the old one.
    void forget(VkBuffer buffer);

    size_t capacity() const { return capacity_; }
    size_t size() const;                     // plans held now
    size_t created_count() const;            // plans built so far (compiled or loaded)
    size_t loaded_from_disk_count() const;   // of those, plans whose kernels came from the disk cache

private:
    using Key = std::tuple<uint64_t, uint64_t, VkBuffer, VkDeviceSize>;
    struct Entry {
        Key key;
        std::shared_ptr<FftPlan> plan;
    };

    gpu::Device& device_;
    gpu::DiskCache* disk_cache_;
    size_t capacity_;
    mutable std::mutex mutex_;
    std::list<Entry> lru_;  // most recently used first
    std::map<Key, std::list<Entry>::iterator> index_;
    size_t created_ = 0;
    size_t loaded_ = 0;
};

}  // namespace hyenavk::fft
