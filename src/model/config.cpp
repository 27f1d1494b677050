#include "model/config.hpp"

#include <cmath>
#include <functional>
#include <map>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::model {
namespace {

// Sizes are 32-bit counts; each config's validate() then holds them to what hyenavk supports.
uint32_t as_count(const nlohmann::json& value, const std::string& key) {
    if (value.is_number_unsigned() && value.get<uint64_t>() <= 0xffffffffu) return value.get<uint32_t>();
    if (value.is_number_unsigned())
        throw Error(ErrorCode::InvalidArgument,
                    "config: '" + key + "' must be at most 4294967295 (got " + value.dump() + ")");
    if (value.is_number_integer() && value.get<int64_t>() < 0)
        throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must not be negative (got " + value.dump() + ")");
    throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must be a whole number (got " + value.dump() + ")");
}

double as_number(const nlohmann::json& value, const std::string& key) {
    if (!value.is_number()) throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must be a number (got " + value.dump() + ")");
    return value.get<double>();
}

bool as_bool(const nlohmann::json& value, const std::string& key) {
    if (!value.is_boolean()) throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must be true or false (got " + value.dump() + ")");
    return value.get<bool>();
}

using Setters = std::map<std::string, std::function<void(const nlohmann::json&)>>;

// Applies every key of `config` through its setter; a key without one is an error that lists the known keys.
void apply_fields(const nlohmann::json& config, const Setters& fields, const std::string& arch) {
    if (!config.is_object()) throw Error(ErrorCode::Format, "a config must be a JSON object");
    for (auto it = config.begin(); it != config.end(); ++it) {
        auto field = fields.find(it.key());
        if (field == fields.end()) {
            std::string known;
            for (const auto& [name, set] : fields) known += (known.empty() ? "" : ", ") + name;
            throw Error(ErrorCode::InvalidArgument,
                        "config: unknown key '" + it.key() + "' for arch " + arch + " (known: " + known + ")");
        }
        field->second(it.value());
    }
}

}  // namespace

nlohmann::json merge_config(const nlohmann::json& base, const nlohmann::json& over) {
    nlohmann::json merged = base.is_object() ? base : nlohmann::json::object();
    if (!over.is_null() && !over.is_object()) throw Error(ErrorCode::Format, "a config must be a JSON object");
    if (over.is_object())
        for (auto it = over.begin(); it != over.end(); ++it) merged[it.key()] = it.value();
    return merged;
}

std::string config_arch(const nlohmann::json& config) {
    if (!config.contains("arch")) return "striped_hyena";
    if (!config["arch"].is_string()) throw Error(ErrorCode::InvalidArgument, "config: 'arch' must be a string");
    const std::string arch = config["arch"].get<std::string>();
    if (arch != "striped_hyena" && arch != "hyena_operator")
        throw Error(ErrorCode::Unsupported,
                    "config: arch '" + arch + "' is not supported (supported: striped_hyena, hyena_operator)");
    return arch;
}

StripedHyenaConfig striped_hyena_from_json(const nlohmann::json& config) {
    StripedHyenaConfig c;
    const Setters fields = {
        {"arch", [](const nlohmann::json&) {}},
        {"embed_dim", [&c](const nlohmann::json& v) { c.embed_dim = as_count(v, "embed_dim"); }},
        {"hidden_size", [&c](const nlohmann::json& v) { c.hidden_size = as_count(v, "hidden_size"); }},
        {"order", [&c](const nlohmann::json& v) { c.order = as_count(v, "order"); }},
        {"filter_size", [&c](const nlohmann::json& v) { c.filter_size = as_count(v, "filter_size"); }},
        {"conv_kernel_size", [&c](const nlohmann::json& v) { c.conv_kernel_size = as_count(v, "conv_kernel_size"); }},
        {"num_layers", [&c](const nlohmann::json& v) { c.num_layers = as_count(v, "num_layers"); }},
        {"dropout", [&c](const nlohmann::json& v) { c.dropout = as_number(v, "dropout"); }},
        {"window_size", [&c](const nlohmann::json& v) { c.window_size = as_count(v, "window_size"); }},
        {"seq_len", [&c](const nlohmann::json& v) { c.seq_len = v.is_null() ? 0 : as_count(v, "seq_len"); }},
    };
    apply_fields(config, fields, "striped_hyena");
    if (!config.contains("embed_dim")) throw Error(ErrorCode::InvalidArgument, "striped_hyena config: embed_dim is required");
    c.validate();
    return c;
}

