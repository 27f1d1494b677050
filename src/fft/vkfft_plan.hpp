// Batched in-place real FFTs (R2C forward, C2R inverse) through VkFFT. Rows of the workspace hold
// 2 * (n / 2 + 1) floats: n real samples (plus padding) before the forward transform, n / 2 + 1 complex
// values after it. The inverse is unnormalised (a round trip scales by n).
// This is the only part of hyenavk that includes VkFFT's header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <volk.h>

namespace hyenavk::gpu {
class Device;
}

namespace hyenavk::fft {

// Floats per workspace row for an n-point real transform.
inline uint64_t row_floats(uint64_t n) { return 2 * (n / 2 + 1); }

// The smallest even 2,3,5,7-smooth size >= n (sizes VkFFT handles without Bluestein's algorithm).
uint64_t smooth_size(uint64_t n);

class FftPlan {
public:
    // Builds (compiles) the transforms for `rows` rows of length n in `buffer`, starting at byte `offset`.
    FftPlan(gpu::Device& device, uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset);
    ~FftPlan();
    FftPlan(const FftPlan&) = delete;
    FftPlan& operator=(const FftPlan&) = delete;

    void record_forward(VkCommandBuffer cmd);
    void record_inverse(VkCommandBuffer cmd);

private:
    struct App;
    void record(VkCommandBuffer cmd, int direction);
    gpu::Device& device_;
    std::unique_ptr<App> app_;
};

// Plans keyed by (n, rows, buffer, offset): building one costs a shader compile (about 0.2 s on lavapipe), so
// each is made once and reused by every recording that transforms the same range.
class FftPlanCache {
public:
    explicit FftPlanCache(gpu::Device& device) : device_(device) {}
    FftPlan& get(uint64_t n, uint64_t rows, VkBuffer buffer, VkDeviceSize offset);
    size_t created_count() const;

private:
    gpu::Device& device_;
    mutable std::mutex mutex_;
    std::map<std::tuple<uint64_t, uint64_t, VkBuffer, VkDeviceSize>, std::unique_ptr<FftPlan>> plans_;
};

}  // namespace hyenavk::fft
