// `hyenavk info --model M [--batch B] [--length L]`: config, parameter count, device memory a run needs.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {

Action add_info_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "describe a model and the device memory a run needs");
    struct Options {
        DeviceOptions device;
        ModelOptions model;
        uint32_t batch = 1, length = 0;
    };
    auto o = std::make_shared<Options>();
    add_model_options(*cmd, o->model);
    cmd->add_option("--batch", o->batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--length", o->length, "sequence length (default: the model's window_size)")
        ->check(CLI::PositiveNumber);
    add_device_options(*cmd, o->device);
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        Context ctx = make_context(o->device);
        Model model = Model::load(ctx, o->model.model, load_options(o->model));
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
        const double mib = double(model.device_memory_bytes(o->batch, length)) / (1 << 20);
        std::printf("device      %s\n", ctx.device().name.c_str());
        std::printf("memory      %.1f MiB for B = %u, L = %u (weights, filters, activations, FFT workspace)\n", mib,
                    o->batch, length);
        return 0;
    };
}

}  // namespace hyenavk::cli
