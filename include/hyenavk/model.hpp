// Loading and running a model file (safetensors with its config in the metadata, SPEC.md "Files").
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk {

// How weights and activations are stored on the device. Arithmetic and FFTs are fp32 either way; fp16 halves
// the memory of weights and activations (relative error within 1e-2 of fp32) and needs 16-bit storage buffers.
enum class Precision { Fp32, Fp16 };
HYENAVK_API const char* to_string(Precision precision) noexcept;

struct LoadOptions {
    // A JSON object merged over the file's own config key by key (or the whole config, for a file that has
    // none, such as a state dict exported from PyTorch). Empty: the file's config alone.
    std::string config_json;
    // Reject NaN and Inf in the weights and in every input, with the position of the first one.
    bool check_finite = true;
    Precision precision = Precision::Fp32;
    // The most device memory the cached filter spectra of one (batch, length) may take; beyond it they are
    // computed on every forward (one more FFT per filter, less memory). 0: limited only by the budget.
    uint64_t spectrum_cache_bytes = 0;
};

// How a forward of one shape will use device memory, decided before it runs (see Model::memory_plan).
struct MemoryPlan {
    uint64_t total_bytes = 0;     // the most device memory the model holds while running this shape
    uint64_t resident_bytes = 0;  // weights and filters, held while the model is loaded
    uint64_t budget_bytes = 0;    // the context's device-memory budget
    uint32_t tiles = 1;           // pieces the position-wise work is cut into along the sequence
    uint32_t tile_rows = 0;       // rows (batch x steps) of the largest piece
    uint32_t fft_channel_group = 0;  // channels per FFT pass (0: no long convolution)
    bool gates_kept = true;          // false: gates are recomputed from the stream to save memory
    bool spectra_cached = true;      // false: filter spectra are computed on every forward
    // The least memory traffic of the forward's long convolutions (bytes read plus written, FFT workspace
    // and operands), against which their measured time gives an achieved bandwidth; 0 where there are none.
    uint64_t long_conv_bytes = 0;
};

// A range of a VkBuffer the host owns, on the device of a borrowed context. The buffer needs
// VK_BUFFER_USAGE_TRANSFER_SRC_BIT to be read and VK_BUFFER_USAGE_TRANSFER_DST_BIT to be written; it holds
// fp32 values, row-major, packed, from `offset` (a multiple of 4) on.
struct BufferRange {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
};

// A semaphore the host owns: a binary one (value ignored) or, where the context uses timeline semaphores
// (Completion::timeline_semaphore() is not null), a timeline one with the value to wait for or to signal.
struct SemaphoreRef {
    VkSemaphore semaphore = VK_NULL_HANDLE;
    uint64_t value = 0;
};

// One forward, as Model::submit takes it. The input comes from exactly one of `input` (host memory, copied
// before submit returns) and `input_buffer`; the output goes to exactly one of `output` (host memory,
// written by Completion::wait, so it must stay valid until then) and `output_buffer` (written on the device
// before the completion signals). Device buffers skip the finite-value check of LoadOptions::check_finite
// and need an fp32 model.
struct ForwardRequest {
    uint32_t batch = 1;
    uint32_t length = 0;
    bool full_sequence = false;
    std::span<const float> input;  // [batch, length, input_features]
    BufferRange input_buffer;
    std::span<float> output;  // Model::output_shape values
    BufferRange output_buffer;
    // Waited for on the device before the input is read (the host's upload or render pass that writes
    // input_buffer, say); null: none.
    SemaphoreRef wait;
    // Signalled on the device once the output is written: chain it into the host's next submission.
    SemaphoreRef signal;
};

namespace detail {
class ModelImpl;
struct Submission;
}  // namespace detail

// A submitted forward. Waiting is optional for device-buffer output: the model keeps what the GPU uses alive
// until it is done. A completion may outlive its model, not its context.
class HYENAVK_API Completion {
public:
    Completion();
    Completion(Completion&&) noexcept;
    Completion& operator=(Completion&&) noexcept;
    ~Completion();

    bool valid() const { return submission_ != nullptr; }
    // Whether the device has finished the forward; never blocks.
    bool ready() const;
    // Blocks until the forward is finished and its host output written. Throws Timeout once `timeout_ns`
    // has passed (the forward goes on; wait again later), DeviceLost where the device failed.
    void wait(uint64_t timeout_ns = UINT64_MAX);
    // The context's timeline semaphore and the value it reaches when this forward is done, for a host's
    // vkQueueSubmit to wait on; null and 0 where the device has no timeline semaphores (pass a binary
    // semaphore in ForwardRequest::signal instead).
    VkSemaphore timeline_semaphore() const;
    uint64_t timeline_value() const;

private:
    friend class Model;
    explicit Completion(std::shared_ptr<detail::Submission> submission);
    std::shared_ptr<detail::Submission> submission_;
};

// A model resident on a context's device. The context must outlive the model.
//
// Thread safety: every method may be called from any thread, also at once. Building a shape's plan (on the
// first use of a shape, or in prepare) holds one lock per model; submitting a prepared shape never waits for
// it, so a frame thread can submit while prepare_async builds the next shape. Forwards on one model run on
// the device in submission order, and a submit never waits for an earlier forward (up to 16 unfinished
// ones; the 17th waits for the oldest). forward() holds its shape until it has read its output.
class HYENAVK_API Model {
public:
    // What the model will hold is checked from the file's header and config before its weights are read:
    // OutOfMemory names the weights' (or the filters') size and the budget, or the host's memory.
    static Model load(Context& context, const std::string& path, const LoadOptions& options = {});

    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    const std::string& arch() const;
    std::string config_json() const;  // the effective config, merged and with defaults filled in
    uint64_t parameter_count() const;
    uint32_t input_features() const;   // the last axis of an input (embed_dim)
    uint32_t output_features() const;  // the last axis of an output (hidden_size)
    uint32_t default_length() const;   // window_size, or l_max
    // The shape forward() returns: [batch, output_features] for the last step, or [batch, length,
    // output_features] with full_sequence or for architectures that always return the sequence (hyena_operator).
    std::vector<uint64_t> output_shape(uint32_t batch, uint32_t length, bool full_sequence = false) const;

    // `input` is [batch, length, input_features] row-major; returns [batch, output_features] (the last time
    // step) or, with full_sequence, [batch, length, output_features]. The first call for a (batch, length)
    // builds its plan; later calls replay it.
    std::vector<float> forward(std::span<const float> input, uint32_t batch, uint32_t length,
                               bool full_sequence = false);

    // Records the forward of `request` after any work already queued and returns without waiting for it.
    // The first submit of a shape builds its plan first (milliseconds to seconds): prepare shapes ahead of
    // time to keep that off a frame thread.
    Completion submit(const ForwardRequest& request);
    // Builds the plan, FFT plans and pipelines of a shape now, on the calling thread.
    void prepare(uint32_t batch, uint32_t length, bool full_sequence = false);
    // The same on the model's worker thread; returns at once. The future reports the build's error, if any;
    // a submit of the shape meanwhile waits for the build.
    std::future<void> prepare_async(uint32_t batch, uint32_t length, bool full_sequence = false);
    bool prepared(uint32_t batch, uint32_t length, bool full_sequence = false) const;
    // Blocks until every forward submitted so far is finished (their host outputs written).
    void wait_idle();

    // Device memory the weights and one forward of this shape occupy: a forward never holds more. Throws
    // OutOfMemory where the shape cannot fit the context's memory budget, DeviceLimit beyond the device's
    // limits, InvalidArgument for B = 0, L = 0 or a shape whose sizes pass 64 bits; allocates nothing.
    uint64_t device_memory_bytes(uint32_t batch, uint32_t length, bool full_sequence = false) const;
    // The plan behind that figure.
    MemoryPlan memory_plan(uint32_t batch, uint32_t length, bool full_sequence = false) const;

    detail::ModelImpl& impl() const { return *impl_; }

private:
    explicit Model(std::unique_ptr<detail::ModelImpl> impl);
    std::unique_ptr<detail::ModelImpl> impl_;
};

// Writes a model file with random weights initialised the way the architecture's home framework does (Axon's
// defaults for striped_hyena, safari's reference for hyena_operator). config_json must name every required
// option (embed_dim for striped_hyena; d_model and l_max for hyena_operator). Weights larger than the host's
// memory are refused (OutOfMemory, naming their size) before anything is made.
HYENAVK_API void write_random_model(const std::string& path, const std::string& config_json, uint64_t seed);

}  // namespace hyenavk
