// Submitting a prepared forward without waiting: its input copied in from host memory or a host VkBuffer,
// the recorded plan, its output copied out, all queued at once; a Submission tracks the work until it is
// finished and its host output written.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "core/context_impl.hpp"
#include "hyenavk/model.hpp"
#include "model/prepared_forward.hpp"

namespace hyenavk::detail {

struct Submission {
    Submission(ContextImpl& context, std::shared_ptr<model::PreparedForward> forward)
        : ctx(context), fw(std::move(forward)) {}
    ~Submission();
    Submission(const Submission&) = delete;
    Submission& operator=(const Submission&) = delete;

    // Whether the device has finished; never blocks.
    bool ready() const;
    // Waits up to `timeout_ns` for the device, then writes the host output (once) and releases what the work
    // used. Throws Timeout (the work goes on; call again) or DeviceLost.
    void finish(uint64_t timeout_ns);
    // The host output is not written after all (its owner let go of the completion).
    void forget_host_output() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!done_) host_output = {};
    }
    // After a failed queue submission: waits for the queue, then releases what was recorded.
    void abandon();

    ContextImpl& ctx;
    VkFence fence = VK_NULL_HANDLE;
    uint64_t timeline_value = 0;
    std::vector<VkCommandBuffer> own_commands;  // the prologue and epilogue, from the device's pool
    std::span<float> host_output;    // written by finish, where the output goes to the host
    gpu::Allocation input_staging;   // a host input on its way to the tensors, where they cannot take it now
    gpu::Allocation output_staging;  // a host output copied out of the tensors, where they are not host-visible
    // The host output is read from the forward's own (host-visible) tensors, by a caller holding the shape.
    bool reads_output_tensors = false;
    uint32_t plan_submissions = 0;

private:
    void release();
    mutable std::mutex mutex_;
    bool done_ = false;
    std::shared_ptr<model::PreparedForward> fw;  // alive until the device is done with it
};

}  // namespace hyenavk::detail

namespace hyenavk::model {

// Queues the forward `request` describes on `fw` (whose shape it must match) and returns at once. Checks the
// request (one input, one output, sizes, buffers only on a borrowed device and an fp32 model); finite values
// of a host input are checked where `check_finite`. With `hold`, the shape stays locked in it (no other submit
// of the shape gets in) until the caller releases it, which lets a host output be read from the forward's own
// tensors without a copy: for callers that wait at once.
std::shared_ptr<detail::Submission> submit_forward(detail::ContextImpl& ctx, std::shared_ptr<PreparedForward> fw,
                                                   const ForwardRequest& request, uint32_t input_features,
                                                   bool check_finite, std::unique_lock<std::mutex>* hold = nullptr);

// Throws InvalidArgument unless a host input of `values` fits [batch, length, features].
void check_input_count(uint64_t values, uint32_t batch, uint32_t length, uint32_t features);

// The longest a synchronous forward waits: the context's fence timeout for every queue submission.
uint64_t forward_timeout_ns(const detail::ContextImpl& ctx, const detail::Submission& submission);

}  // namespace hyenavk::model
