// `hyenavk info --model M [--batch B] [--length L] [--timing]`: config, parameter count, device memory a run needs.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "info_timing.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {

Action add_info_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "describe a model and the device memory a run needs");
    struct Options {
        DeviceOptions device;
        ModelOptions model;
        uint32_t batch = 1, length = 0;
        bool full_sequence = false;
        bool timing = false;
    };
    auto o = std::make_shared<Options>();
    add_model_options(*cmd, o->model);
    cmd->add_option("--batch", o->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--length", o->length, "sequence length (default: the model's window_size)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--full-sequence", o->full_sequence, "plan for returning every step (as `run --full-sequence`)");
    cmd->add_flag("--timing", o->timing,
                  "also time start-up (context, load, first forward) with an empty and with a warm disk cache");
    add_device_options(*cmd, o->device);
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        if (o->timing) print_startup_timing(o->device, o->model, o->batch, o->length, o->full_sequence);
        Context ctx = make_context(o->device);
        Model model = Model::load(ctx, o->model.model, load_options(o->model, o->device.precision));
        const uint32_t length = o->length ? o->length : model.default_length();
        const auto config = nlohmann::json::parse(model.config_json());
        std::printf("model       %s\n", o->model.model.c_str());
        std::printf("arch        %s\n", model.arch().c_str());
        for (auto it = config.begin(); it != config.end(); ++it)
            if (it.key() != "arch") std::printf("  %-18s %s\n", it.key().c_str(), it.value().dump().c_str());
        std::printf("parameters  %llu\n", static_cast<unsigned long long>(model.parameter_count()));
        std::string shape;
        for (uint64_t d : model.output_shape(o->batch, length)) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        std::printf("input       [%u, %u, %u] -> output [%s]\n", o->batch, length, model.input_features(), shape.c_str());
        std::printf("device      %s\n", ctx.device().name.c_str());
        const MemoryPlan plan = model.memory_plan(o->batch, length, o->full_sequence);
        auto mib = [](uint64_t bytes) { return double(bytes) / (1 << 20); };
        std::printf("memory      %.1f MiB at most for B = %u, L = %u, %s (%s; budget %.0f MiB)\n", mib(plan.total_bytes),
                    o->batch, length, o->device.precision.c_str(),
                    o->full_sequence ? "whole output sequence" : "last step out", mib(plan.budget_bytes));
        std::printf("  resident  %.1f MiB weights and filters\n", mib(plan.resident_bytes));
        std::printf("  forward   %.1f MiB activations, scratch, FFT workspace%s\n",
                    mib(plan.total_bytes - std::min(plan.total_bytes, plan.resident_bytes)),
                    plan.spectra_cached ? " and filter spectra" : "");
        std::printf("  plan      %u tile%s of up to %u rows", plan.tiles, plan.tiles == 1 ? "" : "s", plan.tile_rows);
        if (plan.fft_channel_group) std::printf(", FFT over %u channels at a time", plan.fft_channel_group);
        std::printf("%s%s\n", plan.gates_kept ? "" : ", gates recomputed",
                    plan.spectra_cached ? "" : ", filter spectra computed per forward");
        return 0;
    };
}

}  // namespace hyenavk::cli
