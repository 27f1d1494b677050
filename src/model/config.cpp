#include "model/config.hpp"

#include <cmath>
#include <functional>
#include <map>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::model {
namespace {

uint32_t as_count(const nlohmann::json& value, const std::string& key) {
    if (value.is_number_unsigned() && value.get<uint64_t>() <= 0xffffffffu) return value.get<uint32_t>();
    if (value.is_number_integer() && value.get<int64_t>() < 0)
        throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must not be negative (got " + value.dump() + ")");
    throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must be a whole number (got " + value.dump() + ")");
}

double as_number(const nlohmann::json& value, const std::string& key) {
    if (!value.is_number()) throw Error(ErrorCode::InvalidArgument, "config: '" + key + "' must be a number (got " + value.dump() + ")");
    return value.get<double>();
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
    if (arch != "striped_hyena")
        throw Error(ErrorCode::Unsupported, "config: arch '" + arch + "' is not supported (supported: striped_hyena)");
    return arch;
}

StripedHyenaConfig striped_hyena_from_json(const nlohmann::json& config) {
    if (!config.is_object()) throw Error(ErrorCode::Format, "a config must be a JSON object");
    StripedHyenaConfig c;
    const std::map<std::string, std::function<void(const nlohmann::json&)>> fields = {
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
    for (auto it = config.begin(); it != config.end(); ++it) {
        auto field = fields.find(it.key());
        if (field == fields.end()) {
            std::string known;
            for (const auto& [name, set] : fields) known += (known.empty() ? "" : ", ") + name;
            throw Error(ErrorCode::InvalidArgument,
                        "config: unknown key '" + it.key() + "' for arch striped_hyena (known: " + known + ")");
        }
        field->second(it.value());
    }
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

}  // namespace hyenavk::model
