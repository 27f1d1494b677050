// hyena_operator's storage and memory: fp16 storage against safari's golden outputs and the double-precision
// reference, the FFT in channel groups under a small storage-buffer range, the device memory a forward
// holds against the prediction, the budget, and the cache of planned shapes.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "hyenavk/model.hpp"
#include "io/npy.hpp"
#include "model/host_weights.hpp"
#include "model/hyena_operator_gpu.hpp"
#include "model/hyena_operator_tensors.hpp"
#include "ref/hyena_operator.hpp"
#include "ref/reference.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"
#include "support/reference_helpers.hpp"

using namespace hyenavk;

namespace {

constexpr double kFp32Bound = 1e-4;  // fp32 through a whole model (SPEC.md)
// fp16 storage: weights and every stored activation rounded to 11 significant bits; SPEC.md's bound.
constexpr double kFp16Bound = 1e-2;
const std::string kData = HYENAVK_TEST_DATA_DIR;

HyenaOperatorConfig op_config(uint32_t d_model, uint32_t l_max, uint32_t order, FilterLayout layout, bool normalized) {
    HyenaOperatorConfig c;
    c.d_model = d_model;
    c.l_max = l_max;
    c.order = order;
    c.emb_dim = 3;
    c.num_inner_mlps = 1;
    c.filter_order = 16;
    c.modulate = true;
    c.shift = 0.05;
    c.normalized = normalized;
    c.filter_layout = layout;
    return c;
}

Context validated_context(const CapsClamp& clamp = {}, uint64_t budget = 0) {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp = clamp;
    options.memory_budget_bytes = budget;
    return Context::create(options);
}

double forward_error(model::HyenaOperatorGpu& gpu, const HyenaOperatorConfig& c, const model::HostWeights& weights,
                     uint32_t batch, uint32_t length, uint64_t seed) {
    const auto x = test::random_floats(size_t(batch) * length * c.d_model, seed);
    const auto expected = ref::hyena_operator_forward(c, test::to_reference(weights), test::to_double(x), batch, length);
    return ref::relative_error(gpu.forward(x, batch, length, true), expected);
}

uint64_t resident(const Context& ctx) {
    const gpu::MemoryStats st = ctx.impl().memory.stats();
    return st.reserved[int(gpu::Lifetime::Weights)] + st.reserved[int(gpu::Lifetime::Staging)];
}

}  // namespace

TEST_SUITE_BEGIN("model");

