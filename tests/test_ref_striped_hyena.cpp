// Checks the double-precision `striped_hyena` reference forward: tensor shapes and parameter counts, outputs
// of the real Edifice library, and causality for sequence lengths other than the filter length.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "hyenavk/striped_hyena.hpp"
#include "io/json.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"
#include "ref/reference.hpp"
#include "model/config.hpp"
#include "ref/striped_hyena.hpp"
#include "support/reference_helpers.hpp"

namespace ref = hyenavk::ref;
using hyenavk::StripedHyenaConfig;

TEST_SUITE_BEGIN("reference");

namespace {

uint64_t parameter_total(const ref::Weights& weights) {
    uint64_t total = 0;
    for (const auto& [name, t] : weights) {
        uint64_t count = 1;
        for (uint64_t d : t.shape) count *= d;
        CHECK_MESSAGE(t.data.size() == count, name);
        total += count;
    }
    return total;
}

// Edifice's recommended defaults with the given embed_dim.
StripedHyenaConfig defaults(uint32_t embed_dim) {
    StripedHyenaConfig cfg;
    cfg.embed_dim = embed_dim;
    return cfg;
}

// The `tiny` golden configuration: E 6, H 8, N 2, F 4, K 3, 3 layers, Ls 5.
StripedHyenaConfig tiny_config() {
    StripedHyenaConfig cfg;
    cfg.embed_dim = 6;
    cfg.hidden_size = 8;
    cfg.order = 2;
    cfg.filter_size = 4;
    cfg.conv_kernel_size = 3;
    cfg.num_layers = 3;
    cfg.window_size = 5;
    cfg.seq_len = 5;
    return cfg;
}

// Steps [0, steps) of every batch row of a [B, L, C] tensor, as [B, steps, C].
std::vector<double> first_steps(const std::vector<double>& t, std::size_t batch, std::size_t length,
                                std::size_t channels, std::size_t steps) {
    std::vector<double> out;
    out.reserve(batch * steps * channels);
    for (std::size_t b = 0; b < batch; ++b) {
        const auto begin = t.begin() + static_cast<std::ptrdiff_t>(b * length * channels);
        out.insert(out.end(), begin, begin + static_cast<std::ptrdiff_t>(steps * channels));
    }
    return out;
}

struct Golden {
    StripedHyenaConfig cfg;
    ref::Weights weights;
    std::vector<uint64_t> x_shape;  // [B, L, E]
    std::vector<double> x, last, full;
};

std::vector<uint64_t> npy_shape(const hyenavk::io::NpyArray& a) {
    return std::vector<uint64_t>(a.shape.begin(), a.shape.end());
}

Golden load_golden(const std::string& name) {
    const std::string dir = std::string(HYENAVK_TEST_DATA_DIR) + "/edifice-golden/" + name + "/";
    Golden g;
    const hyenavk::io::SafetensorsFile file(dir + "model.safetensors");
    const auto config = hyenavk::io::parse_json_object(file.metadata().at("config"), name + " config");
    REQUIRE(hyenavk::model::config_arch(config) == "striped_hyena");
    g.cfg = hyenavk::model::striped_hyena_from_json(config);
    g.weights = hyenavk::test::reference_weights(file);
    const auto x = hyenavk::io::read_npy(dir + "x.npy");
    const auto last = hyenavk::io::read_npy(dir + "edifice_last.npy");
    const auto full = hyenavk::io::read_npy(dir + "edifice_full.npy");
    g.x_shape = npy_shape(x);
    REQUIRE(g.x_shape.size() == 3);
    REQUIRE(g.x_shape[2] == g.cfg.embed_dim);
    const uint64_t B = g.x_shape[0], L = g.x_shape[1], H = g.cfg.hidden_size;
    REQUIRE(npy_shape(last) == std::vector<uint64_t>{B, H});
    REQUIRE(npy_shape(full) == std::vector<uint64_t>{B, L, H});
    g.x.assign(x.f32.begin(), x.f32.end());
    g.last.assign(last.f32.begin(), last.f32.end());
    g.full.assign(full.f32.begin(), full.f32.end());
    return g;
}

}  // namespace

