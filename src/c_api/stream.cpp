// Stream sets through the C ABI.
#include <cstring>
#include <span>

#include "c_api/guard.hpp"
#include "hyenavk/stream.hpp"

using namespace hyenavk;
using namespace hyenavk::c_api;

struct hyenavk_stream_set_t {
    StreamSet set;
    uint32_t output_features;
};

namespace {


}  // namespace

extern "C" {

void hyenavk_stream_options_init(hyenavk_stream_options* options) {
    if (!options) return;
    *options = hyenavk_stream_options{};
    options->struct_size = sizeof *options;
    options->streams = 1;
    options->mode = HYENAVK_STREAM_INCREMENTAL;
}

hyenavk_status hyenavk_stream_set_create(hyenavk_model model, const hyenavk_stream_options* options,
                                         hyenavk_stream_set* set) {
    return guard([&] {
        require(set != nullptr, "hyenavk_stream_set_create: set is NULL");
        *set = nullptr;
        require(model != nullptr, "hyenavk_stream_set_create: model is NULL");
        hyenavk_stream_options defaults;
        hyenavk_stream_options_init(&defaults);
        const hyenavk_stream_options o = read_struct(options, defaults, "hyenavk_stream_options");
        const int mode = raw_enum(o.mode);
        require(mode == HYENAVK_STREAM_INCREMENTAL || mode == HYENAVK_STREAM_WINDOWED,
                "hyenavk_stream_set_create: unknown mode " + std::to_string(mode));
        StreamOptions stream_options;
        stream_options.streams = o.streams;
        stream_options.mode = mode == HYENAVK_STREAM_WINDOWED ? StreamMode::Windowed : StreamMode::Incremental;
        stream_options.window = o.window;
        StreamSet created = StreamSet::create(model->model, stream_options);
        *set = new hyenavk_stream_set_t{std::move(created), model->model.output_features()};
    });
}

void hyenavk_stream_set_destroy(hyenavk_stream_set set) { delete set; }

hyenavk_status hyenavk_stream_set_push(hyenavk_stream_set set, const float* frames, uint64_t frame_count,
                                       float* output, uint64_t output_count) {
    return guard([&] {
        require_handle(set, "hyenavk_stream_set_push", "set");
        require(frames != nullptr || frame_count == 0, "hyenavk_stream_set_push: frames is NULL");
        require(output != nullptr, "hyenavk_stream_set_push: output is NULL");
        const uint64_t needed = uint64_t(set->set.streams()) * set->output_features;
        require(output_count >= needed, "hyenavk_stream_set_push: output holds " + std::to_string(output_count) +
                                            " floats; a push writes " + std::to_string(needed));
        const std::vector<float> out = set->set.push(std::span<const float>(frames, frame_count));
        std::memcpy(output, out.data(), out.size() * sizeof(float));
    });
}

hyenavk_status hyenavk_stream_set_reset(hyenavk_stream_set set, uint32_t stream) {
    return guard([&] {
        require_handle(set, "hyenavk_stream_set_reset", "set");
        set->set.reset(stream);
    });
}

hyenavk_status hyenavk_stream_set_reset_all(hyenavk_stream_set set) {
    return guard([&] {
        require_handle(set, "hyenavk_stream_set_reset_all", "set");
        set->set.reset_all();
    });
}

hyenavk_status hyenavk_stream_set_steps(hyenavk_stream_set set, uint32_t stream, uint64_t* steps) {
    return guard([&] {
        require_handle(set, "hyenavk_stream_set_steps", "set");
        require(steps != nullptr, "hyenavk_stream_set_steps: steps is NULL");
        *steps = set->set.steps(stream);
    });
}

hyenavk_status hyenavk_stream_set_save(hyenavk_stream_set set, uint32_t stream, void* state, uint64_t* size) {
    return guard([&] {
        require_handle(set, "hyenavk_stream_set_save", "set");
        require(size != nullptr, "hyenavk_stream_set_save: size is NULL");
        const std::vector<uint8_t> bytes = set->set.save(stream);
        if (!state) {
            *size = bytes.size();
            return;
        }
        require(*size >= bytes.size(), "hyenavk_stream_set_save: state holds " + std::to_string(*size) +
                                           " bytes; the state takes " + std::to_string(bytes.size()));
        std::memcpy(state, bytes.data(), bytes.size());
        *size = bytes.size();
    });
}

hyenavk_status hyenavk_stream_set_restore(hyenavk_stream_set set, uint32_t stream, const void* state, uint64_t size) {
    return guard([&] {
        require_handle(set, "hyenavk_stream_set_restore", "set");
        require(state != nullptr || size == 0, "hyenavk_stream_set_restore: state is NULL");
        set->set.restore(stream, std::span<const uint8_t>(static_cast<const uint8_t*>(state), size));
    });
}

}  // extern "C"
