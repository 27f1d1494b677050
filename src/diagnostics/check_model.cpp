// `hyenavk check`: a model on the device against the double-precision reference forward.
#include <chrono>
#include <random>

#include "hyenavk/diagnostics.hpp"
#include "io/json.hpp"
#include "io/safetensors.hpp"
#include "model/config.hpp"
#include "ref/hyena_operator.hpp"
#include "ref/reference.hpp"
#include "ref/striped_hyena.hpp"

namespace hyenavk {
namespace {

// fp32 storage and arithmetic through a whole model, against double precision; fp16 storage rounds every
// stored value to 11 significant bits.
constexpr double kFp32ModelBound = 1e-4;
constexpr double kFp16ModelBound = 1e-2;

double elapsed_ms(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

ModelCheck check_model(Context& context, const std::string& path, const LoadOptions& options, uint32_t batch,
                       uint32_t length, uint64_t seed) {
    Model model = Model::load(context, path, options);
    const nlohmann::json config = nlohmann::json::parse(model.config_json());
    ModelCheck check;
    check.batch = batch;
    check.length = length ? length : model.default_length();
    check.bound = options.precision == Precision::Fp16 ? kFp16ModelBound : kFp32ModelBound;

    std::mt19937_64 rng(seed);
    std::vector<float> input(uint64_t(check.batch) * check.length * model.input_features());
    for (float& v : input) v = static_cast<float>(double(rng() >> 11) * 0x1.0p-53 * 2 - 1);

    model.forward(input, check.batch, check.length, true);  // builds the plan and warms the driver up
    auto start = std::chrono::steady_clock::now();
    const auto out = model.forward(input, check.batch, check.length, true);
    check.device_ms = elapsed_ms(start);

    // The reference reads the same file on its own: nothing the device path computed is reused.
    io::SafetensorsFile file(path);
    ref::Weights weights;
    for (const std::string& name : file.names()) {
        const auto values = file.read_f32(name);
        weights[name] = ref::Tensor{file.info(name).shape, std::vector<double>(values.begin(), values.end())};
    }
    start = std::chrono::steady_clock::now();
    const std::vector<double> x(input.begin(), input.end());
    const auto expected =
        model.arch() == "hyena_operator"
            ? ref::hyena_operator_forward(model::hyena_operator_from_json(config), weights, x, check.batch, check.length)
            : ref::striped_hyena_forward(model::striped_hyena_from_json(config), weights, x, check.batch, check.length);
    check.reference_ms = elapsed_ms(start);
    check.max_error = ref::relative_error(out, expected);
    return check;
}

}  // namespace hyenavk
