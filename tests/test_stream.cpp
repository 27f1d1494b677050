// Incremental streaming on the device against the streaming reference, which itself equals the whole-sequence
// reference at every push: several streams with frames of their own, pushes well past the filters' reach,
// a reset, with and without the input projection.
#include <doctest/doctest.h>

#include <vector>

#include "model/host_weights.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_stream_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ref/reference.hpp"
#include "ref/striped_hyena_stream.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"
#include "support/reference_helpers.hpp"

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
        const uint32_t streams = 3, pushes = 40;
        model::StripedHyenaStreamGpu set(gpu, streams);
        std::vector<ref::StripedHyenaStream> oracles(streams, ref::StripedHyenaStream(c, reference_weights));
        double worst = 0;
        uint32_t seed = 500;
        for (uint32_t push = 0; push < pushes; ++push) {
            if (push == 30) {  // everyone starts over
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
        CHECK(set.steps() == pushes - 30);
        CHECK_THROWS_AS(set.push(std::vector<float>(E)), Error);  // one stream's frame for three
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
