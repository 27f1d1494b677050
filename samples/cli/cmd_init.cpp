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
    cmd->add_option("--arch", o->arch, "architecture")->check(CLI::IsMember({"striped_hyena"}))->capture_default_str();
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
            nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
            if (value.is_discarded() || !value.is_number())
                throw Error(ErrorCode::InvalidArgument, "--" + key + " takes a number, got '" + text + "'");
            config[key] = value;
        }
        write_random_model(o->out, config.dump(), o->seed);
        std::printf("wrote %s\n", o->out.c_str());
        return 0;
    };
}

}  // namespace hyenavk::cli