TEST_CASE("striped_hyena reference: parameter counts at Edifice's defaults") {
    const uint64_t base = 4'303'104;
    CHECK(parameter_total(ref::striped_hyena_random_weights(defaults(256), 1)) == base);
    CHECK(parameter_total(ref::striped_hyena_random_weights(defaults(287), 1)) == base + 287 * 256 + 256);

    const auto w = ref::striped_hyena_random_weights(defaults(287), 7);
    CHECK(w.at("input_projection.kernel").shape == std::vector<uint64_t>{287, 256});
    CHECK(w.at("hyena_block_1_proj.kernel").shape == std::vector<uint64_t>{256, 768});
    CHECK(w.at("hyena_block_3_short_dw_conv.kernel").shape == std::vector<uint64_t>{3, 1, 256});
    CHECK(w.at("hyena_block_1_filter1_dense1.kernel").shape == std::vector<uint64_t>{1, 64});
    CHECK(w.at("gated_conv_block_4_dw_conv_dw.kernel").shape == std::vector<uint64_t>{7, 1, 256});
    CHECK(w.at("gated_conv_block_2_ffn_down.kernel").shape == std::vector<uint64_t>{1024, 256});
    CHECK(ref::striped_hyena_random_weights(defaults(256), 1).count("input_projection.kernel") == 0);

    // Same seed, same values; gammas stay near 1.
    CHECK(ref::striped_hyena_random_weights(defaults(287), 7).at("final_norm.gamma").data ==
          w.at("final_norm.gamma").data);
    const auto& gamma = w.at("final_norm.gamma").data;
    CHECK(std::all_of(gamma.begin(), gamma.end(), [](double g) { return g >= 0.8 && g <= 1.2; }));
    const auto& kernel = w.at("hyena_block_1_proj.kernel").data;
    CHECK(std::all_of(kernel.begin(), kernel.end(), [](double v) { return v >= -0.5 && v <= 0.5; }));
}

TEST_CASE("striped_hyena reference: missing or misshapen tensors are named") {
    const auto cfg = tiny_config();
    const auto x = hyenavk::test::random_input(2 * 5 * 6, 3);

    auto missing = ref::striped_hyena_random_weights(cfg, 2);
    missing.erase("gated_conv_block_2_dw_conv_dw.kernel");
    const auto msg1 = hyenavk::test::exception_message([&] { ref::striped_hyena_forward(cfg, missing, x, 2, 5); });
    CHECK(msg1.find("gated_conv_block_2_dw_conv_dw.kernel") != std::string::npos);
    CHECK(msg1.find("[3, 1, 8]") != std::string::npos);

    auto wrong = ref::striped_hyena_random_weights(cfg, 2);
    wrong.at("hyena_block_3_proj.kernel").shape = {24, 8};
    const auto msg2 = hyenavk::test::exception_message([&] { ref::striped_hyena_forward(cfg, wrong, x, 2, 5); });
    CHECK(msg2.find("hyena_block_3_proj.kernel") != std::string::npos);
    CHECK(msg2.find("[8, 24]") != std::string::npos);

    const auto w = ref::striped_hyena_random_weights(cfg, 2);
    CHECK_THROWS_AS(ref::striped_hyena_forward(cfg, w, x, 2, 4), std::invalid_argument);
    CHECK_THROWS_AS(ref::striped_hyena_forward(cfg, w, {}, 2, 0), std::invalid_argument);
    CHECK_THROWS_AS(ref::striped_hyena_filter(cfg, w, 2, 0), std::invalid_argument);
    CHECK_THROWS_AS(ref::striped_hyena_filter(cfg, w, 1, 2), std::invalid_argument);
}

