// One validated context shared by the tests of a binary. Every validation-layer message (warning or error,
// synchronization validation included) is counted; each test checks that none appeared, and main() checks
// again after the context is destroyed, when leaked Vulkan objects would be reported.
#pragma once

#include <atomic>
#include <cstdint>

#include <doctest/doctest.h>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::test {

std::atomic<uint64_t>& validation_messages();
LogCallback counting_log();
Context& context();
void destroy_context();

}  // namespace hyenavk::test

// Fails the current test if the validation layer said anything since the binary started.
#define CHECK_NO_VALIDATION_MESSAGES() REQUIRE(::hyenavk::test::validation_messages().load() == 0)