nlohmann::json to_json(const StripedHyenaConfig& c) {
    return {{"arch", "striped_hyena"},         {"embed_dim", c.embed_dim},     {"hidden_size", c.hidden_size},
            {"order", c.order},               {"filter_size", c.filter_size}, {"conv_kernel_size", c.conv_kernel_size},
            {"num_layers", c.num_layers},     {"dropout", c.dropout},         {"window_size", c.window_size},
            {"seq_len", c.taps()}};
}

HyenaOperatorConfig hyena_operator_from_json(const nlohmann::json& config) {
    HyenaOperatorConfig c;
    // safari options that change the operator's structure: only their defaults are supported.
    auto only_default = [](const std::string& key, const nlohmann::json& value, const nlohmann::json& supported,
                           const std::string& why) {
        if (value != supported)
            throw Error(ErrorCode::Unsupported, "hyena_operator config: '" + key + "' = " + value.dump() +
                                                    " is not supported (" + why + ")");
    };
    const Setters fields = {
        {"arch", [](const nlohmann::json&) {}},
        {"d_model", [&c](const nlohmann::json& v) { c.d_model = as_count(v, "d_model"); }},
        {"l_max", [&c](const nlohmann::json& v) { c.l_max = as_count(v, "l_max"); }},
        {"order", [&c](const nlohmann::json& v) { c.order = as_count(v, "order"); }},
        {"filter_order", [&c](const nlohmann::json& v) { c.filter_order = as_count(v, "filter_order"); }},
        {"emb_dim", [&c](const nlohmann::json& v) { c.emb_dim = as_count(v, "emb_dim"); }},
        {"num_inner_mlps", [&c](const nlohmann::json& v) { c.num_inner_mlps = as_count(v, "num_inner_mlps"); }},
        {"w", [&c](const nlohmann::json& v) { c.w = as_number(v, "w"); }},
        {"modulate", [&c](const nlohmann::json& v) { c.modulate = as_bool(v, "modulate"); }},
        {"fast_decay_pct", [&c](const nlohmann::json& v) { c.fast_decay_pct = as_number(v, "fast_decay_pct"); }},
        {"slow_decay_pct", [&c](const nlohmann::json& v) { c.slow_decay_pct = as_number(v, "slow_decay_pct"); }},
        {"target", [&c](const nlohmann::json& v) { c.target = as_number(v, "target"); }},
        {"shift", [&c](const nlohmann::json& v) { c.shift = as_number(v, "shift"); }},
        {"normalized", [&c](const nlohmann::json& v) { c.normalized = as_bool(v, "normalized"); }},
        {"filter_layout",
         [&c](const nlohmann::json& v) {
             if (v == "blocked")
                 c.filter_layout = FilterLayout::Blocked;
             else if (v == "interleaved")
                 c.filter_layout = FilterLayout::Interleaved;
             else
                 throw Error(ErrorCode::InvalidArgument,
                             "config: 'filter_layout' must be \"blocked\" or \"interleaved\" (got " + v.dump() + ")");
         }},
        {"num_heads", [&](const nlohmann::json& v) { only_default("num_heads", v, 1, "one head only"); }},
        {"inner_factor", [&](const nlohmann::json& v) { only_default("inner_factor", v, 1, "inner factor 1 only"); }},
        {"outer_mixing", [&](const nlohmann::json& v) { only_default("outer_mixing", v, false, "no outer mixing"); }},
        {"post_order_ffn", [&](const nlohmann::json& v) { only_default("post_order_ffn", v, false, "no post-order FFN"); }},
        {"num_blocks", [&](const nlohmann::json& v) { only_default("num_blocks", v, 1, "one block only"); }},
        {"dropout", [](const nlohmann::json&) {}},
        {"filter_dropout", [](const nlohmann::json&) {}},
    };
    apply_fields(config, fields, "hyena_operator");
    for (const char* key : {"d_model", "l_max"})
        if (!config.contains(key))
            throw Error(ErrorCode::InvalidArgument, std::string("hyena_operator config: ") + key + " is required");
    c.validate();
    return c;
}

nlohmann::json to_json(const HyenaOperatorConfig& c) {
    return {{"arch", "hyena_operator"},
            {"d_model", c.d_model},
            {"l_max", c.l_max},
            {"order", c.order},
            {"filter_order", c.filter_order},
            {"emb_dim", c.emb_dim},
            {"num_inner_mlps", c.num_inner_mlps},
            {"w", c.w},
            {"modulate", c.modulate},
            {"fast_decay_pct", c.fast_decay_pct},
            {"slow_decay_pct", c.slow_decay_pct},
            {"target", c.target},
            {"shift", c.shift},
            {"normalized", c.normalized},
            {"filter_layout", c.filter_layout == FilterLayout::Blocked ? "blocked" : "interleaved"}};
}

}  // namespace hyenavk::model
