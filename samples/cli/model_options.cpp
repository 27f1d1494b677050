#include "model_options.hpp"

#include <fstream>
#include <sstream>

namespace hyenavk::cli {

void add_model_options(CLI::App& cmd, ModelOptions& options) {
    cmd.add_option("--model", options.model, "model file (safetensors)")->required()->check(CLI::ExistingFile);
    cmd.add_option("--config", options.config, "JSON config merged over the model's own, key by key")
        ->check(CLI::ExistingFile);
    cmd.add_flag("--no-finite-check", options.no_finite_check, "skip the NaN/Inf check of weights and inputs");
    cmd.add_option("--spectrum-cache", options.spectrum_cache,
                   "most device memory the filter spectra of one shape may keep, e.g. 512MiB; beyond it they are "
                   "computed on every forward (default: as the memory budget allows)")
        ->transform(CLI::AsSizeValue(false));
}

LoadOptions load_options(const ModelOptions& options, const std::string& precision) {
    LoadOptions load;
    load.precision = precision == "fp16" ? Precision::Fp16 : Precision::Fp32;
    if (!options.config.empty()) load.config_json = read_text_file(options.config);
    load.check_finite = !options.no_finite_check;
    load.spectrum_cache_bytes = options.spectrum_cache;
    return load;
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorCode::Io, "cannot open " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) throw Error(ErrorCode::Io, "cannot read " + path);
    return text.str();
}

}  // namespace hyenavk::cli
