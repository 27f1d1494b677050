// `hyenavk run --model M --input X.npy --output Y.npy [--full-sequence]`.
#include <cstdio>

#include "commands.hpp"
#include "hyenavk/npy.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {

Action add_run_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "run a model on an input .npy and write the output .npy");
    struct Options {
        DeviceOptions device;
        ModelOptions model;
        std::string input, output;
        bool full_sequence = false;
    };
    auto o = std::make_shared<Options>();
    add_model_options(*cmd, o->model);
    cmd->add_option("--input", o->input, "input array [B, L, C] or [L, C] (f32; f64 and f16 are converted)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--output", o->output, "output array (f32), written only when the run succeeds")->required();
    cmd->add_flag("--full-sequence", o->full_sequence, "output every time step [B, L, H] instead of the last [B, H] (hyena_operator always does)");
    add_device_options(*cmd, o->device);
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        const NpyArray input = read_npy(o->input);
        if (input.is_integer)
            throw Error(ErrorCode::InvalidArgument, o->input + ": integer input; this model takes float features");
        if (input.shape.size() != 2 && input.shape.size() != 3)
            throw Error(ErrorCode::InvalidArgument, o->input + ": input must be [B, L, C] or [L, C], got " +
                                                        std::to_string(input.shape.size()) + " axes");
        const bool batched = input.shape.size() == 3;
        const uint64_t batch = batched ? input.shape[0] : 1, length = input.shape[batched ? 1 : 0],
                       features = input.shape.back();
        Context ctx = make_context(o->device);
        Model model = Model::load(ctx, o->model.model, load_options(o->model, o->device.precision));
        if (features != model.input_features())
            throw Error(ErrorCode::InvalidArgument, o->input + ": input has " + std::to_string(features) +
                                                        " features per step, the model takes " +
                                                        std::to_string(model.input_features()));
        if (batch == 0 || length == 0 || batch > 0xffffffffu || length > 0xffffffffu)
            throw Error(ErrorCode::InvalidArgument, o->input + ": B and L must be >= 1 (got B = " +
                                                        std::to_string(batch) + ", L = " + std::to_string(length) + ")");
        const auto out = model.forward(input.f32, uint32_t(batch), uint32_t(length), o->full_sequence);
        std::vector<uint64_t> shape = model.output_shape(uint32_t(batch), uint32_t(length), o->full_sequence);
        if (!batched) shape.erase(shape.begin());  // an [L, C] input gives an output without the batch axis
        write_npy(o->output, shape, out);
        return 0;
    };
}

}  // namespace hyenavk::cli
