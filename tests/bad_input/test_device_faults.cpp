// The catalogue, part 3: sizes beyond the device's limits, a device that runs out of memory (through the
// memory budget and through an injected allocation failure) and a lost device (injected). Each is reported by
// name; a lost context fails every later call cleanly, its objects can still be destroyed without leaks, and
// a new context works.
#include <cmath>
#include <vector>

#include "bad_input/catalogue.hpp"
#include "hyenavk/diagnostics.hpp"
#include "hyenavk/hyenavk.h"
#include "hyenavk/stream.hpp"
#include "support/gpu_fixture.hpp"
#include "support/temp_path.hpp"

namespace hyenavk::test {
namespace {

// One forward of the tiny model from and to host memory.
struct HostForward {
    std::vector<float> input = tiny_frames(kTinyWindow);
    std::vector<float> output = std::vector<float>(kTinyOutputs);
    ForwardRequest request;
    HostForward(const HostForward&) = delete;
    HostForward() {
        request.length = kTinyWindow;
        request.input = input;
        request.output = output;
    }
};

// The reference output of the tiny model on tiny_frames(kTinyWindow), from a healthy context.
std::vector<float> healthy_output(const std::string& path) {
    OwnContext ctx;
    Model model = Model::load(*ctx, path);
    return model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow);
}

}  // namespace

TEST_SUITE_BEGIN("bad_input");

TEST_CASE("sizes beyond the device's limits and the memory budget are refused before anything is allocated") {
    TempPath file("limits-model.safetensors");
    ModelParts::tiny().write(file.str());

    SUBCASE("a length or batch no device could hold") {
        OwnContext ctx;
        Model model = Model::load(*ctx, file.str());
        expect_error(ErrorCode::DeviceLimit, "L = 4294967295 needs", [&] { model.prepare(1, 0xffffffffu); });
        expect_error(ErrorCode::DeviceLimit, "B = 4294967295, L = 6 needs", [&] { model.prepare(0xffffffffu, kTinyWindow); });
        expect_error(ErrorCode::DeviceLimit, "storage-buffer range", [&] { model.memory_plan(65536, 65536); });
        CHECK(model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow).size() == kTinyOutputs);
    }
    SUBCASE("a memory budget smaller than the weights") {
        ContextOptions options;
        options.memory_budget_bytes = 4096;
        OwnContext ctx(options);
        expect_error(ErrorCode::OutOfMemory, "budget", [&] { Model::load(*ctx, file.str()); });
    }
    SUBCASE("a memory budget that holds the weights but not a long forward") {
        ContextOptions options;
        options.memory_budget_bytes = 256 << 10;
        OwnContext ctx(options);
        Model model = Model::load(*ctx, file.str());
        expect_error(ErrorCode::OutOfMemory, "budget", [&] { model.prepare(16, 8192); });
        CHECK(model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow).size() == kTinyOutputs);
    }
    SUBCASE("a storage-buffer range too small for one weight row") {
        ContextOptions options;
        options.clamp.max_storage_buffer_range = 64;
        OwnContext ctx(options);
        expect_error(ErrorCode::DeviceLimit, "maxStorageBufferRange", [&] {
            Model model = Model::load(*ctx, file.str());
            model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow);
        });
    }
}

TEST_CASE("an injected allocation failure is reported and the context stays usable") {
    TempPath file("oom-model.safetensors");
    ModelParts::tiny().write(file.str());
    const std::vector<float> expected = healthy_output(file.str());
    OwnContext ctx;

    inject_fault(*ctx, InjectedFault::OutOfDeviceMemory);
    expect_error(ErrorCode::OutOfMemory, "device memory exhausted", [&] { Model::load(*ctx, file.str()); });
    Model model = Model::load(*ctx, file.str());

    // A new shape needs new memory: its first forward fails, and no half-built plan is left behind.
    inject_fault(*ctx, InjectedFault::OutOfDeviceMemory);
    expect_error(ErrorCode::OutOfMemory, "device memory exhausted",
                 [&] { model.forward(tiny_frames(64 * kTinyWindow), 64, kTinyWindow); });
    CHECK(model.forward(tiny_frames(64 * kTinyWindow), 64, kTinyWindow).size() == 64 * kTinyOutputs);
    CHECK(model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow) == expected);
}

