// Models through the C ABI.
#include <cstring>
#include <span>
#include <vector>

#include "c_api/guard.hpp"
#include "core/sizes.hpp"
#include "hyenavk/model.hpp"
#include "model/architecture.hpp"

using namespace hyenavk;
using namespace hyenavk::c_api;

namespace {

// Refuses B = 0, L = 0 and shapes whose counts do not fit 64 bits before anything is computed from them.
uint64_t output_count_of(Model& model, uint32_t batch, uint32_t length, bool full_sequence) {
    model::architecture_of(model).validate_shape(batch, length);
    return detail::product_or_throw(ErrorCode::InvalidArgument, "the output's values",
                                    model.output_shape(batch, length, full_sequence));
}

}  // namespace

extern "C" {

void hyenavk_load_options_init(hyenavk_load_options* options) {
    if (!options) return;
    const LoadOptions defaults;
    *options = hyenavk_load_options{};
    options->struct_size = sizeof *options;
    options->check_finite = defaults.check_finite ? 1 : 0;
    options->precision = defaults.precision == Precision::Fp16 ? HYENAVK_PRECISION_FP16 : HYENAVK_PRECISION_FP32;
    options->spectrum_cache_bytes = defaults.spectrum_cache_bytes;
}

hyenavk_status hyenavk_model_load(hyenavk_context context, const char* path, const hyenavk_load_options* options,
                                  hyenavk_model* model) {
    return guard([&] {
        require(model != nullptr, "hyenavk_model_load: model is NULL");
        *model = nullptr;
        require(context != nullptr, "hyenavk_model_load: context is NULL");
        require(path != nullptr, "hyenavk_model_load: path is NULL");
        hyenavk_load_options defaults;
        hyenavk_load_options_init(&defaults);
        const hyenavk_load_options o = read_struct(options, defaults, "hyenavk_load_options");
        // A C caller may store any integer in an enum member: read it as one.
        const int precision = raw_enum(o.precision);
        require(precision == HYENAVK_PRECISION_FP32 || precision == HYENAVK_PRECISION_FP16,
                "hyenavk_model_load: precision " + std::to_string(precision) + " is neither FP32 nor FP16");
        LoadOptions load;
        load.config_json = o.config_json ? o.config_json : "";
        load.check_finite = o.check_finite != 0;
        load.precision = precision == HYENAVK_PRECISION_FP16 ? Precision::Fp16 : Precision::Fp32;
        load.spectrum_cache_bytes = o.spectrum_cache_bytes;
        Model loaded = Model::load(context->context, path, load);
        std::string config = loaded.config_json();
        *model = new hyenavk_model_t{std::move(loaded), std::move(config)};
    });
}

void hyenavk_model_destroy(hyenavk_model model) {
    try {
        delete model;
    } catch (...) {  // destructors do not throw; this only keeps the promise that nothing crosses the ABI
    }
}

void hyenavk_model_info_init(hyenavk_model_info* info) {
    if (!info) return;
    *info = hyenavk_model_info{};
    info->struct_size = sizeof *info;
}

hyenavk_status hyenavk_model_info_get(hyenavk_model model, hyenavk_model_info* info) {
    return guard([&] {
        require_handle(model, "hyenavk_model_info_get", "model");
        const Model& m = model->model;
        hyenavk_model_info out{};
        copy_string(out.arch, m.arch());
        out.parameter_count = m.parameter_count();
        out.input_features = m.input_features();
        out.output_features = m.output_features();
        out.default_length = m.default_length();
        write_struct(info, out, "hyenavk_model_info");
    });
}

const char* hyenavk_model_config_json(hyenavk_model model) { return model ? model->config_json.c_str() : nullptr; }

hyenavk_status hyenavk_model_output_count(hyenavk_model model, uint32_t batch, uint32_t length, uint32_t full_sequence,
                                          uint64_t* count) {
    return guard([&] {
        require_handle(model, "hyenavk_model_output_count", "model");
        require(count != nullptr, "hyenavk_model_output_count: count is NULL");
        *count = output_count_of(model->model, batch, length, full_sequence != 0);
    });
}

hyenavk_status hyenavk_model_forward(hyenavk_model model, const float* input, uint64_t input_count, uint32_t batch,
                                     uint32_t length, uint32_t full_sequence, float* output, uint64_t output_count) {
    return guard([&] {
        require_handle(model, "hyenavk_model_forward", "model");
        require(input != nullptr || input_count == 0, "hyenavk_model_forward: input is NULL");
        require(output != nullptr, "hyenavk_model_forward: output is NULL");
        Model& m = model->model;
        const uint64_t needed = output_count_of(m, batch, length, full_sequence != 0);
        if (output_count < needed)
            throw Error(ErrorCode::InvalidArgument, "hyenavk_model_forward: output holds " +
                                                        std::to_string(output_count) + " floats; this shape writes " +
                                                        std::to_string(needed));
        const std::vector<float> result =
            m.forward(std::span<const float>(input, input_count), batch, length, full_sequence != 0);
        std::memcpy(output, result.data(), result.size() * sizeof(float));
    });
}

void hyenavk_memory_plan_init(hyenavk_memory_plan* plan) {
    if (!plan) return;
    *plan = hyenavk_memory_plan{};
    plan->struct_size = sizeof *plan;
}

hyenavk_status hyenavk_model_memory_plan(hyenavk_model model, uint32_t batch, uint32_t length, uint32_t full_sequence,
                                         hyenavk_memory_plan* plan) {
    return guard([&] {
        require_handle(model, "hyenavk_model_memory_plan", "model");
        const MemoryPlan p = model->model.memory_plan(batch, length, full_sequence != 0);
        hyenavk_memory_plan out{};
        out.total_bytes = p.total_bytes;
        out.resident_bytes = p.resident_bytes;
        out.budget_bytes = p.budget_bytes;
        out.tiles = p.tiles;
        out.tile_rows = p.tile_rows;
        out.fft_channel_group = p.fft_channel_group;
        out.gates_kept = p.gates_kept;
        out.spectra_cached = p.spectra_cached;
        out.long_conv_bytes = p.long_conv_bytes;
        write_struct(plan, out, "hyenavk_memory_plan");
    });
}

hyenavk_status hyenavk_write_random_model(const char* path, const char* config_json, uint64_t seed) {
    return guard([&] {
        require(path != nullptr, "hyenavk_write_random_model: path is NULL");
        require(config_json != nullptr, "hyenavk_write_random_model: config_json is NULL");
        write_random_model(path, config_json, seed);
    });
}

}  // extern "C"
