// The striped_hyena encoder end to end: the real Edifice's golden outputs, the GPU forward against the
// double-precision reference over configs, model files and their errors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "hyenavk/model.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"
#include "model/host_weights.hpp"
#include "model/hyena_operator_gpu.hpp"
#include "model/hyena_operator_tensors.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ref/hyena_operator.hpp"
#include "ref/reference.hpp"
#include "ref/striped_hyena.hpp"
#include "support/gpu_fixture.hpp"
#include "support/temp_path.hpp"
#include "support/kernel_harness.hpp"
#include "support/reference_helpers.hpp"

using namespace hyenavk;

namespace {

// fp32 through a whole model against double precision (SPEC: `hyenavk check` at fp32).
constexpr double kModelBound = 1e-4;
const std::string kData = HYENAVK_TEST_DATA_DIR;

using test::TempPath;

// Random weights scaled up from Axon's init so that every block contributes visibly to the output.
model::HostWeights test_weights(const StripedHyenaConfig& c, uint64_t seed) {
    return model::HostWeights::random(model::striped_hyena_tensors(c), seed);
}

}  // namespace

TEST_SUITE_BEGIN("model");

TEST_CASE("parameter count at Edifice's defaults") {
    StripedHyenaConfig c = StripedHyenaConfig::recommended_defaults(256);
    CHECK(c.parameter_count() == 4303104);
    c.embed_dim = 287;
    CHECK(c.parameter_count() == 4303104 + 287 * 256 + 256);
    CHECK(c.output_size() == 256);
}

TEST_CASE("config validation names the bad option") {
    StripedHyenaConfig c = StripedHyenaConfig::recommended_defaults(0);
    CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("embed_dim"), Error);
    c.embed_dim = 4;
    c.order = 0;
    CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("order"), Error);
    c.order = 2;
    c.num_layers = 0;
    CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("num_layers"), Error);
}

