// Options shared by the commands that load a model: --model, --config, --no-finite-check.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "hyenavk/model.hpp"

namespace hyenavk::cli {

struct ModelOptions {
    std::string model;
    std::string config;  // path of a JSON file merged over the model's own config
    bool no_finite_check = false;
    uint64_t spectrum_cache = 0;  // bytes; 0: limited by the memory budget only
};

void add_model_options(CLI::App& cmd, ModelOptions& options);
// precision: "fp32" or "fp16" (DeviceOptions::precision).
LoadOptions load_options(const ModelOptions& options, const std::string& precision);
// The whole text of a file; throws Io naming it.
std::string read_text_file(const std::string& path);

}  // namespace hyenavk::cli
