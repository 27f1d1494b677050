// Checks the double-precision `hyena_operator` reference (safari's HyenaOperator): outputs of safari itself,
// the state-dict layout of the seeded initialisation, and the filter options (length, layout, normalisation).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hyenavk/hyena_operator.hpp"
#include "io/json.hpp"
#include "io/npy.hpp"
#include "io/npy_header.hpp"
#include "io/safetensors.hpp"
#include "model/hyena_operator_tensors.hpp"
#include "model/config.hpp"
#include "ref/hyena_operator.hpp"
#include "support/reference_helpers.hpp"
#include "ref/reference.hpp"

namespace ref = hyenavk::ref;
using hyenavk::FilterLayout;
using hyenavk::HyenaOperatorConfig;
using Shape = std::vector<uint64_t>;

TEST_SUITE_BEGIN("reference");

namespace {

const std::string kGolden = std::string(HYENAVK_TEST_DATA_DIR) + "/safari-golden/";

// io::read_npy narrows f8 to float; safari's reference output is kept in full here.
std::vector<double> read_npy_f64(const std::string& path, Shape& shape) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() >= 10);
    REQUIRE(bytes[6] == 1);  // version 1.0: a 2-byte header length at offset 8
    const std::size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    const auto header = hyenavk::io::parse_npy_header(std::string_view(bytes).substr(10, header_len), path);
    REQUIRE(header.descr == "<f8");
    REQUIRE_FALSE(header.fortran_order);
    shape = header.shape;
    uint64_t count = 1;
    for (uint64_t d : shape) count *= d;
    REQUIRE(bytes.size() == 10 + header_len + count * 8);
    std::vector<double> data(count);
    std::memcpy(data.data(), bytes.data() + 10 + header_len, count * 8);
    return data;
}

struct Golden {
    HyenaOperatorConfig cfg;
    ref::Weights weights;
    Shape x_shape;  // [B, L, D]
    std::vector<double> x, out;
};

Golden load_golden(const std::string& name) {
    const std::string dir = kGolden + name + "/";
    Golden g;
    const auto config = hyenavk::io::read_json_file(dir + "config.json");
    REQUIRE(hyenavk::model::config_arch(config) == "hyena_operator");
    g.cfg = hyenavk::model::hyena_operator_from_json(config);
    g.weights = hyenavk::test::reference_weights(hyenavk::io::SafetensorsFile(dir + "model.safetensors"));
    const auto x = hyenavk::io::read_npy(dir + "x.npy");
    g.x_shape = x.shape;
    REQUIRE(g.x_shape.size() == 3);
    REQUIRE(g.x_shape[2] == g.cfg.d_model);
    g.x.assign(x.f32.begin(), x.f32.end());
    Shape out_shape;
    g.out = read_npy_f64(dir + "ref.npy", out_shape);
    REQUIRE(out_shape == g.x_shape);
    return g;
}

HyenaOperatorConfig small_config(uint32_t order) {
    HyenaOperatorConfig cfg;
    cfg.d_model = 6;
    cfg.l_max = 24;
    cfg.order = order;
    cfg.filter_order = 8;
    cfg.emb_dim = 5;
    cfg.num_inner_mlps = 1;
    cfg.w = 3.0;
    cfg.shift = 0.25;
    return cfg;
}

// Filter channel c of `from` moved to where `to` keeps the same (order, channel) pair.
uint64_t layout_channel(uint64_t c, uint64_t D, uint64_t N1, FilterLayout from) {
    const uint64_t o = from == FilterLayout::Blocked ? c / D : c % N1;
    const uint64_t d = from == FilterLayout::Blocked ? c % D : c / N1;
    return from == FilterLayout::Blocked ? d * N1 + o : o * D + d;
}

}  // namespace

