#include "model/host_weights.hpp"

#include <cmath>
#include <random>
#include <set>
#include <utility>

#include "io/safetensors.hpp"
#include "model/non_finite.hpp"

namespace hyenavk::model {

std::string shape_string(const std::vector<uint64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

HostWeights HostWeights::from_file(const io::SafetensorsFile& file, const std::vector<TensorSpec>& expected,
                                   bool check_finite) {
    // Every name and shape is checked before anything is read.
    std::set<std::string> names;
    for (const TensorSpec& spec : expected) {
        if (!file.contains(spec.name))
            throw Error(ErrorCode::NotFound, file.path() + ": missing tensor '" + spec.name + "' (expected shape " +
                                                 shape_string(spec.shape) + ")");
        const auto& info = file.info(spec.name);
        if (info.shape != spec.shape)
            throw Error(ErrorCode::Format, file.path() + ": tensor '" + spec.name + "' has shape " +
                                               shape_string(info.shape) + ", expected " + shape_string(spec.shape));
        names.insert(spec.name);
    }
    for (const std::string& name : file.names())
        if (!names.count(name))
            throw Error(ErrorCode::Format, file.path() + ": unexpected tensor '" + name + "' for this architecture");
    HostWeights w;
    for (const TensorSpec& spec : expected) {
        HostTensor t{spec.shape, file.read_f32(spec.name)};
        if (const auto bad = check_finite ? first_non_finite(t.data) : std::nullopt)
            throw Error(ErrorCode::Format, file.path() + ": tensor '" + spec.name + "' holds " + bad->kind +
                                               " at flat index " + std::to_string(bad->index) +
                                               " (--no-finite-check skips this check)");
        w.tensors_.emplace(spec.name, std::move(t));
    }
    return w;
}

HostWeights HostWeights::random(const std::vector<TensorSpec>& specs, uint64_t seed) {
    HostWeights w;
    std::mt19937_64 rng(seed);
    // Our own uniform mapping, so a seed gives the same model with every standard library.
    auto uniform = [&rng](double limit) { return static_cast<float>((double(rng() >> 11) * 0x1.0p-53 * 2 - 1) * limit); };
    for (const TensorSpec& spec : specs) {
        HostTensor t{spec.shape, std::vector<float>(spec.elements(), 0.0f)};
        if (spec.init == Init::GlorotUniform) {
            // Axon's fans: rank 1 takes both as 1; rank >= 2 multiplies the leading (receptive field) dims in.
            double fan_in = 1, fan_out = 1;
            if (spec.shape.size() >= 2) {
                double receptive = 1;
                for (size_t i = 0; i + 2 < spec.shape.size(); ++i) receptive *= double(spec.shape[i]);
                fan_in = double(spec.shape[spec.shape.size() - 2]) * receptive;
                fan_out = double(spec.shape.back()) * receptive;
            }
            const double limit = std::sqrt(6.0 / (fan_in + fan_out));
            for (float& v : t.data) v = uniform(limit);
        }
        w.tensors_.emplace(spec.name, std::move(t));
    }
    return w;
}

HostWeights HostWeights::from_tensors(std::map<std::string, HostTensor> tensors) {
    HostWeights w;
    w.tensors_ = std::move(tensors);
    return w;
}

const HostTensor& HostWeights::at(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error(ErrorCode::NotFound, "no tensor '" + name + "'");
    return it->second;
}

}  // namespace hyenavk::model
