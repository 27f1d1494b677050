// Model configs as JSON: the `config` entry of a model file's metadata, `--config file.json` merged over it
// key by key, and the arch-specific structs they turn into. Unknown keys are errors that name them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "hyenavk/hyena_operator.hpp"
#include "hyenavk/striped_hyena.hpp"

namespace hyenavk::model {

// `over`'s keys replace `base`'s, one by one.
nlohmann::json merge_config(const nlohmann::json& base, const nlohmann::json& over);

// The config's "arch" ("striped_hyena" when absent); an unknown arch is an error that lists the known ones.
std::string config_arch(const nlohmann::json& config);

StripedHyenaConfig striped_hyena_from_json(const nlohmann::json& config);
nlohmann::json to_json(const StripedHyenaConfig& config);

HyenaOperatorConfig hyena_operator_from_json(const nlohmann::json& config);
nlohmann::json to_json(const HyenaOperatorConfig& config);

}  // namespace hyenavk::model
