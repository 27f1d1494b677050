#include "hyenavk/model.hpp"

#include <cmath>

#include "io/json.hpp"
#include "io/safetensors.hpp"
#include "model/config.hpp"
#include "model/host_weights.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"

namespace hyenavk {
namespace detail {

class ModelImpl {
public:
    std::string arch;
    StripedHyenaConfig config;
    bool check_finite = true;
    std::unique_ptr<model::StripedHyenaGpu> gpu;
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
    impl->config = model::striped_hyena_from_json(config);
    impl->check_finite = options.check_finite;
    const auto weights = model::HostWeights::from_file(file, model::striped_hyena_tensors(impl->config),
                                                       options.check_finite);
    impl->gpu = std::make_unique<model::StripedHyenaGpu>(context.impl(), impl->config, weights);
    return Model(std::move(impl));
}

const std::string& Model::arch() const { return impl_->arch; }
std::string Model::config_json() const { return model::to_json(impl_->config).dump(); }
uint64_t Model::parameter_count() const { return impl_->config.parameter_count(); }
uint32_t Model::input_features() const { return impl_->config.embed_dim; }
uint32_t Model::output_features() const { return impl_->config.output_size(); }
uint32_t Model::default_length() const { return impl_->config.window_size; }

std::vector<float> Model::forward(std::span<const float> input, uint32_t batch, uint32_t length, bool full_sequence) {
    impl_->gpu->validate_input(input, batch, length);
    if (impl_->check_finite) check_finite_input(input, length, impl_->config.embed_dim);
    return impl_->gpu->forward(input, batch, length, full_sequence);
}

uint64_t Model::device_memory_bytes(uint32_t batch, uint32_t length, bool full_sequence) const {
    return impl_->gpu->weight_bytes() + model::StripedHyenaGpu::forward_bytes(impl_->config, batch, length, full_sequence);
}

void write_random_model(const std::string& path, const std::string& config_json, uint64_t seed) {
    const nlohmann::json config = io::parse_json_object(config_json, "config");
    model::config_arch(config);
    const StripedHyenaConfig c = model::striped_hyena_from_json(config);
    const auto weights = model::HostWeights::random(model::striped_hyena_tensors(c), seed);
    std::vector<io::TensorToWrite> tensors;
    for (const auto& [name, t] : weights.all()) tensors.push_back({name, t.shape, t.data});
    io::write_safetensors(path, tensors, {{"config", model::to_json(c).dump()}});
}

}  // namespace hyenavk
