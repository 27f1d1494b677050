// The hyenavk command-line tool: each subcommand registers its options and its action.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::cli {

// Options every command that touches a device takes (SPEC: --device I|NAME, --precision fp32|fp16).
struct DeviceOptions {
    std::string device;
    std::string precision = "fp32";
    bool validation = false;
    uint64_t max_submission_work = ContextOptions{}.max_submission_work;  // estimated operations; 0: unbounded
    std::string cache_dir;  // "" : the default disk-cache directory
    bool no_cache = false;
    uint64_t memory_budget = 0;  // bytes; 0: the device's default
};
void add_device_options(CLI::App& cmd, DeviceOptions& options);
// The context options the device options describe.
ContextOptions context_options(const DeviceOptions& options);
// Creates the context the options describe; checks the precision against the device.
Context make_context(const DeviceOptions& options);

// Each returns the action to run when its subcommand was chosen; the action returns the exit status.
using Action = std::function<int()>;
Action add_devices_command(CLI::App& app);
Action add_selftest_command(CLI::App& app);
Action add_init_command(CLI::App& app);
Action add_run_command(CLI::App& app);
Action add_info_command(CLI::App& app);
Action add_check_command(CLI::App& app);
Action add_demo_command(CLI::App& app);
Action add_bench_command(CLI::App& app);

}  // namespace hyenavk::cli
