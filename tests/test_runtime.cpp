// The Vulkan runtime: devices, contexts (own and borrowed), memory, transfers, pipelines and the recorder's
// barrier placement, all under the validation layer.
#include <doctest/doctest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "core/context_impl.hpp"
#include "gpu/device_probe.hpp"
#include "gpu/recorder.hpp"
#include "support/gpu_fixture.hpp"

using namespace hyenavk;

namespace {

// out = a * factor over n floats, through the element-wise kernel (it declares out, a, b and c; b and c are
// bound to a, unused). The op is the kernel's specialization constant 0.
constexpr uint32_t kScaleSpec[] = {7 /* OP_SCALE */, 0};
struct ScalePush {
    uint32_t rows, cols, unused;
    float scalar;
    uint32_t out_view[4], a_view[4], b_view[4], c_view[4];
};

ScalePush scale_push(uint32_t n, float factor) {
    ScalePush p{};
    p.rows = 1;
    p.cols = n;
    p.scalar = factor;
    p.out_view[2] = p.a_view[2] = p.b_view[2] = p.c_view[2] = 1;
    return p;
}

}  // namespace

TEST_SUITE_BEGIN("runtime");

TEST_CASE("list_devices finds a Vulkan 1.1 device with sane limits") {
    InstanceOptions options;
    options.validation = true;
    options.log = test::counting_log();
    const auto devices = list_devices(options);
    REQUIRE(!devices.empty());
    for (const auto& d : devices) {
        CHECK(!d.name.empty());
        CHECK(d.caps.api_version >= VK_API_VERSION_1_1);
        CHECK(d.caps.max_storage_buffer_range >= (1u << 27) - 1);  // Vulkan requires at least 2^27
        CHECK(d.caps.max_workgroup_invocations >= 128);
        CHECK(d.caps.max_push_constants_size >= 128);
        CHECK(d.caps.subgroup_size >= 1);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("device selection by index, name and ambiguity") {
    std::vector<DeviceInfo> devices(3);
    devices[0] = {0, "llvmpipe (LLVM 15)", DeviceType::Cpu};
    devices[1] = {1, "AMD Radeon RX 7900", DeviceType::DiscreteGpu};
    devices[2] = {2, "AMD Radeon Graphics", DeviceType::IntegratedGpu};
    CHECK(gpu::choose_device(devices, "") == 1);  // discrete first
    CHECK(gpu::choose_device(devices, "2") == 2);
    CHECK(gpu::choose_device(devices, "LLVMPIPE") == 0);
    CHECK(gpu::choose_device(devices, "7900") == 1);
    CHECK_THROWS_WITH_AS(gpu::choose_device(devices, "radeon"), doctest::Contains("more than one"), Error);
    CHECK_THROWS_WITH_AS(gpu::choose_device(devices, "nvidia"), doctest::Contains("no device name contains"), Error);
    CHECK_THROWS_WITH_AS(gpu::choose_device(devices, "4"), doctest::Contains("no device with index 4"), Error);
    CHECK(gpu::choose_device(devices, "7") == 1);  // not an index here, so a name match
    devices.erase(devices.begin() + 1);
    CHECK(gpu::choose_device(devices, "") == 1);  // integrated before CPU
}

TEST_CASE("caps clamp only tightens") {
    DeviceCaps caps;
    caps.max_storage_buffer_range = 1000;
    caps.max_memory_allocation_size = 5000;
    caps.storage_buffer_16bit = caps.shader_float16 = true;
    caps.subgroup_arithmetic = true;
    CapsClamp clamp;
    clamp.max_storage_buffer_range = 500;
    clamp.max_memory_allocation_size = 9000;  // looser than the device: ignored
    clamp.disable_16bit = true;
    clamp.disable_subgroup_ops = true;
    gpu::apply_clamp(caps, clamp);
    CHECK(caps.max_storage_buffer_range == 500);
    CHECK(caps.max_memory_allocation_size == 5000);
    CHECK(!caps.storage_buffer_16bit);
    CHECK(!caps.shader_float16);
    CHECK(!caps.subgroup_arithmetic);
}

TEST_CASE("memory pools sub-allocate, align, reuse and report") {
    auto& impl = test::context().impl();
    const VkDeviceSize align = impl.device->caps().min_storage_buffer_offset_alignment;
    const auto before = impl.memory.stats();
    {
        auto a = impl.memory.allocate(gpu::Lifetime::Activations, 1000);
        auto b = impl.memory.allocate(gpu::Lifetime::Activations, 3000);
        CHECK(a.slice().buffer == b.slice().buffer);  // one block, two ranges
        CHECK(a.slice().offset % align == 0);
        CHECK(b.slice().offset % align == 0);
        CHECK((b.slice().offset >= a.slice().offset + 1000 || a.slice().offset >= b.slice().offset + 3000));
        CHECK(impl.memory.stats().used[1] >= before.used[1] + 4000);
    }
    CHECK(impl.memory.stats().used[1] == before.used[1]);
    // Freed space coalesces: a request as large as both fits where they were, without a new block.
    const auto reserved = impl.memory.stats().reserved[1];
    auto c = impl.memory.allocate(gpu::Lifetime::Activations, 4000);
    CHECK(impl.memory.stats().reserved[1] == reserved);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("allocation beyond the device's allocation size is a clear error") {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.max_memory_allocation_size = 1 << 20;
    Context ctx = Context::create(options);
    CHECK(ctx.device().caps.max_memory_allocation_size == (1 << 20));
    CHECK_THROWS_WITH_AS(ctx.impl().memory.allocate(gpu::Lifetime::Activations, 2 << 20),
                         doctest::Contains("maxMemoryAllocationSize"), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("upload and download round trip, direct and through staging") {
    auto& impl = test::context().impl();
    std::vector<float> data(3 * gpu::Transfer::kChunk / sizeof(float) + 17);  // spans several staging chunks
    std::iota(data.begin(), data.end(), 0.5f);
    for (auto lifetime : {gpu::Lifetime::Activations, gpu::Lifetime::Staging}) {
        auto buffer = impl.memory.allocate(lifetime, data.size() * sizeof(float));
        impl.transfer.upload(buffer, 0, data.data(), data.size() * sizeof(float));
        std::vector<float> back(data.size(), -1.0f);
        impl.transfer.download(buffer, 0, back.data(), back.size() * sizeof(float));
        CHECK(std::memcmp(back.data(), data.data(), data.size() * sizeof(float)) == 0);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("recorder: barriers only between conflicting accesses, plans replay, pipelines are reused") {
    auto& impl = test::context().impl();
    const uint32_t n = 1000;
    auto x = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    auto y = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    auto z = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    auto w = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    std::vector<float> ones(n, 1.0f);
    impl.transfer.upload(x, 0, ones.data(), n * 4);

    gpu::Recorder rec(*impl.device, impl.pipelines);
    const auto p2 = scale_push(n, 2.0f), p3 = scale_push(n, 3.0f), p5 = scale_push(n, 5.0f);
    using gpu::Access;
    rec.dispatch("elementwise", kScaleSpec, {{y.slice(), Access::Write}, {x.slice(), Access::Read}, {x.slice(), Access::Read}, {x.slice(), Access::Read}}, p2, {4, 1, 1});
    rec.dispatch("elementwise", kScaleSpec, {{z.slice(), Access::Write}, {x.slice(), Access::Read}, {x.slice(), Access::Read}, {x.slice(), Access::Read}}, p3, {4, 1, 1});
    // Two reads of x and writes to distinct buffers: independent, no barrier so far.
    rec.dispatch("elementwise", kScaleSpec, {{w.slice(), Access::Write}, {y.slice(), Access::Read}, {y.slice(), Access::Read}, {y.slice(), Access::Read}}, p5, {4, 1, 1});
    // Reads y written above: read after write needs one barrier.
    rec.dispatch("elementwise", kScaleSpec, {{x.slice(), Access::Write}, {z.slice(), Access::Read}, {z.slice(), Access::Read}, {z.slice(), Access::Read}}, p5, {4, 1, 1});
    // Writes x that the first two dispatches read: covered by the barrier just placed (reads were cleared).
    gpu::Plan plan = rec.finish();
    CHECK(plan.dispatch_count() == 4);
    CHECK(plan.barrier_count() == 1);
    const size_t pipelines = impl.pipelines.created_count();

    for (int replay = 0; replay < 2; ++replay) {
        impl.transfer.upload(x, 0, ones.data(), n * 4);
        plan.submit();
        std::vector<float> wv(n), xv(n);
        impl.transfer.download(w, 0, wv.data(), n * 4);
        impl.transfer.download(x, 0, xv.data(), n * 4);
        CHECK(wv[0] == 10.0f);
        CHECK(wv[n - 1] == 10.0f);
        CHECK(xv[n / 2] == 15.0f);
    }
    CHECK(impl.pipelines.created_count() == pipelines);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("write after read gets a barrier") {
    auto& impl = test::context().impl();
    const uint32_t n = 64;
    auto x = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    auto y = impl.memory.allocate(gpu::Lifetime::Activations, n * 4);
    gpu::Recorder rec(*impl.device, impl.pipelines);
    using gpu::Access;
    rec.fill(x.slice(), 0);
    rec.dispatch("elementwise", kScaleSpec, {{y.slice(), Access::Write}, {x.slice(), Access::Read}, {x.slice(), Access::Read}, {x.slice(), Access::Read}}, scale_push(n, 1), {1, 1, 1});
    rec.fill(x.slice(), 0);  // WAR on x, WAW with the first fill
    gpu::Plan plan = rec.finish();
    CHECK(plan.barrier_count() == 2);
    plan.submit();
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("a slice beyond the storage-buffer range is rejected by name") {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.clamp.max_storage_buffer_range = 4096;
    Context ctx = Context::create(options);
    auto& impl = ctx.impl();
    auto big = impl.memory.allocate(gpu::Lifetime::Activations, 8192);
    gpu::Recorder rec(*impl.device, impl.pipelines);
    CHECK_THROWS_WITH_AS(rec.dispatch("elementwise", kScaleSpec, {{big.slice(), gpu::Access::Write}, {big.slice(), gpu::Access::Read}}, scale_push(2048, 1),
                                      {1, 1, 1}),
                         doctest::Contains("maxStorageBufferRange"), Error);
    CHECK_THROWS_WITH_AS(impl.pipelines.get("no_such_kernel"), doctest::Contains("no_such_kernel"), Error);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
