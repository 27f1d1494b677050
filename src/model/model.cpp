#include "hyenavk/model.hpp"

#include <cmath>

#include "io/json.hpp"
#include "io/safetensors.hpp"
#include "model/config.hpp"
#include "model/host_weights.hpp"
#include "model/hyena_operator_gpu.hpp"
#include "model/hyena_operator_tensors.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"

namespace hyenavk {
namespace detail {

class ModelImpl {
public:
    std::string arch;
    bool check_finite = true;
    std::unique_ptr<model::Architecture> net;
};

}  // namespace detail

namespace {

nlohmann::json file_config(const io::SafetensorsFile& file) {
    auto it = file.metadata().find("config");
    if (it == file.metadata().end()) return nlohmann::json::object();
    return io::parse_json_object(it->second, file.path() + " metadata 'config'");
}

void check_finite_input(std::span<const float> input, uint32_t length, uint32_t features) {
    for (size_t i = 0; i < input.size(); ++i)
        if (!std::isfinite(input[i])) {
            const uint64_t per_batch = uint64_t(length) * features;
            throw Error(ErrorCode::InvalidArgument,
                        std::string("input holds ") + (std::isnan(input[i]) ? "NaN" : "Inf") + " at [" +
                            std::to_string(i / per_batch) + ", " + std::to_string(i % per_batch / features) + ", " +
                            std::to_string(i % features) + "] (--no-finite-check skips this check)");
        }
}

}  // namespace

const char* to_string(Precision precision) noexcept { return precision == Precision::Fp16 ? "fp16" : "fp32"; }

Model::Model(std::unique_ptr<detail::ModelImpl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(Context& context, const std::string& path, const LoadOptions& options) {
    io::SafetensorsFile file(path);
    nlohmann::json config = file_config(file);
    if (!options.config_json.empty())
        config = model::merge_config(config, io::parse_json_object(options.config_json, "--config"));
    if (config.empty())
        throw Error(ErrorCode::InvalidArgument,
                    path + " has no config in its metadata; give one with --config (LoadOptions::config_json)");
    auto impl = std::make_unique<detail::ModelImpl>();
    impl->arch = model::config_arch(config);
    impl->check_finite = options.check_finite;
    if (impl->arch == "hyena_operator") {
        const HyenaOperatorConfig c = model::hyena_operator_from_json(config);
        const auto weights = model::HostWeights::from_file(file, model::hyena_operator_tensors(c), options.check_finite);
        impl->net = std::make_unique<model::HyenaOperatorGpu>(context.impl(), c, weights, options.precision);
    } else {
        const StripedHyenaConfig c = model::striped_hyena_from_json(config);
        const auto weights = model::HostWeights::from_file(file, model::striped_hyena_tensors(c), options.check_finite);
        impl->net = std::make_unique<model::StripedHyenaGpu>(context.impl(), c, weights, options.precision,
                                                             options.spectrum_cache_bytes);
    }
    return Model(std::move(impl));
}

const std::string& Model::arch() const { return impl_->arch; }
std::string Model::config_json() const { return impl_->net->config_json().dump(); }
uint64_t Model::parameter_count() const { return impl_->net->parameter_count(); }
uint32_t Model::input_features() const { return impl_->net->input_features(); }
uint32_t Model::output_features() const { return impl_->net->output_features(); }
uint32_t Model::default_length() const { return impl_->net->default_length(); }

std::vector<uint64_t> Model::output_shape(uint32_t batch, uint32_t length, bool full_sequence) const {
    if (full_sequence || !impl_->net->has_last_step_output()) return {batch, length, output_features()};
    return {batch, output_features()};
}

std::vector<float> Model::forward(std::span<const float> input, uint32_t batch, uint32_t length, bool full_sequence) {
    impl_->net->validate_input(input, batch, length);
    if (impl_->check_finite) check_finite_input(input, length, input_features());
    return impl_->net->forward(input, batch, length, full_sequence);
}

MemoryPlan Model::memory_plan(uint32_t batch, uint32_t length, bool full_sequence) const {
    return impl_->net->memory_plan(batch, length, full_sequence);
}

uint64_t Model::device_memory_bytes(uint32_t batch, uint32_t length, bool full_sequence) const {
    return impl_->net->device_bytes(batch, length, full_sequence);
}

void write_random_model(const std::string& path, const std::string& config_json, uint64_t seed) {
    const nlohmann::json config = io::parse_json_object(config_json, "config");
    const std::string arch = model::config_arch(config);
    model::HostWeights weights;
    nlohmann::json effective;
    if (arch == "hyena_operator") {
        const HyenaOperatorConfig c = model::hyena_operator_from_json(config);
        weights = model::hyena_operator_random_weights(c, seed);
        effective = model::to_json(c);
    } else {
        const StripedHyenaConfig c = model::striped_hyena_from_json(config);
        weights = model::HostWeights::random(model::striped_hyena_tensors(c), seed);
        effective = model::to_json(c);
    }
    std::vector<io::TensorToWrite> tensors;
    for (const auto& [name, t] : weights.all()) tensors.push_back({name, t.shape, t.data});
    io::write_safetensors(path, tensors, {{"config", effective.dump()}});
}

}  // namespace hyenavk