TEST_CASE("an injected lost device: reported, every later call fails cleanly, a new context works") {
    TempPath file("lost-model.safetensors");
    ModelParts::tiny().write(file.str());
    const std::vector<float> expected = healthy_output(file.str());

    SUBCASE("lost during a forward") {
        OwnContext ctx;
        Model model = Model::load(*ctx, file.str());
        StreamSet set = StreamSet::create(model);
        CHECK(model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow) == expected);
        inject_fault(*ctx, InjectedFault::DeviceLost);
        expect_error(ErrorCode::DeviceLost, "VK_ERROR_DEVICE_LOST",
                     [&] { model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow); });
        // Everything that needs the device now says so, on every object of the context.
        expect_error(ErrorCode::DeviceLost, "lost", [&] { model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { model.forward(tiny_frames(3), 1, 3); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { set.push(tiny_frames(1)); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { set.save(0); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { Model::load(*ctx, file.str()); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { StreamSet::create(model); });
        HostForward forward;
        expect_error(ErrorCode::DeviceLost, "lost", [&] { model.submit(forward.request).wait(); });
        CHECK_NOTHROW(model.wait_idle());
        // OwnContext's destructor checks that destroying the lost context leaks nothing.
    }
    SUBCASE("lost during a stream push") {
        OwnContext ctx;
        Model model = Model::load(*ctx, file.str());
        StreamOptions two;
        two.streams = 2;
        StreamSet set = StreamSet::create(model, two);
        set.push(tiny_frames(2));
        inject_fault(*ctx, InjectedFault::DeviceLost);
        expect_error(ErrorCode::DeviceLost, "VK_ERROR_DEVICE_LOST", [&] { set.push(tiny_frames(2)); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { set.push(tiny_frames(2)); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow); });
    }
    SUBCASE("lost during an asynchronous submit") {
        OwnContext ctx;
        Model model = Model::load(*ctx, file.str());
        model.prepare(1, kTinyWindow);
        inject_fault(*ctx, InjectedFault::DeviceLost);
        HostForward forward;
        expect_error(ErrorCode::DeviceLost, "VK_ERROR_DEVICE_LOST", [&] { model.submit(forward.request).wait(); });
        expect_error(ErrorCode::DeviceLost, "lost", [&] { model.submit(forward.request).wait(); });
    }
    SUBCASE("lost, through the C API") {
        hyenavk_context c = counted_c_context();
        hyenavk_model m = nullptr;
        REQUIRE(hyenavk_model_load(c, file.str().c_str(), nullptr, &m) == HYENAVK_OK);
        const std::vector<float> x = tiny_frames(kTinyWindow);
        std::vector<float> y(kTinyOutputs);
        REQUIRE(hyenavk_context_inject_fault(c, HYENAVK_FAULT_DEVICE_LOST) == HYENAVK_OK);
        for (int call = 0; call < 2; ++call)
            CHECK(hyenavk_model_forward(m, x.data(), x.size(), 1, kTinyWindow, 0, y.data(), y.size()) ==
                  HYENAVK_ERROR_DEVICE_LOST);
        CHECK(hyenavk_context_inject_fault(nullptr, HYENAVK_FAULT_DEVICE_LOST) == HYENAVK_ERROR_INVALID_ARGUMENT);
        hyenavk_model_destroy(m);
        destroy_counted_c_context(c);
    }

    // After any of the above, a new context on the same device works and gives the same output.
    OwnContext fresh;
    Model model = Model::load(*fresh, file.str());
    CHECK(model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow) == expected);
}

TEST_SUITE_END();

}  // namespace hyenavk::test