TEST_CASE("hyena_operator reference reproduces safari's HyenaOperator") {
    for (const std::string name : {"order2", "order3"}) {
        const Golden g = load_golden(name);
        const auto B = static_cast<uint32_t>(g.x_shape[0]), L = static_cast<uint32_t>(g.x_shape[1]);
        const auto out = ref::hyena_operator_forward(g.cfg, g.weights, g.x, B, L);
        const double err = ref::relative_error(out, g.out);
        MESSAGE(name << ": relative error " << err);
        CHECK(err < 1e-6);
    }
}

TEST_CASE("hyena_operator random weights have safari's state-dict keys and shapes") {
    for (const std::string name : {"order2", "order3"}) {
        const Golden g = load_golden(name);
        const auto specs = hyenavk::model::hyena_operator_tensors(g.cfg);
        const auto random = hyenavk::model::hyena_operator_random_weights(g.cfg, 11);
        uint64_t total = 0;
        std::map<std::string, Shape> spec_shapes;
        for (const auto& spec : specs) {
            spec_shapes[spec.name] = spec.shape;
            total += spec.elements();
        }
        CHECK(total == g.cfg.parameter_count());
        REQUIRE(spec_shapes.size() == specs.size());  // no key listed twice
        REQUIRE(random.all().size() == g.weights.size());
        for (const auto& [key, tensor] : g.weights) {
            INFO(name << ": " << key);
            REQUIRE(random.all().count(key) == 1);
            CHECK(random.at(key).shape == tensor.shape);
            CHECK(spec_shapes.at(key) == tensor.shape);
            CHECK(random.at(key).data.size() == tensor.data.size());
        }
        // The tensors safari computes rather than draws come out as safari's (float32) values.
        for (const std::string key : {"filter_fn.pos_emb.z", "filter_fn.pos_emb.t", "filter_fn.modulation.deltas",
                                      "filter_fn.implicit_filter.1.freq", "filter_fn.implicit_filter.5.freq"}) {
            INFO(name << ": " << key);
            const auto& mine = random.at(key).data;
            const auto& theirs = g.weights.at(key).data;
            double worst = 0;
            for (std::size_t i = 0; i < mine.size(); ++i)
                worst = std::max(worst, std::abs(double(mine[i]) - theirs[i]) / std::max(1.0, std::abs(theirs[i])));
            CHECK(worst < 1e-6);
        }
    }
}

TEST_CASE("hyena_operator random weights follow PyTorch's default initialisation") {
    const auto cfg = small_config(3);
    const auto a = hyenavk::model::hyena_operator_random_weights(cfg, 5);
    const auto b = hyenavk::model::hyena_operator_random_weights(cfg, 5);
    const auto c = hyenavk::model::hyena_operator_random_weights(cfg, 6);
    CHECK(a.at("in_proj.weight").data == b.at("in_proj.weight").data);
    CHECK(a.at("filter_fn.bias").data == b.at("filter_fn.bias").data);
    CHECK(a.at("in_proj.weight").data != c.at("in_proj.weight").data);

    // Uniform in +-1/sqrt(fan_in): fan_in is D for the projections, 3 for the depthwise conv, emb_dim and W
    // for the filter MLP.
    const std::map<std::string, double> fan_in = {
        {"in_proj", double(cfg.d_model)},
        {"out_proj", double(cfg.d_model)},
        {"short_filter", 3},
        {"filter_fn.implicit_filter.0", double(cfg.emb_dim)},
        {"filter_fn.implicit_filter.2", double(cfg.filter_order)}};
    for (const auto& [layer, fan] : fan_in)
        for (const char* part : {".weight", ".bias"}) {
            INFO(layer << part);
            const auto& v = a.at(layer + part).data;
            double largest = 0;
            for (float e : v) largest = std::max(largest, double(std::abs(e)));
            CHECK(largest <= 1.0 / std::sqrt(fan));
            CHECK(largest > 0.5 / std::sqrt(fan));
        }
    CHECK(a.all().count("filter_fn.implicit_filter.4.bias") == 0);  // the last Linear has no bias
    for (float f : a.at("filter_fn.implicit_filter.3.freq").data) CHECK(f == 3.0f);
    const auto& deltas = a.at("filter_fn.modulation.deltas").data;
    CHECK(deltas.front() == doctest::Approx(std::log(0.01) / 1.5));
    CHECK(deltas.back() == doctest::Approx(std::log(0.01) / 0.3));
}

