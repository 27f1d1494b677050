#include "support/gpu_fixture.hpp"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace hyenavk::test {
namespace {

// The disk cache of every context in the test binary lives in a directory of the run's own, removed at
// exit: contexts made with the default location find it through XDG_CACHE_HOME, never the user's cache.
struct TestCacheHome {
    std::string dir;
    TestCacheHome() {
        std::error_code ec;
        std::string pattern = (std::filesystem::temp_directory_path(ec) / "hyenavk-tests-XXXXXX").string();
        if (!ec && ::mkdtemp(pattern.data())) {
            dir = pattern;
            ::setenv("XDG_CACHE_HOME", dir.c_str(), 1);
        }
    }
    ~TestCacheHome() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};
TestCacheHome g_cache_home;

std::unique_ptr<Context> g_context;
}  // namespace

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
        if (!g_cache_home.dir.empty()) options.cache_dir = g_cache_home.dir + "/shared-context";
        else options.disk_cache = false;
        g_context = std::make_unique<Context>(Context::create(options));
    }
    return *g_context;
}

void destroy_context() { g_context.reset(); }

}  // namespace hyenavk::test
