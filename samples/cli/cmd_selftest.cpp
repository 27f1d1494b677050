// `hyenavk selftest`: every kernel on the chosen device against the double-precision reference.
#include <cstdio>

#include "commands.hpp"
#include "hyenavk/diagnostics.hpp"

namespace hyenavk::cli {

Action add_selftest_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("selftest", "run every kernel on the device and compare with the CPU reference");
    auto options = std::make_shared<DeviceOptions>();
    add_device_options(*cmd, *options);
    return [cmd, options]() -> int {
        if (!cmd->parsed()) return -1;
        Context ctx = make_context(*options);
        std::printf("selftest on %s\n", ctx.device().name.c_str());
        std::printf("%-24s %-46s %10s %9s %10s  %s\n", "kernel", "shapes", "max error", "bound", "time (ms)", "");
        int failed = 0;
        run_selftest(ctx, [&failed](const KernelCheck& c) {
            const char* verdict = c.passed() ? "ok" : (c.canaries_intact ? "FAIL" : "FAIL (wrote out of bounds)");
            failed += !c.passed();
            std::printf("%-24s %-46s %10.2e %9.1e %10.2f  %s\n", c.kernel.c_str(), c.shapes.c_str(), c.max_error,
                        c.bound, c.milliseconds, verdict);
            std::fflush(stdout);
        });
        if (options->validation && ctx.validation_message_count() > 0) {
            std::printf("%llu validation message(s)\n", static_cast<unsigned long long>(ctx.validation_message_count()));
            return 1;
        }
        std::printf(failed ? "%d kernel check(s) failed\n" : "all kernels within their bounds\n", failed);
        return failed ? 1 : 0;
    };
}

}  // namespace hyenavk::cli
