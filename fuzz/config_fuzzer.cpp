// Fuzz target: any text as a model config, through the same steps Model::load takes (strict JSON, arch,
// fields, validation). An accepted config must survive a round trip through its JSON form unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "hyenavk/hyenavk.hpp"
#include "io/json.hpp"
#include "model/config.hpp"

namespace {

template <typename Config, typename Parse>
void round_trip(const nlohmann::json& config, Parse parse) {
    const Config parsed = parse(config);
    (void)parsed.parameter_count();
    const nlohmann::json written = hyenavk::model::to_json(parsed);
    if (hyenavk::model::to_json(parse(written)) != written) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const nlohmann::json config =
            hyenavk::model::merge_config(nlohmann::json::object(), hyenavk::io::parse_json_object(text, "config"));
        if (hyenavk::model::config_arch(config) == "hyena_operator")
            round_trip<hyenavk::HyenaOperatorConfig>(config, hyenavk::model::hyena_operator_from_json);
        else
            round_trip<hyenavk::StripedHyenaConfig>(config, hyenavk::model::striped_hyena_from_json);
    } catch (const hyenavk::Error&) {
    }
    return 0;
}
