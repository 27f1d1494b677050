// Small helpers the model-reference tests share.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "model/host_weights.hpp"
#include "ref/weights.hpp"

namespace hyenavk::test {

// count values uniform in [-1, 1) from seed.
inline std::vector<double> random_input(std::size_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    std::vector<double> v(count);
    for (double& e : v) e = dist(rng);
    return v;
}

// The message of the std::invalid_argument fn throws, or "" when it throws none.
inline std::string exception_message(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

inline ref::Weights to_reference(const model::HostWeights& weights) {
    ref::Weights out;
    for (const auto& [name, t] : weights.all())
        out[name] = ref::Tensor{t.shape, std::vector<double>(t.data.begin(), t.data.end())};
    return out;
}

// Every tensor of a model file, widened to double.
inline ref::Weights reference_weights(const io::SafetensorsFile& file) {
    ref::Weights out;
    for (const std::string& name : file.names()) {
        const auto values = file.read_f32(name);
        out[name] = ref::Tensor{file.info(name).shape, std::vector<double>(values.begin(), values.end())};
    }
    return out;
}

}  // namespace hyenavk::test
