// hyenavk: run Striped Hyena models with Vulkan compute. See `hyenavk --help`.
#include <cstdio>
#include <vector>

#include "commands.hpp"

namespace hyenavk::cli {

void add_device_options(CLI::App& cmd, DeviceOptions& options) {
    cmd.add_option("--device", options.device,
                   "device index or a case-insensitive part of its name (default: discrete, then integrated GPU, "
                   "then others)");
    cmd.add_option("--precision", options.precision, "storage precision")
        ->check(CLI::IsMember({"fp32", "fp16"}))
        ->capture_default_str();
    cmd.add_flag("--validation", options.validation, "enable the Vulkan validation layer (for debugging)");
    cmd.add_option("--max-submission-work", options.max_submission_work,
                   "most estimated arithmetic operations per GPU submission, so that none trips a driver "
                   "watchdog (0: one submission per plan)")
        ->capture_default_str();
    cmd.add_option("--cache-dir", options.cache_dir,
                   "where compiled kernels are kept between runs (default: $XDG_CACHE_HOME/hyenavk, else "
                   "~/.cache/hyenavk)");
    cmd.add_flag("--no-cache", options.no_cache, "neither read nor write the disk cache");
    cmd.add_option("--memory-budget", options.memory_budget,
                   "device memory hyenavk may hold, e.g. 8GiB (default: what the device reports; half the host's "
                   "memory on a CPU device)")
        ->transform(CLI::AsSizeValue(false));
}

ContextOptions context_options(const DeviceOptions& options) {
    ContextOptions ctx_options;
    ctx_options.device = options.device;
    ctx_options.validation = options.validation;
    ctx_options.max_submission_work = options.max_submission_work;
    ctx_options.cache_dir = options.cache_dir;
    ctx_options.disk_cache = !options.no_cache;
    ctx_options.memory_budget_bytes = options.memory_budget;
    return ctx_options;
}

Context make_context(const DeviceOptions& options) {
    Context ctx = Context::create(context_options(options));
    if (options.precision == "fp16") {
        if (!ctx.device().caps.storage_buffer_16bit)
            throw Error(ErrorCode::Unsupported, "--precision fp16 needs 16-bit storage buffers "
                                                "(storageBuffer16BitAccess), which " + ctx.device().name + " lacks");
    }
    return ctx;
}

}  // namespace hyenavk::cli

int main(int argc, char** argv) {
    using namespace hyenavk;
    CLI::App app{"hyenavk " + version_string() + ": Striped Hyena sequence models on any Vulkan GPU"};
    app.set_version_flag("--version", "hyenavk " + version_string());
    app.require_subcommand(1);
    std::vector<cli::Action> actions;
    actions.push_back(cli::add_devices_command(app));
    actions.push_back(cli::add_selftest_command(app));
    actions.push_back(cli::add_demo_command(app));
    actions.push_back(cli::add_init_command(app));
    actions.push_back(cli::add_run_command(app));
    actions.push_back(cli::add_info_command(app));
    actions.push_back(cli::add_check_command(app));
    actions.push_back(cli::add_bench_command(app));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        for (auto& action : actions)
            if (action) {
                // Each registered action checks whether its own subcommand was parsed.
                const int status = action();
                if (status >= 0) return status;
            }
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "hyenavk: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hyenavk: unexpected error: %s\n", e.what());
        return 2;
    }
}
