// `hyenavk info --timing`: start-up time with an empty disk cache and with the cache that run filled.
#pragma once

#include <cstdint>

#include "commands.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {

// Measures context creation, model load and the first forward at (batch, length) twice, in a temporary cache
// directory: cold (empty) and warm (as the cold run left it); prints each step, the totals and their ratio,
// and removes the directory. length 0 takes the model's default.
void print_startup_timing(const DeviceOptions& device, const ModelOptions& model, uint32_t batch, uint32_t length,
                          bool full_sequence);

}  // namespace hyenavk::cli
