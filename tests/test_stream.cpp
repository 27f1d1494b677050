// Incremental streaming on the device against the streaming reference, which itself equals the whole-sequence
// reference at every push: several streams with frames of their own, pushes well past the filters' reach,
// a reset, with and without the input projection.
#include <doctest/doctest.h>

#include <vector>

#include "hyenavk/stream.hpp"
#include "model/host_weights.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_stream_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ref/reference.hpp"
#include "ref/striped_hyena_stream.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"
#include "support/reference_helpers.hpp"
#include "support/temp_path.hpp"

using namespace hyenavk;

namespace {

constexpr double kStreamBound = 1e-4;  // fp32 on the device against double, as for whole forwards

StripedHyenaConfig stream_config(uint32_t embed_dim) {
    StripedHyenaConfig c;
    c.embed_dim = embed_dim;
    c.hidden_size = 8;
    c.order = 2;
    c.num_layers = 4;
    c.filter_size = 4;
    c.conv_kernel_size = 4;
    c.window_size = 9;  // 9 taps: most pushes reach past the filters
    return c;
}

}  // namespace

TEST_SUITE_BEGIN("model");

TEST_CASE("incremental streaming: every push equals a forward over each stream's frames so far") {
    auto& ctx = test::context().impl();
    for (const uint32_t E : {5u, 8u}) {
        CAPTURE(E);
        const StripedHyenaConfig c = stream_config(E);
        const auto weights = model::HostWeights::random(model::striped_hyena_tensors(c), 40 + E);
        const ref::Weights reference_weights = test::to_reference(weights);
        model::StripedHyenaGpu gpu(ctx, c, weights, Precision::Fp32);
        const uint32_t streams = 3, pushes = 500;
        model::StripedHyenaStreamGpu set(gpu, streams);
        std::vector<ref::StripedHyenaStream> oracles(streams, ref::StripedHyenaStream(c, reference_weights));
        double worst = 0;
        uint32_t seed = 500;
        for (uint32_t push = 0; push < pushes; ++push) {
            if (push == 470) {  // everyone starts over
                set.reset();
                for (auto& o : oracles) o.reset();
            }
            const auto frames = test::random_floats(size_t(streams) * E, ++seed);
            const auto got = set.push(frames);
            for (uint32_t s = 0; s < streams; ++s) {
                const auto want = oracles[s].push(test::to_double(std::span<const float>(frames).subspan(s * E, E)));
                worst = std::max(worst, ref::relative_error(std::span<const float>(got).subspan(s * c.hidden_size,
                                                                                              c.hidden_size),
                                                            want));
            }
        }
        INFO("worst relative error over " << pushes << " pushes: " << worst);
        CHECK(worst <= kStreamBound);
        CHECK(set.steps(0) == pushes - 470);
        CHECK_THROWS_AS(set.push(std::vector<float>(E)), Error);  // one stream's frame for three
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("incremental streaming: streams reset alone, saved and restored, and a set equals single streams") {
    auto& ctx = test::context().impl();
    const StripedHyenaConfig c = stream_config(5);
    const uint32_t E = c.embed_dim, H = c.hidden_size;
    const auto weights = model::HostWeights::random(model::striped_hyena_tensors(c), 77);
    model::StripedHyenaGpu gpu(ctx, c, weights, Precision::Fp32);
    const uint32_t streams = 64;
    model::StripedHyenaStreamGpu set(gpu, streams);
    std::vector<model::StripedHyenaStreamGpu> singles;
    for (uint32_t s = 0; s < streams; ++s) singles.emplace_back(gpu, 1);
    uint32_t seed = 900;
    double worst = 0;
    std::vector<uint8_t> saved;
    std::vector<std::vector<float>> after_save;  // stream 3's outputs from the save on
    std::vector<std::vector<float>> frames_after_save;
    for (uint32_t push = 0; push < 24; ++push) {
        if (push == 7) set.reset(5), singles[5].reset();  // one stream starts over, the others go on
        if (push == 12) saved = set.save(3);
        const auto frames = test::random_floats(size_t(streams) * E, ++seed);
        const auto got = set.push(frames);
        for (uint32_t s = 0; s < streams; ++s) {
            const auto one = singles[s].push(std::span<const float>(frames).subspan(s * E, E));
            worst = std::max(worst, ref::relative_error(std::span<const float>(got).subspan(s * H, H),
                                                        test::to_double(one)));
        }
        if (push >= 12) {
            after_save.emplace_back(got.begin() + 3 * H, got.begin() + 4 * H);
            frames_after_save.emplace_back(frames.begin() + 3 * E, frames.begin() + 4 * E);
        }
    }
    INFO("worst relative difference between the set and single streams: " << worst);
    CHECK(worst <= 1e-5);
    CHECK(set.steps(5) == 24 - 7);

    // Stream 3's state restored into stream 0 of another set replays stream 3's outputs exactly.
    model::StripedHyenaStreamGpu other(gpu, 2);
    other.restore(0, saved);
    CHECK(other.steps(0) == 12);
    for (size_t i = 0; i < after_save.size(); ++i) {
        std::vector<float> two(2 * E, 0.0f);
        std::copy(frames_after_save[i].begin(), frames_after_save[i].end(), two.begin());
        const auto got = other.push(two);
        CHECK(ref::relative_error(std::span<const float>(got).first(H), test::to_double(after_save[i])) <= 1e-6);
    }
    CHECK_THROWS_WITH_AS(other.restore(1, std::vector<uint8_t>(10)), doctest::Contains("not one saved"), Error);
    CHECK_THROWS_AS(other.reset(2), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("StreamSet: pushes equal the model's own forward over each stream's frames so far") {
    test::TempPath file("stream-set.safetensors");
    write_random_model(file.str(), R"({"embed_dim": 6, "hidden_size": 8, "num_layers": 3, "filter_size": 4,
                                       "window_size": 7, "conv_kernel_size": 3})",
                       31);
    Context& ctx = test::context();
    Model model = Model::load(ctx, file.str());
    StreamOptions options;
    options.streams = 2;
    StreamSet set = StreamSet::create(model, options);
    CHECK(set.streams() == 2);
    const uint32_t E = model.input_features(), H = model.output_features();
    std::vector<std::vector<float>> history(2);
    double worst = 0;
    for (uint32_t push = 1; push <= 12; ++push) {
        const auto frames = test::random_floats(size_t(2) * E, 600 + push);
        const auto got = set.push(frames);
        for (uint32_t s = 0; s < 2; ++s) {
            history[s].insert(history[s].end(), frames.begin() + s * E, frames.begin() + (s + 1) * E);
            const auto whole = model.forward(history[s], 1, push);  // the last step
            worst = std::max(worst, ref::relative_error(std::span<const float>(got).subspan(s * H, H),
                                                        test::to_double(whole)));
        }
    }
    INFO("worst relative difference from Model::forward: " << worst);
    CHECK(worst <= 1e-5);
    CHECK(set.steps(1) == 12);

    test::TempPath other("stream-set-operator.safetensors");
    write_random_model(other.str(), R"({"arch": "hyena_operator", "d_model": 8, "l_max": 16})", 32);
    Model op = Model::load(ctx, other.str());
    CHECK_THROWS_WITH_AS(StreamSet::create(op), doctest::Contains("striped_hyena"), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("StreamSet windowed: each push equals a forward over the stream's last W frames") {
    test::TempPath file("stream-windowed.safetensors");
    write_random_model(file.str(), R"({"embed_dim": 6, "hidden_size": 8, "num_layers": 3, "filter_size": 4,
                                       "window_size": 7, "conv_kernel_size": 3})",
                       33);
    Model model = Model::load(test::context(), file.str());
    const uint32_t E = model.input_features(), H = model.output_features(), W = 5, streams = 3;
    StreamOptions options;
    options.streams = streams;
    options.mode = StreamMode::Windowed;
    options.window = W;
    StreamSet set = StreamSet::create(model, options);
    std::vector<std::vector<float>> history(streams);
    double worst = 0;
    for (uint32_t push = 1; push <= 16; ++push) {
        if (push == 9) set.reset(2), history[2].clear();  // a new agent takes stream 2's place
        const auto frames = test::random_floats(size_t(streams) * E, 800 + push);
        const auto got = set.push(frames);
        for (uint32_t s = 0; s < streams; ++s) {
            history[s].insert(history[s].end(), frames.begin() + s * E, frames.begin() + (s + 1) * E);
            const uint32_t n = static_cast<uint32_t>(history[s].size() / E), len = std::min(n, W);
            const std::vector<float> window(history[s].end() - len * E, history[s].end());
            const auto whole = model.forward(window, 1, len);
            worst = std::max(worst, ref::relative_error(std::span<const float>(got).subspan(s * H, H),
                                                        test::to_double(whole)));
        }
    }
    INFO("worst relative difference from Model::forward over the window: " << worst);
    CHECK(worst <= 1e-5);
    // A windowed state does not fit an incremental set of the same model.
    StreamSet incremental = StreamSet::create(model, {});
    CHECK_THROWS_AS(incremental.restore(0, set.save(0)), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
