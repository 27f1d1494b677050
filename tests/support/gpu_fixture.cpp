#include "support/gpu_fixture.hpp"

#include <cstdio>
#include <memory>

namespace hyenavk::test {
namespace {
std::unique_ptr<Context> g_context;
}

std::atomic<uint64_t>& validation_messages() {
    static std::atomic<uint64_t> count{0};
    return count;
}

LogCallback counting_log() {
    return [](LogLevel level, const std::string& message) {
        if (level == LogLevel::Warning || level == LogLevel::Error) {
            validation_messages().fetch_add(1);
            std::fprintf(stderr, "VALIDATION: %s\n", message.c_str());
        }
    };
}

Context& context() {
    if (!g_context) {
        ContextOptions options;
        options.validation = true;
        options.log = counting_log();
        g_context = std::make_unique<Context>(Context::create(options));
    }
    return *g_context;
}

void destroy_context() { g_context.reset(); }

}  // namespace hyenavk::test
