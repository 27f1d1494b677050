// Diagnostics behind `hyenavk selftest`: every kernel run on the context's device and compared with the
// double-precision CPU reference. A small interface for tools, outside the model API.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hyenavk/hyenavk.hpp"
#include "hyenavk/model.hpp"

namespace hyenavk {

struct KernelCheck {
    std::string kernel;  // e.g. "dense [in,out]"
    std::string shapes;  // what was run, e.g. "6 shapes up to 257x300x129"
    double max_error = 0;  // relative: max|out - ref| / max|ref|, the worst over the shapes
    double bound = 0;
    double milliseconds = 0;  // wall time of the largest case's submission, after a warm-up run
    bool canaries_intact = true;  // no write outside the output tensor
    bool passed() const { return canaries_intact && max_error <= bound; }
};

// Runs every kernel check; `on_result` sees each as it finishes (for progress output).
HYENAVK_API std::vector<KernelCheck> run_selftest(Context& context,
                                                  const std::function<void(const KernelCheck&)>& on_result = {});

// A model file run on the device and by the double-precision CPU reference on the same random input.
struct ModelCheck {
    uint32_t batch = 0, length = 0;
    double max_error = 0;  // relative, over the whole output sequence
    double bound = 0;      // 1e-4 at fp32, 1e-2 at fp16
    double device_ms = 0;  // one forward after a warm-up, upload and download included
    double reference_ms = 0;
    bool passed() const { return max_error <= bound; }
};

// length 0 means the model's default length. Input values are uniform in [-1, 1] from `seed`.
HYENAVK_API ModelCheck check_model(Context& context, const std::string& path, const LoadOptions& options,
                                   uint32_t batch, uint32_t length, uint64_t seed);

// Fault injection, so that an application (and hyenavk's tests) can check on any machine how it copes with
// failures that real devices produce rarely. A fault is armed once and taken by the next operation of its kind
// on the context:
//  - DeviceLost: the next queue submission (a forward, a stream push, an upload or download) reports
//    VK_ERROR_DEVICE_LOST after the queue's earlier work has finished; nothing of it runs. The call throws
//    DeviceLost and the context is lost from then on: every later call that needs its device, through any of
//    its models and stream sets, throws DeviceLost; destroying them is safe. Create a new Context to go on.
//  - OutOfDeviceMemory: the next device-memory allocation fails as VK_ERROR_OUT_OF_DEVICE_MEMORY on every
//    memory type. The call that needed the memory throws OutOfMemory; the context stays usable. (Memory
//    hyenavk already holds in its pools is reused without allocating, so the fault waits for an operation
//    that needs more.)
enum class InjectedFault { DeviceLost, OutOfDeviceMemory };
HYENAVK_API void inject_fault(Context& context, InjectedFault fault);

}  // namespace hyenavk
