// A sequence of 2^18 steps through a whole model with filters as long as the sequence, every output against
// the double-precision reference (whose long convolutions are FFTs in double precision), and the device
// memory it held against what was predicted. The same check at 2^20 is bench/long_sequence (by hand).
#include <doctest/doctest.h>

#include <cstdlib>

#include "model/host_weights.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ref/reference.hpp"
#include "ref/striped_hyena.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"
#include "support/reference_helpers.hpp"

using namespace hyenavk;

TEST_SUITE_BEGIN("scale");

TEST_CASE("2^18 steps with 2^18 taps match the FFT reference within 1e-4") {
    uint32_t length = 1u << 18;
    if (const char* env = std::getenv("HYENAVK_SCALE_LENGTH")) length = uint32_t(std::strtoul(env, nullptr, 0));
    StripedHyenaConfig c;
    c.embed_dim = 32;
    c.hidden_size = 32;
    c.num_layers = 2;
    c.window_size = length;  // taps = L
    const auto weights = model::HostWeights::random(model::striped_hyena_tensors(c), 2026);
    const auto x = test::random_floats(size_t(length) * c.embed_dim, 17);

    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    Context ctx = Context::create(options);
    model::StripedHyenaGpu gpu(ctx.impl(), c, weights, Precision::Fp32);
    const uint64_t predicted = gpu.device_bytes(1, length, true);
    const auto out = gpu.forward(x, 1, length, true);
    const uint64_t peak = ctx.impl().memory.stats().peak_reserved;
    const auto expected = ref::striped_hyena_forward(c, test::to_reference(weights), test::to_double(x), 1, length);
    REQUIRE(out.size() == expected.size());
    const double err = ref::relative_error(out, expected);
    MESSAGE("L = " << length << ": relative error " << err << " over " << out.size() << " outputs; device memory peak "
                   << (peak >> 20) << " MiB, predicted " << (predicted >> 20) << " MiB");
    CHECK(err <= 1e-4);
    CHECK(peak <= predicted);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
