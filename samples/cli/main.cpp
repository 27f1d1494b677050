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
}

Context make_context(const DeviceOptions& options) {
    ContextOptions ctx_options;
    ctx_options.device = options.device;
    ctx_options.validation = options.validation;
    Context ctx = Context::create(ctx_options);
    if (options.precision == "fp16") {
        if (!ctx.device().caps.storage_buffer_16bit)
            throw Error(ErrorCode::Unsupported, "--precision fp16 needs 16-bit storage buffers "
                                                "(storageBuffer16BitAccess), which " + ctx.device().name + " lacks");
        throw Error(ErrorCode::Unsupported, "--precision fp16 is not implemented yet in hyenavk " + version_string() +
                                                "; use fp32 (the default)");
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
