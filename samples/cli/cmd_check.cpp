// `hyenavk check --model M [--batch B] [--length L] [--seed S]`: device against the CPU reference.
#include <cstdio>

#include "commands.hpp"
#include "hyenavk/diagnostics.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {

Action add_check_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("check", "run a model on random input on the device and on the CPU reference "
                                            "(double precision); fails above the precision's bound");
    struct Options {
        DeviceOptions device;
        ModelOptions model;
        uint32_t batch = 1, length = 0;
        uint64_t seed = 0;
    };
    auto o = std::make_shared<Options>();
    add_model_options(*cmd, o->model);
    cmd->add_option("--batch", o->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--length", o->length, "sequence length (default: the model's window_size)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seed", o->seed, "seed of the random input")->capture_default_str();
    add_device_options(*cmd, o->device);
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        Context ctx = make_context(o->device);
        const ModelCheck c = check_model(ctx, o->model.model, load_options(o->model, o->device.precision), o->batch, o->length, o->seed);
        std::printf("device %s, B = %u, L = %u\n", ctx.device().name.c_str(), c.batch, c.length);
        std::printf("max relative error %.3e (bound %.0e): %s\n", c.max_error, c.bound, c.passed() ? "ok" : "FAIL");
        std::printf("forward %.2f ms on the device, %.2f ms in the CPU reference\n", c.device_ms, c.reference_ms);
        return c.passed() ? 0 : 1;
    };
}

}  // namespace hyenavk::cli
