// Kernel tests use the same guarded tensors and helpers as `hyenavk selftest`.
#pragma once

#include "diagnostics/guarded_tensor.hpp"

namespace hyenavk::test {
using diag::GuardedTensor;
using diag::random_floats;
using diag::run_once;
using diag::to_double;
}  // namespace hyenavk::test
