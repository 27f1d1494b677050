#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "support/gpu_fixture.hpp"

int main(int argc, char** argv) {
    doctest::Context runner(argc, argv);
    const int result = runner.run();
    // Destroying the device is when the validation layer reports leaked objects.
    hyenavk::test::destroy_context();
    const auto messages = hyenavk::test::validation_messages().load();
    if (messages != 0) {
        std::fprintf(stderr, "FAILED: %llu validation message(s)\n", static_cast<unsigned long long>(messages));
        return 1;
    }
    return result;
}