TEST_CASE("hyena_operator at fp16: safari's golden outputs and the reference within the fp16 bound") {
    auto& ctx = test::context();
    if (!ctx.device().caps.storage_buffer_16bit) {
        MESSAGE("the device has no 16-bit storage buffers; fp16 must be refused by name");
        const auto c = op_config(8, 16, 2, FilterLayout::Blocked, false);
        CHECK_THROWS_WITH_AS(model::HyenaOperatorGpu(ctx.impl(), c, model::hyena_operator_random_weights(c, 1),
                                                     Precision::Fp16),
                             doctest::Contains("storageBuffer16BitAccess"), Error);
        return;
    }
    for (const std::string name : {"order2", "order3"}) {
        CAPTURE(name);
        const std::string dir = kData + "/safari-golden/" + name;
        std::ifstream config_file(dir + "/config.json");
        const std::string config((std::istreambuf_iterator<char>(config_file)), std::istreambuf_iterator<char>());
        Model model = Model::load(ctx, dir + "/model.safetensors", LoadOptions{config, true, Precision::Fp16});
        const auto x = io::read_npy(dir + "/x.npy");
        const auto expected = io::read_npy(dir + "/ref.npy");
        const auto B = uint32_t(x.shape[0]), L = uint32_t(x.shape[1]);
        const double err = ref::relative_error(model.forward(x.f32, B, L), test::to_double(expected.f32));
        MESSAGE(name << " at fp16: relative error " << err);
        CHECK(err <= kFp16Bound);
    }
    struct Case {
        uint32_t d_model, order;
        FilterLayout layout;
        bool normalized;
        uint32_t batch, length;
    };
    for (const Case& k : {Case{16, 2, FilterLayout::Blocked, false, 2, 64}, Case{12, 3, FilterLayout::Interleaved, true, 1, 37},
                          Case{8, 4, FilterLayout::Blocked, true, 3, 20}}) {
        CAPTURE(k.order);
        const auto c = op_config(k.d_model, 64, k.order, k.layout, k.normalized);
        const auto weights = model::hyena_operator_random_weights(c, 3 + k.order);
        model::HyenaOperatorGpu half(ctx.impl(), c, weights, Precision::Fp16);
        const double err = forward_error(half, c, weights, k.batch, k.length, 17);
        MESSAGE("random operator, order " << k.order << ", at fp16: relative error " << err);
        CHECK(err <= kFp16Bound);
        model::HyenaOperatorGpu full(ctx.impl(), c, weights, Precision::Fp32);
        const auto l16 = half.layout(k.batch, k.length, ~0ull), l32 = full.layout(k.batch, k.length, ~0ull);
        CHECK(l16.activation_bytes * 2 <= l32.activation_bytes + 2 * 256 * (k.order + 3));
        CHECK(l16.spectra_bytes == l32.spectra_bytes);  // spectra are fp32 either way
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("hyena_operator: the FFT in channel groups under a small storage-buffer range") {
    // [B * L, D] = [128, 16] fp32 tensors of 8 KiB fit an 8 KiB range; the FFT rows of all 16 channels
    // (2 x 16 rows of 130 floats) do not, so they go in groups.
    CapsClamp clamp;
    clamp.max_storage_buffer_range = 8192;
    Context ctx = validated_context(clamp);
    for (const FilterLayout layout : {FilterLayout::Blocked, FilterLayout::Interleaved}) {
        const auto c = op_config(16, 64, 2, layout, layout == FilterLayout::Interleaved);
        const auto weights = model::hyena_operator_random_weights(c, 5);
        model::HyenaOperatorGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
        const auto plan = gpu.layout(2, 64, ~0ull);
        MESSAGE("channel groups of " << plan.group_channels << ", " << plan.groups << " groups");
        CHECK(plan.groups > 1);
        CHECK(gpu.memory_plan(2, 64, true).fft_channel_group == plan.group_channels);
        const double err = forward_error(gpu, c, weights, 2, 64, 23);
        MESSAGE("fp32 in groups: relative error " << err);
        CHECK(err <= kFp32Bound);
        if (ctx.device().caps.storage_buffer_16bit) {
            model::HyenaOperatorGpu half(ctx.impl(), c, weights, Precision::Fp16);
            CHECK(half.layout(2, 64, ~0ull).groups > 1);
            CHECK(forward_error(half, c, weights, 2, 64, 23) <= kFp16Bound);
        }
        // Whole tensors beyond the range are refused by name, before anything is planned.
        CHECK_THROWS_WITH_AS(gpu.forward(test::random_floats(size_t(4) * 64 * 16, 1), 4, 64, true),
                             doctest::Contains("maxStorageBufferRange"), Error);
        CHECK(gpu.cached_shapes() == 1);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("hyena_operator: a forward holds no more device memory than predicted, within the budget") {
    const auto c = op_config(16, 256, 3, FilterLayout::Blocked, false);
    const auto weights = model::hyena_operator_random_weights(c, 8);
    const uint32_t B = 2, L = 256;
    uint64_t roomy = 0, weights_bytes = 0;
    {
        Context ctx = validated_context();
        model::HyenaOperatorGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
        weights_bytes = resident(ctx);
        roomy = gpu.device_bytes(B, L, true);
        const auto plan = gpu.layout(B, L, ~0ull);
        CHECK(plan.group_channels == c.d_model);
        CHECK(roomy == weights_bytes + plan.total());
        CHECK(forward_error(gpu, c, weights, B, L, 31) <= kFp32Bound);
        const uint64_t peak = ctx.impl().memory.stats().peak_reserved;
        MESSAGE("predicted " << roomy << " bytes, peak " << peak);
        CHECK(peak <= roomy);
        CHECK(peak + 4096 > roomy);  // the prediction is the peak, not a loose bound
    }
    {
        // One byte short of the widest group: narrower groups, a smaller workspace, within the budget.
        const uint64_t budget = roomy - 1;
        Context ctx = validated_context({}, budget);
        model::HyenaOperatorGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
        const uint64_t predicted = gpu.device_bytes(B, L, true);
        CHECK(predicted <= budget);
        CHECK(gpu.memory_plan(B, L, true).fft_channel_group < c.d_model);
        CHECK(forward_error(gpu, c, weights, B, L, 31) <= kFp32Bound);
        CHECK(ctx.impl().memory.stats().peak_reserved <= predicted);
    }
    {
        // Too small for any plan: a clear error naming the budget, before anything is allocated.
        Context ctx = validated_context({}, weights_bytes + 4096);
        model::HyenaOperatorGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
        CHECK_THROWS_WITH_AS(gpu.device_bytes(B, L, true), doctest::Contains("budget"), Error);
        const auto x = test::random_floats(size_t(B) * L * c.d_model, 2);
        try {
            gpu.forward(x, B, L, true);
            FAIL("the forward should not fit the budget");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::OutOfMemory);
            CHECK(std::string(e.what()).find("budget") != std::string::npos);
        }
        CHECK(ctx.impl().memory.stats().reserved[int(gpu::Lifetime::Activations)] == 0);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("hyena_operator keeps four planned shapes and gives others' memory to a shape that needs it") {
    const auto c = op_config(8, 64, 2, FilterLayout::Interleaved, false);
    const auto weights = model::hyena_operator_random_weights(c, 12);
    uint64_t need_small = 0, need_large = 0;
    {
        Context ctx = validated_context();
        model::HyenaOperatorGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
        for (uint32_t length : {16u, 24u, 32u, 40u, 48u, 16u}) {
            CAPTURE(length);
            CHECK(forward_error(gpu, c, weights, 1, length, length) <= kFp32Bound);
            CHECK(gpu.cached_shapes() <= model::HyenaOperatorGpu::kMaxCachedShapes);
        }
        CHECK(gpu.cached_shapes() == model::HyenaOperatorGpu::kMaxCachedShapes);
        need_small = gpu.device_bytes(1, 64, true);
        need_large = gpu.device_bytes(3, 64, true);
    }
    {
        // Room for the larger shape alone: planning it drops the smaller one.
        Context ctx = validated_context({}, need_large);
        model::HyenaOperatorGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
        CHECK(need_small < need_large);
        CHECK(forward_error(gpu, c, weights, 1, 64, 3) <= kFp32Bound);
        CHECK(forward_error(gpu, c, weights, 3, 64, 4) <= kFp32Bound);
        CHECK(gpu.cached_shapes() == 1);
        CHECK(ctx.impl().memory.stats().peak_reserved <= need_large);
        CHECK(forward_error(gpu, c, weights, 1, 64, 5) <= kFp32Bound);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
