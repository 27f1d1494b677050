// Diagnostics behind `hyenavk selftest`: every kernel run on the context's device and compared with the
// double-precision CPU reference. A small interface for tools, outside the model API.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hyenavk/hyenavk.hpp"

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

}  // namespace hyenavk
