// `hyenavk init --out M [--arch A] [--config C.json] [--<option> V ...] [--seed S]`: a model file with random
// weights, initialised the way the architecture's home framework does.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hyenavk/model.hpp"
#include "model_options.hpp"

namespace hyenavk::cli {

Action add_init_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("init", "write a model file with random weights");
    struct Options {
        std::string out, arch = "striped_hyena", config;
        uint64_t seed = 0;
        std::map<std::string, std::string> values;  // config key -> value as typed
    };
    auto o = std::make_shared<Options>();
    cmd->add_option("--out", o->out, "model file to write")->required();
    cmd->add_option("--arch", o->arch, "architecture")
        ->check(CLI::IsMember({"striped_hyena", "hyena_operator"}))
        ->capture_default_str();
    cmd->add_option("--config", o->config, "JSON file with options (flags below override it)")->check(CLI::ExistingFile);
    cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
    const std::pair<const char*, const char*> options[] = {
        {"embed_dim", "features per time step of the input (required)"},
        {"hidden_size", "internal width and output size (256)"},
        {"order", "long convolutions per Hyena block (2)"},
        {"filter_size", "width of the implicit filter MLP (64)"},
        {"conv_kernel_size", "kernel of the gated-conv block (7)"},
        {"num_layers", "blocks in total (4)"},
        {"dropout", "kept for compatibility, unused at inference (0.1)"},
        {"window_size", "expected sequence length (60)"},
        {"seq_len", "taps of each implicit filter (window_size)"},
        {"d_model", "hyena_operator: width D (required)"},
        {"l_max", "hyena_operator: longest sequence (required)"},
        {"filter_order", "hyena_operator: width of the implicit filter MLP (64)"},
        {"emb_dim", "hyena_operator: positional features, odd >= 3 (3)"},
        {"num_inner_mlps", "hyena_operator: inner layers of the filter MLP (2)"},
        {"w", "hyena_operator: sine frequency at initialisation (1)"},
        {"modulate", "hyena_operator: exponential decay window, true or false (true)"},
        {"fast_decay_pct", "hyena_operator: decay initialisation (0.3)"},
        {"slow_decay_pct", "hyena_operator: decay initialisation (1.5)"},
        {"target", "hyena_operator: decay initialisation (0.01)"},
        {"shift", "hyena_operator: added to the decay window (0)"},
        {"normalized", "hyena_operator: L1-normalise the filter per step, true or false (false)"},
        {"filter_layout", "hyena_operator: blocked or interleaved (blocked)"},
    };
    for (const auto& [key, help] : options) {
        std::string flag = std::string("--") + key;
        for (char& ch : flag) ch = ch == '_' ? '-' : ch;
        const std::string name = key;
        cmd->add_option_function<std::string>(flag, [o, name](const std::string& v) { o->values[name] = v; }, help);
    }
    return [cmd, o]() -> int {
        if (!cmd->parsed()) return -1;
        nlohmann::json config = nlohmann::json::object();
        if (!o->config.empty()) config = nlohmann::json::parse(read_text_file(o->config));
        config["arch"] = o->arch;
        for (const auto& [key, text] : o->values) {
            // Numbers and true/false as JSON; anything else (a layout name) as a string.
            nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
            config[key] = value.is_discarded() || value.is_string() ? nlohmann::json(text) : value;
        }
        write_random_model(o->out, config.dump(), o->seed);
        std::printf("wrote %s\n", o->out.c_str());
        return 0;
    };
}

}  // namespace hyenavk::cli