TEST_CASE("hyena_operator filter: shorter lengths are a prefix of the l_max filter") {
    for (bool normalized : {false, true}) {
        auto cfg = small_config(3);
        cfg.normalized = normalized;
        const auto w = hyenavk::test::to_reference(hyenavk::model::hyena_operator_random_weights(cfg, 3));
        const auto full = ref::hyena_operator_filter(cfg, w, cfg.l_max);
        const std::size_t F = cfg.filter_channels();
        REQUIRE(full.size() == cfg.l_max * F);
        for (uint32_t L : {1u, 7u, 23u}) {
            const auto part = ref::hyena_operator_filter(cfg, w, L);
            REQUIRE(part.size() == L * F);
            CHECK(ref::relative_error(part, std::span<const double>(full).first(L * F)) < 1e-15);
        }
    }
}

TEST_CASE("hyena_operator filter layouts: interleaved is a permutation of blocked") {
    // Order 2 has a single chunk: the layouts cannot differ.
    {
        auto cfg = small_config(2);
        const auto w = hyenavk::test::to_reference(hyenavk::model::hyena_operator_random_weights(cfg, 4));
        const auto x = hyenavk::test::random_input(2 * 17 * cfg.d_model, 8);
        const auto blocked = ref::hyena_operator_forward(cfg, w, x, 2, 17);
        cfg.filter_layout = FilterLayout::Interleaved;
        CHECK(ref::relative_error(ref::hyena_operator_forward(cfg, w, x, 2, 17), blocked) == 0.0);
    }
    // Order 4: permuting the filter channels (last MLP rows, decay rates, skip bias) from the interleaved to
    // the blocked layout leaves the output unchanged, and not permuting them changes it.
    for (bool normalized : {false, true}) {
        auto cfg = small_config(4);
        cfg.normalized = normalized;
        cfg.filter_layout = FilterLayout::Interleaved;
        const auto w = hyenavk::test::to_reference(hyenavk::model::hyena_operator_random_weights(cfg, 9));
        const auto x = hyenavk::test::random_input(2 * 20 * cfg.d_model, 10);
        const auto interleaved = ref::hyena_operator_forward(cfg, w, x, 2, 20);

        const uint64_t D = cfg.d_model, N1 = cfg.order - 1, F = cfg.filter_channels(), W = cfg.filter_order;
        auto permuted = w;
        auto& last = permuted.at("filter_fn.implicit_filter.4.weight").data;
        auto& deltas = permuted.at("filter_fn.modulation.deltas").data;
        auto& skip = permuted.at("filter_fn.bias").data;
        for (uint64_t c = 0; c < F; ++c) {
            const uint64_t to = layout_channel(c, D, N1, FilterLayout::Interleaved);
            for (uint64_t i = 0; i < W; ++i)
                last[to * W + i] = w.at("filter_fn.implicit_filter.4.weight").data[c * W + i];
            deltas[to] = w.at("filter_fn.modulation.deltas").data[c];
            skip[to] = w.at("filter_fn.bias").data[c];
        }
        cfg.filter_layout = FilterLayout::Blocked;
        CHECK(ref::relative_error(ref::hyena_operator_forward(cfg, permuted, x, 2, 20), interleaved) < 1e-12);
        CHECK(ref::relative_error(ref::hyena_operator_forward(cfg, w, x, 2, 20), interleaved) > 1e-3);
    }
}

