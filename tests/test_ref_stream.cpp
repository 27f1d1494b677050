// The streaming reference against the whole-sequence reference: every push must give the last step of a
// forward over every frame pushed so far, past the filters' reach (taps) and through a reset.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "ref/reference.hpp"
#include "ref/striped_hyena.hpp"
#include "ref/striped_hyena_stream.hpp"

namespace ref = hyenavk::ref;
using hyenavk::StripedHyenaConfig;

TEST_SUITE_BEGIN("reference");

namespace {

StripedHyenaConfig small_config(uint32_t embed_dim, uint32_t hidden) {
    StripedHyenaConfig cfg;
    cfg.embed_dim = embed_dim;
    cfg.hidden_size = hidden;
    cfg.order = 2;
    cfg.filter_size = 4;
    cfg.conv_kernel_size = 4;
    cfg.num_layers = 4;  // two Hyena blocks, two gated conv blocks
    cfg.window_size = 9;
    cfg.seq_len = 9;  // filters of 9 taps: pushes past the 9th reach the windowed part
    return cfg;
}

std::vector<double> frames(uint32_t count, uint32_t width, uint32_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<double> x(uint64_t(count) * width);
    for (double& v : x) v = u(rng);
    return x;
}

// Pushes `count` frames one by one and checks each output against the whole-sequence forward.
void check_pushes(ref::StripedHyenaStream& stream, const StripedHyenaConfig& cfg, const ref::Weights& weights,
                  const std::vector<double>& x, uint32_t count) {
    const uint32_t E = cfg.embed_dim, H = cfg.hidden_size;
    double worst = 0;
    for (uint32_t t = 1; t <= count; ++t) {
        const auto out = stream.push(std::span<const double>(x).subspan(uint64_t(t - 1) * E, E));
        const auto full = ref::striped_hyena_forward(cfg, weights, std::span<const double>(x).first(uint64_t(t) * E), 1, t);
        const std::vector<double> last(full.end() - H, full.end());
        worst = std::max(worst, ref::relative_error(out, last));
    }
    INFO("worst relative error over " << count << " pushes: " << worst);
    CHECK(worst <= 1e-12);
    CHECK(stream.steps() == count);
}

}  // namespace

TEST_CASE("streaming reference: each push equals the last step of a forward over everything pushed") {
    for (const auto& [E, H] : {std::pair<uint32_t, uint32_t>{5, 8}, {8, 8}}) {  // with and without input projection
        CAPTURE(E);
        const StripedHyenaConfig cfg = small_config(E, H);
        const ref::Weights weights = ref::striped_hyena_random_weights(cfg, 21);
        const uint32_t pushes = E == 5 ? 500 : 30;  // the long run once, with the input projection
        const auto x = frames(pushes, E, 3);
        ref::StripedHyenaStream stream(cfg, weights);
        check_pushes(stream, cfg, weights, x, pushes);

        // After a reset the stream starts over: the same frames give the same outputs again.
        stream.reset();
        CHECK(stream.steps() == 0);
        check_pushes(stream, cfg, weights, x, 12);
    }
}

TEST_CASE("streaming reference: a frame of the wrong width is refused") {
    const StripedHyenaConfig cfg = small_config(5, 8);
    const ref::Weights weights = ref::striped_hyena_random_weights(cfg, 22);
    ref::StripedHyenaStream stream(cfg, weights);
    const std::vector<double> frame(4, 0.0);
    CHECK_THROWS_AS(stream.push(frame), std::invalid_argument);
}

TEST_SUITE_END();