TEST_CASE("striped_hyena reference: implicit filter is the sine MLP over normalized positions") {
    const auto cfg = tiny_config();
    const auto w = ref::striped_hyena_random_weights(cfg, 5);
    const auto h = ref::striped_hyena_filter(cfg, w, 3, 1);
    REQUIRE(h.size() == 5 * 8);

    const auto& k1 = w.at("hyena_block_3_filter1_dense1.kernel").data;
    const auto& b1 = w.at("hyena_block_3_filter1_dense1.bias").data;
    const auto& k2 = w.at("hyena_block_3_filter1_dense2.kernel").data;
    const auto& b2 = w.at("hyena_block_3_filter1_dense2.bias").data;
    const auto& k3 = w.at("hyena_block_3_filter1_dense3.kernel").data;
    const auto& b3 = w.at("hyena_block_3_filter1_dense3.bias").data;
    for (std::size_t s = 0; s < 5; ++s) {
        const double pos = static_cast<double>(s) / 4.0;
        double f1[4], f2[4];
        for (std::size_t j = 0; j < 4; ++j) f1[j] = std::sin(pos * k1[j] + b1[j]);
        for (std::size_t j = 0; j < 4; ++j) {
            double acc = b2[j];
            for (std::size_t i = 0; i < 4; ++i) acc += f1[i] * k2[i * 4 + j];
            f2[j] = std::sin(acc);
        }
        for (std::size_t c = 0; c < 8; ++c) {
            double acc = b3[c];
            for (std::size_t i = 0; i < 4; ++i) acc += f2[i] * k3[i * 8 + c];
            CHECK(h[s * 8 + c] == doctest::Approx(acc).epsilon(1e-13));
        }
    }

    // A single tap sits at position 0.
    auto one = cfg;
    one.seq_len = 1;
    const auto h1 = ref::striped_hyena_filter(one, w, 3, 1);
    REQUIRE(h1.size() == 8);
    for (std::size_t c = 0; c < 8; ++c) CHECK(h1[c] == doctest::Approx(h[c]).epsilon(1e-13));
}

TEST_CASE("striped_hyena reference: matches Edifice's outputs") {
    for (const std::string name : {"tiny", "default"}) {
        CAPTURE(name);
        const Golden g = load_golden(name);
        const auto B = static_cast<uint32_t>(g.x_shape[0]);
        const auto L = static_cast<uint32_t>(g.x_shape[1]);
        const std::size_t H = g.cfg.hidden_size;
        CHECK(parameter_total(g.weights) == parameter_total(ref::striped_hyena_random_weights(g.cfg, 1)));

        const auto full = ref::striped_hyena_forward(g.cfg, g.weights, g.x, B, L);
        REQUIRE(full.size() == g.full.size());
        std::vector<double> last;
        for (std::size_t b = 0; b < B; ++b) {
            const auto row = full.begin() + static_cast<std::ptrdiff_t>((b * L + L - 1) * H);
            last.insert(last.end(), row, row + static_cast<std::ptrdiff_t>(H));
        }
        const double err_full = ref::relative_error(full, g.full);
        const double err_last = ref::relative_error(last, g.last);
        MESSAGE(name << ": relative error last " << err_last << ", full " << err_full);
        CHECK(err_last < 1e-5);
        CHECK(err_full < 1e-5);
    }
}

TEST_CASE("striped_hyena reference: causal for sequence lengths other than the filter length") {
    const auto cfg = tiny_config();  // Ls = 5
    const auto w = ref::striped_hyena_random_weights(cfg, 11);
    const std::size_t B = 2, E = 6, H = 8;

    for (const uint32_t L : {3u, 9u}) {
        CAPTURE(L);
        const auto x = hyenavk::test::random_input(B * L * E, 100 + L);
        const auto y = ref::striped_hyena_forward(cfg, w, x, B, L);
        REQUIRE(y.size() == B * L * H);
        for (double v : y) REQUIRE(std::isfinite(v));

        // Changing steps t.. of the input leaves outputs 0..t-1 unchanged.
        for (uint32_t t = 1; t < L; ++t) {
            CAPTURE(t);
            auto x2 = x;
            for (std::size_t b = 0; b < B; ++b)
                for (std::size_t s = t; s < L; ++s)
                    for (std::size_t e = 0; e < E; ++e) x2[(b * L + s) * E + e] += 0.75 + 0.1 * static_cast<double>(e);
            const auto y2 = ref::striped_hyena_forward(cfg, w, x2, B, L);
            CHECK(ref::relative_error(first_steps(y2, B, L, H, t), first_steps(y, B, L, H, t)) < 1e-13);
            // ... and does change output t.
            const auto at_t = [&](const std::vector<double>& v) {
                return std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(t * H),
                                           v.begin() + static_cast<std::ptrdiff_t>((t + 1) * H));
            };
            CHECK(ref::relative_error(at_t(y2), at_t(y)) > 1e-6);
        }

        // Every shorter run over a prefix of the input equals the prefix of the longer run, for lengths below,
        // at and above Ls.
        for (uint32_t l = 1; l < L; ++l) {
            CAPTURE(l);
            const auto xp = first_steps(x, B, L, E, l);
            const auto yp = ref::striped_hyena_forward(cfg, w, xp, B, l);
            CHECK(ref::relative_error(yp, first_steps(y, B, L, H, l)) < 1e-13);
        }
    }
}

TEST_SUITE_END();