TEST_CASE("the real Edifice's golden outputs are reproduced") {
    auto& ctx = test::context();
    for (const std::string name : {"tiny", "default"}) {
        CAPTURE(name);
        const std::string dir = kData + "/edifice-golden/" + name;
        Model model = Model::load(ctx, dir + "/model.safetensors");
        const auto x = io::read_npy(dir + "/x.npy");
        REQUIRE(x.shape.size() == 3);
        const auto B = uint32_t(x.shape[0]), L = uint32_t(x.shape[1]);
        const auto last = io::read_npy(dir + "/edifice_last.npy"), full = io::read_npy(dir + "/edifice_full.npy");
        const auto got_last = model.forward(x.f32, B, L), got_full = model.forward(x.f32, B, L, true);
        const double err_last = ref::relative_error(got_last, test::to_double(last.f32));
        const double err_full = ref::relative_error(got_full, test::to_double(full.f32));
        MESSAGE(name << ": relative error " << err_last << " (last step), " << err_full << " (full sequence)");
        CHECK(err_last <= kModelBound);
        CHECK(err_full <= kModelBound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("GPU forward equals the double-precision reference over configs") {
    auto& ctx = test::context().impl();
    struct Case {
        uint32_t embed, hidden, order, layers, window, batch, length;
    };
    const Case cases[] = {
        {6, 8, 1, 1, 5, 1, 5},     // order 1, one Hyena block only
        {8, 8, 2, 2, 7, 2, 7},     // E == H: no input projection
        {5, 12, 3, 3, 9, 1, 4},    // order 3, L < Ls
        {7, 8, 2, 4, 6, 3, 13},    // L > Ls, B > 1
        {3, 16, 2, 5, 16, 2, 16},  // five blocks, L == Ls
        {9, 8, 3, 3, 1, 1, 3},     // a single tap
    };
    for (const Case& k : cases) {
        CAPTURE(k.order);
        CAPTURE(k.layers);
        CAPTURE(k.length);
        StripedHyenaConfig c;
        c.embed_dim = k.embed;
        c.hidden_size = k.hidden;
        c.order = k.order;
        c.num_layers = k.layers;
        c.window_size = k.window;
        c.filter_size = 6;
        c.conv_kernel_size = 3;
        const auto weights = test_weights(c, 100 + k.layers);
        model::StripedHyenaGpu gpu(ctx, c, weights, Precision::Fp32);
        const auto x = test::random_floats(size_t(k.batch) * k.length * k.embed, 7);
        const auto expected =
            ref::striped_hyena_forward(c, test::to_reference(weights), test::to_double(x), k.batch, k.length);
        CHECK(ref::relative_error(gpu.forward(x, k.batch, k.length, true), expected) <= kModelBound);
        // The last step alone, from the plan that skips the final norm on the other steps.
        std::vector<double> last;
        for (uint32_t b = 0; b < k.batch; ++b)
            last.insert(last.end(), expected.begin() + (uint64_t(b) * k.length + k.length - 1) * k.hidden,
                        expected.begin() + (uint64_t(b) * k.length + k.length) * k.hidden);
        CHECK(ref::relative_error(gpu.forward(x, k.batch, k.length, false), last) <= kModelBound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("a model file round trip keeps its config and weights") {
    auto& ctx = test::context();
    TempPath file("roundtrip.safetensors");
    write_random_model(file.str(), R"({"arch": "striped_hyena", "embed_dim": 5, "hidden_size": 8, "num_layers": 2,
                                       "window_size": 4, "filter_size": 3})",
                       42);
    Model model = Model::load(ctx, file.str());
    CHECK(model.input_features() == 5);
    CHECK(model.output_features() == 8);
    CHECK(model.default_length() == 4);
    io::SafetensorsFile f(file.str());
    StripedHyenaConfig c;
    c.embed_dim = 5;
    c.hidden_size = 8;
    c.num_layers = 2;
    c.window_size = 4;
    c.filter_size = 3;
    CHECK(f.names().size() == model::striped_hyena_tensors(c).size());
    CHECK(model.parameter_count() == c.parameter_count());
    // Axon's init: biases zero, kernels inside the glorot limit and not all zero.
    const auto bias = f.read_f32("hyena_block_1_proj.bias");
    CHECK(std::all_of(bias.begin(), bias.end(), [](float v) { return v == 0.0f; }));
    const auto kernel = f.read_f32("hyena_block_1_proj.kernel");
    const float limit = std::sqrt(6.0f / (8 + 24));
    CHECK(std::all_of(kernel.begin(), kernel.end(), [limit](float v) { return std::abs(v) <= limit; }));
    CHECK(std::any_of(kernel.begin(), kernel.end(), [](float v) { return v != 0.0f; }));
    // Same seed, same model.
    TempPath again("roundtrip2.safetensors");
    write_random_model(again.str(), model.config_json(), 42);
    CHECK(io::SafetensorsFile(again.str()).read_f32("hyena_block_1_proj.kernel") == kernel);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("bad model files and inputs give errors that name the problem") {
    auto& ctx = test::context();
    StripedHyenaConfig c;
    c.embed_dim = 4;
    c.hidden_size = 8;
    c.num_layers = 1;
    c.window_size = 3;
    c.filter_size = 2;
    const auto weights = test_weights(c, 1);
    auto write = [&](const std::string& path, const std::function<void(std::vector<io::TensorToWrite>&)>& edit,
                     const std::string& config) {
        std::vector<io::TensorToWrite> tensors;
        for (const auto& [name, t] : weights.all()) tensors.push_back({name, t.shape, t.data});
        edit(tensors);
        io::write_safetensors(path, tensors, {{"config", config}});
    };
    const std::string config = R"({"arch": "striped_hyena", "embed_dim": 4, "hidden_size": 8, "num_layers": 1,
                                   "window_size": 3, "filter_size": 2})";
    TempPath file("bad.safetensors");

    write(file.str(), [](auto& t) { t.erase(t.begin()); }, config);
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str()), doctest::Contains("missing tensor 'final_norm.beta'"), Error);

    std::vector<float> extra(3, 0.0f);
    write(file.str(), [&](auto& t) { t.push_back({"stray.weight", {3}, extra}); }, config);
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str()), doctest::Contains("unexpected tensor 'stray.weight'"), Error);

    write(file.str(), [](auto& t) { t[0].shape = {2, 4}; }, config);
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str()), doctest::Contains("expected [8]"), Error);

    write(file.str(), [](auto&) {}, R"({"arch": "striped_hyena", "embed_dim": 4, "hidden_size": 8, "colour": 3})");
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str()), doctest::Contains("unknown key 'colour'"), Error);

    std::vector<float> poisoned = weights.at("final_norm.gamma").data;
    poisoned[5] = NAN;
    write(file.str(), [&](auto& t) {
        for (auto& w : t) if (w.name == "final_norm.gamma") w.data = poisoned;
    }, config);
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str()), doctest::Contains("'final_norm.gamma' holds NaN at flat index 5"),
                         Error);
    LoadOptions unchecked;
    unchecked.check_finite = false;
    CHECK_NOTHROW(Model::load(ctx, file.str(), unchecked));

    write(file.str(), [](auto&) {}, config);
    Model model = Model::load(ctx, file.str());
    std::vector<float> x(2 * 3 * 4, 0.5f);
    x[1 * 12 + 2 * 4 + 3] = INFINITY;
    CHECK_THROWS_WITH_AS(model.forward(x, 2, 3), doctest::Contains("Inf at [1, 2, 3]"), Error);
    CHECK_THROWS_WITH_AS(model.forward(x, 2, 4), doctest::Contains("needs"), Error);
    CHECK_THROWS_WITH_AS(model.forward({}, 0, 3), doctest::Contains("must be >= 1"), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();

TEST_SUITE_BEGIN("model");

TEST_CASE("safari's HyenaOperator golden outputs are reproduced") {
    auto& ctx = test::context();
    for (const std::string name : {"order2", "order3"}) {
        CAPTURE(name);
        const std::string dir = kData + "/safari-golden/" + name;
        std::ifstream config_file(dir + "/config.json");
        const std::string config((std::istreambuf_iterator<char>(config_file)), std::istreambuf_iterator<char>());
        Model model = Model::load(ctx, dir + "/model.safetensors", LoadOptions{config, true});
        const auto x = io::read_npy(dir + "/x.npy");
        const auto expected = io::read_npy(dir + "/ref.npy");
        const auto B = uint32_t(x.shape[0]), L = uint32_t(x.shape[1]);
        const auto y = model.forward(x.f32, B, L);
        CHECK(model.output_shape(B, L) == x.shape);
        const double err = ref::relative_error(y, test::to_double(expected.f32));
        MESSAGE(name << ": relative error " << err);
        CHECK(err <= kModelBound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("hyena_operator on the GPU equals the double-precision reference over configs") {
    auto& ctx = test::context().impl();
    struct Case {
        uint32_t d_model, l_max, order, emb_dim, inner;
        bool modulate, normalized;
        FilterLayout layout;
        uint32_t batch, length;
    };
    const Case cases[] = {
        {16, 64, 2, 3, 2, true, false, FilterLayout::Blocked, 2, 64},
        {12, 50, 3, 5, 1, false, true, FilterLayout::Interleaved, 1, 37},
        {8, 40, 4, 3, 2, true, true, FilterLayout::Blocked, 3, 1},
        {8, 40, 4, 5, 1, true, false, FilterLayout::Interleaved, 1, 40},
        {20, 33, 3, 3, 2, false, false, FilterLayout::Blocked, 2, 17},
    };
    for (const Case& k : cases) {
        CAPTURE(k.order);
        CAPTURE(k.length);
        CAPTURE(k.normalized);
        HyenaOperatorConfig c;
        c.d_model = k.d_model;
        c.l_max = k.l_max;
        c.order = k.order;
        c.emb_dim = k.emb_dim;
        c.num_inner_mlps = k.inner;
        c.filter_order = 16;
        c.modulate = k.modulate;
        c.normalized = k.normalized;
        c.filter_layout = k.layout;
        c.shift = k.modulate ? 0.05 : 0.0;
        const auto weights = model::hyena_operator_random_weights(c, 7 + k.order);
        model::HyenaOperatorGpu gpu(ctx, c, weights, Precision::Fp32);
        const auto x = test::random_floats(size_t(k.batch) * k.length * k.d_model, 9);
        const auto expected =
            ref::hyena_operator_forward(c, test::to_reference(weights), test::to_double(x), k.batch, k.length);
        CHECK(ref::relative_error(gpu.forward(x, k.batch, k.length, true), expected) <= kModelBound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("hyena_operator: inputs longer than l_max and unsupported safari options are refused by name") {
    auto& ctx = test::context();
    TempPath file("op.safetensors");
    write_random_model(file.str(), R"({"arch": "hyena_operator", "d_model": 8, "l_max": 10, "filter_order": 4})", 1);
    Model model = Model::load(ctx, file.str());
    std::vector<float> x(11 * 8, 0.1f);
    CHECK_THROWS_WITH_AS(model.forward(x, 1, 11), doctest::Contains("longer than the model's l_max = 10"), Error);
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str(), LoadOptions{R"({"num_heads": 4})", true}),
                         doctest::Contains("'num_heads' = 4 is not supported"), Error);
    CHECK_THROWS_WITH_AS(Model::load(ctx, file.str(), LoadOptions{R"({"order": 1})", true}),
                         doctest::Contains("order must be >= 2"), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