TEST_CASE("hyena_operator filter: hand-checked modulation and L1 normalisation") {
    // One Sin unit whose pre-activation is pi/2 at every step, so the MLP emits the last layer's column
    // [2, -6]; decay rates [0, ln 2] halve channel 1 at t = 1.
    HyenaOperatorConfig cfg;
    cfg.d_model = 1;
    cfg.order = 3;
    cfg.l_max = 2;
    cfg.emb_dim = 3;
    cfg.filter_order = 1;
    cfg.num_inner_mlps = 0;
    ref::Weights w;
    w["filter_fn.pos_emb.z"] = {{1, 2, 3}, {0.0, 1.0, 0.0, 1.0, 0.5, -0.8}};
    w["filter_fn.pos_emb.t"] = {{1, 2, 1}, {0.0, 1.0}};
    w["filter_fn.implicit_filter.0.weight"] = {{1, 3}, {0.0, 0.0, 0.0}};
    w["filter_fn.implicit_filter.0.bias"] = {{1}, {std::acos(-1.0)}};
    w["filter_fn.implicit_filter.1.freq"] = {{1, 1}, {0.5}};
    w["filter_fn.implicit_filter.2.weight"] = {{2, 1}, {2.0, -6.0}};
    w["filter_fn.modulation.deltas"] = {{1, 1, 2}, {0.0, -std::log(2.0)}};  // |deltas| is what counts

    auto check = [&](bool modulate, bool normalized, double shift, std::vector<double> expected) {
        cfg.modulate = modulate;
        cfg.normalized = normalized;
        cfg.shift = shift;
        const auto h = ref::hyena_operator_filter(cfg, w, 2);
        REQUIRE(h.size() == 4);
        for (std::size_t i = 0; i < 4; ++i) CHECK(h[i] == doctest::Approx(expected[i]).epsilon(1e-12));
    };
    check(false, false, 0.0, {2.0, -6.0, 2.0, -6.0});
    check(false, true, 0.0, {0.25, -0.75, 0.25, -0.75});
    check(true, false, 0.0, {2.0, -6.0, 2.0, -3.0});
    check(true, true, 0.0, {0.25, -0.75, 0.4, -0.6});
    // shift is added to the window: (1 + 1, 1 + 1) at t = 0, (1 + 1, 0.5 + 1) at t = 1.
    check(true, false, 1.0, {4.0, -12.0, 4.0, -9.0});
    check(true, true, 1.0, {0.25, -0.75, 4.0 / 13.0, -9.0 / 13.0});
    // Without modulate the shift is not applied either (safari adds it inside the window).
    check(false, false, 1.0, {2.0, -6.0, 2.0, -6.0});
}

TEST_CASE("hyena_operator reference rejects lengths above l_max and names bad tensors") {
    const auto cfg = small_config(3);
    const auto w = hyenavk::test::to_reference(hyenavk::model::hyena_operator_random_weights(cfg, 1));
    const auto x = hyenavk::test::random_input(25 * cfg.d_model, 2);
    const auto too_long = hyenavk::test::exception_message([&] { ref::hyena_operator_forward(cfg, w, x, 1, 25); });
    CHECK(too_long.find("exceeds l_max 24") != std::string::npos);
    CHECK_THROWS_AS(ref::hyena_operator_filter(cfg, w, 25), std::invalid_argument);
    CHECK_THROWS_AS(ref::hyena_operator_filter(cfg, w, 0), std::invalid_argument);
    CHECK_THROWS_AS(ref::hyena_operator_forward(cfg, w, x, 1, 24), std::invalid_argument);  // wrong x size

    auto missing = w;
    missing.erase("filter_fn.implicit_filter.3.freq");
    const auto msg = hyenavk::test::exception_message([&] { ref::hyena_operator_filter(cfg, missing, 4); });
    CHECK(msg.find("filter_fn.implicit_filter.3.freq") != std::string::npos);
    CHECK(msg.find("[1, 8]") != std::string::npos);

    auto wrong = w;
    wrong.at("short_filter.weight").shape = {24, 3, 1};
    const auto msg2 = hyenavk::test::exception_message(
        [&] { ref::hyena_operator_forward(cfg, wrong, std::span<const double>(x).first(20 * cfg.d_model), 1, 20); });
    CHECK(msg2.find("short_filter.weight") != std::string::npos);
    CHECK(msg2.find("[24, 1, 3]") != std::string::npos);
}
