// The C ABI (hyenavk.h): status codes and per-thread messages, the struct_size convention, NULL handling,
// and results identical to the C++ API's on the same model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hyenavk/hyenavk.h"
#include "hyenavk/model.hpp"
#include "ref/reference.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"
#include "support/host_device.hpp"
#include "support/temp_path.hpp"

using namespace hyenavk;

namespace {

constexpr const char* kSmallEncoder =
    R"({"embed_dim": 6, "hidden_size": 8, "num_layers": 2, "filter_size": 4, "window_size": 12})";

// A validated context through the C API; fails the test where it cannot be made.
hyenavk_context make_context() {
    hyenavk_context_options options;
    hyenavk_context_options_init(&options);
    options.validation = 1;
    hyenavk_context context = nullptr;
    const hyenavk_status status = hyenavk_context_create(&options, &context);
    INFO(hyenavk_last_error_message());
    REQUIRE(status == HYENAVK_OK);
    REQUIRE(context != nullptr);
    return context;
}

}  // namespace

TEST_SUITE_BEGIN("api");

TEST_CASE("C API: versions, status names and messages that belong to the failing thread") {
    CHECK(hyenavk_version() == HYENAVK_VERSION);
    CHECK(std::string(hyenavk_version_string()) == std::to_string(HYENAVK_VERSION_MAJOR) + "." +
                                                      std::to_string(HYENAVK_VERSION_MINOR) + "." +
                                                      std::to_string(HYENAVK_VERSION_PATCH));
    CHECK(std::string(hyenavk_status_name(HYENAVK_OK)) == "HYENAVK_OK");
    CHECK(std::string(hyenavk_status_name(HYENAVK_ERROR_NOT_FOUND)) == "HYENAVK_ERROR_NOT_FOUND");
    CHECK(std::string(hyenavk_status_name(static_cast<hyenavk_status>(99))) == "HYENAVK_ERROR_UNKNOWN");

    // Two threads fail differently; each reads its own message.
    std::string first, second;
    std::thread a([&] {
        hyenavk_model_output_count(nullptr, 1, 1, 0, nullptr);
        first = hyenavk_last_error_message();
    });
    std::thread b([&] {
        hyenavk_write_random_model(nullptr, "{}", 0);
        second = hyenavk_last_error_message();
    });
    a.join();
    b.join();
    CHECK(first.find("hyenavk_model_output_count: model is NULL") != std::string::npos);
    CHECK(second.find("hyenavk_write_random_model: path is NULL") != std::string::npos);
    std::thread fresh([&] { first = hyenavk_last_error_message(); });
    fresh.join();
    CHECK(first.empty());
}

TEST_CASE("C API: bad arguments are statuses with messages, never crashes") {
    CHECK(hyenavk_context_create(nullptr, nullptr) == HYENAVK_ERROR_INVALID_ARGUMENT);
    hyenavk_context_options options;
    hyenavk_context_options_init(&options);
    options.struct_size = 0;  // not initialised
    hyenavk_context context = reinterpret_cast<hyenavk_context>(1);
    CHECK(hyenavk_context_create(&options, &context) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(context == nullptr);
    CHECK(std::string(hyenavk_last_error_message()).find("struct_size") != std::string::npos);

    hyenavk_context_options_init(&options);
    options.device = "no-such-device";
    CHECK(hyenavk_context_create(&options, &context) == HYENAVK_ERROR_NOT_FOUND);
    CHECK(std::string(hyenavk_last_error_message()).find("no-such-device") != std::string::npos);

    uint32_t count = 0;
    CHECK(hyenavk_list_devices(0, nullptr, nullptr, nullptr, nullptr) == HYENAVK_ERROR_INVALID_ARGUMENT);
    REQUIRE(hyenavk_list_devices(0, nullptr, nullptr, nullptr, &count) == HYENAVK_OK);
    CHECK(count >= 1);
    hyenavk_borrowed_device borrowed;
    hyenavk_borrowed_device_init(&borrowed);
    CHECK(hyenavk_context_borrow(&borrowed, nullptr, &context) != HYENAVK_OK);  // no instance
    CHECK(context == nullptr);

    hyenavk_model model = nullptr;
    CHECK(hyenavk_model_load(nullptr, "x", nullptr, &model) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(hyenavk_model_forward(nullptr, nullptr, 0, 1, 1, 0, nullptr, 0) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(hyenavk_model_config_json(nullptr) == nullptr);
    CHECK(hyenavk_context_validation_message_count(nullptr) == 0);
    hyenavk_model_destroy(nullptr);  // both accept NULL
    hyenavk_context_destroy(nullptr);
}

TEST_CASE("C API: devices listed the Vulkan way, with struct_size honoured") {
    uint32_t count = 0;
    REQUIRE(hyenavk_list_devices(0, nullptr, nullptr, nullptr, &count) == HYENAVK_OK);
    REQUIRE(count >= 1);
    std::vector<hyenavk_device_info> devices(count + 1);
    for (auto& d : devices) hyenavk_device_info_init(&d);
    uint32_t room = count + 1;
    REQUIRE(hyenavk_list_devices(0, nullptr, nullptr, devices.data(), &room) == HYENAVK_OK);
    CHECK(room == count);
    const std::vector<DeviceInfo> expected = list_devices();
    REQUIRE(expected.size() == count);
    for (uint32_t i = 0; i < count; ++i) {
        CHECK(std::string(devices[i].name) == expected[i].name);
        CHECK(devices[i].index == expected[i].index);
        CHECK(devices[i].type == static_cast<hyenavk_device_type>(expected[i].type));
        CHECK(devices[i].subgroup_size == expected[i].caps.subgroup_size);
        CHECK(devices[i].max_storage_buffer_range == expected[i].caps.max_storage_buffer_range);
    }
    // A caller built against an older, shorter struct: nothing past its struct_size is written.
    std::vector<unsigned char> bytes(sizeof(hyenavk_device_info), 0xab);
    auto* old = reinterpret_cast<hyenavk_device_info*>(bytes.data());
    old->struct_size = offsetof(hyenavk_device_info, driver_name);
    uint32_t one = 1;
    REQUIRE(hyenavk_list_devices(0, nullptr, nullptr, old, &one) == HYENAVK_OK);
    CHECK(std::string(old->name) == expected[0].name);
    CHECK(old->struct_size == offsetof(hyenavk_device_info, driver_name));
    bool untouched = true;
    for (size_t i = offsetof(hyenavk_device_info, driver_name); i < bytes.size(); ++i) untouched &= bytes[i] == 0xab;
    CHECK(untouched);
}

TEST_CASE("C API: a model loads, reports itself and runs exactly as through the C++ API") {
    test::TempPath file("c-api.safetensors");
    REQUIRE(hyenavk_write_random_model(file.str().c_str(), kSmallEncoder, 7) == HYENAVK_OK);
    hyenavk_context context = make_context();
    hyenavk_model model = nullptr;
    REQUIRE(hyenavk_model_load(context, file.str().c_str(), nullptr, &model) == HYENAVK_OK);

    hyenavk_model_info info;
    hyenavk_model_info_init(&info);
    REQUIRE(hyenavk_model_info_get(model, &info) == HYENAVK_OK);
    CHECK(std::string(info.arch) == "striped_hyena");
    CHECK(info.input_features == 6);
    CHECK(info.output_features == 8);
    CHECK(info.default_length == 12);
    CHECK(std::string(hyenavk_model_config_json(model)).find("\"hidden_size\"") != std::string::npos);

    const uint32_t batch = 2, length = 9;
    uint64_t count = 0;
    REQUIRE(hyenavk_model_output_count(model, batch, length, 1, &count) == HYENAVK_OK);
    CHECK(count == uint64_t(batch) * length * 8);
    const auto input = test::random_floats(size_t(batch) * length * 6, 3);
    std::vector<float> output(count, -1.0f);
    // Too little room: an error, and the output untouched.
    CHECK(hyenavk_model_forward(model, input.data(), input.size(), batch, length, 1, output.data(), count - 1) ==
          HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("output holds") != std::string::npos);
    CHECK(output[0] == -1.0f);
    // A wrong input size is the library's own error, passed through.
    CHECK(hyenavk_model_forward(model, input.data(), input.size() - 1, batch, length, 1, output.data(), count) ==
          HYENAVK_ERROR_INVALID_ARGUMENT);
    REQUIRE(hyenavk_model_forward(model, input.data(), input.size(), batch, length, 1, output.data(), count) ==
            HYENAVK_OK);

    Context cpp_context = Context::create();
    Model cpp_model = Model::load(cpp_context, file.str());
    CHECK(cpp_model.forward(input, batch, length, true) == output);

    hyenavk_memory_plan plan;
    hyenavk_memory_plan_init(&plan);
    REQUIRE(hyenavk_model_memory_plan(model, batch, length, 1, &plan) == HYENAVK_OK);
    const MemoryPlan expected = cpp_model.memory_plan(batch, length, true);
    CHECK(plan.tiles == expected.tiles);
    CHECK(plan.long_conv_bytes == expected.long_conv_bytes);
    CHECK(plan.total_bytes > 0);

    hyenavk_model_destroy(model);
    CHECK(hyenavk_context_validation_message_count(context) == 0);
    hyenavk_context_destroy(context);
}

TEST_CASE("C API: load options from an older header, and load errors by kind") {
    test::TempPath file("c-api-options.safetensors");
    REQUIRE(hyenavk_write_random_model(file.str().c_str(), kSmallEncoder, 8) == HYENAVK_OK);
    hyenavk_context context = make_context();
    hyenavk_model model = nullptr;

    // Only the fields before `precision` are the caller's; the rest keep their defaults.
    hyenavk_load_options options;
    hyenavk_load_options_init(&options);
    options.struct_size = offsetof(hyenavk_load_options, precision);
    options.config_json = R"({"window_size": 20})";
    options.precision = static_cast<hyenavk_precision>(77);  // past struct_size: never read
    REQUIRE(hyenavk_model_load(context, file.str().c_str(), &options, &model) == HYENAVK_OK);
    CHECK(std::string(hyenavk_model_config_json(model)).find("\"window_size\":20") != std::string::npos);
    hyenavk_model_destroy(model);

    hyenavk_load_options_init(&options);
    options.precision = static_cast<hyenavk_precision>(77);
    CHECK(hyenavk_model_load(context, file.str().c_str(), &options, &model) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(model == nullptr);
    CHECK(hyenavk_model_load(context, "/nonexistent/model.safetensors", nullptr, &model) != HYENAVK_OK);
    CHECK(std::string(hyenavk_last_error_message()).find("/nonexistent/model.safetensors") != std::string::npos);
    CHECK(model == nullptr);
    CHECK(hyenavk_write_random_model(file.str().c_str(), "{}", 1) != HYENAVK_OK);  // embed_dim missing
    CHECK(std::string(hyenavk_last_error_message()).find("embed_dim") != std::string::npos);

    CHECK(hyenavk_context_validation_message_count(context) == 0);
    hyenavk_context_destroy(context);
}

TEST_CASE("C API: submit, prepare and completions, with the C++ API's results") {
    test::TempPath file("c-api-async.safetensors");
    REQUIRE(hyenavk_write_random_model(file.str().c_str(), kSmallEncoder, 9) == HYENAVK_OK);
    hyenavk_context context = make_context();
    hyenavk_model model = nullptr;
    REQUIRE(hyenavk_model_load(context, file.str().c_str(), nullptr, &model) == HYENAVK_OK);

    const uint32_t batch = 2, length = 11;
    CHECK(hyenavk_model_prepared(model, batch, length, 1) == 0);
    REQUIRE(hyenavk_model_prepare_async(model, batch, length, 1) == HYENAVK_OK);
    REQUIRE(hyenavk_model_prepare(model, batch, length, 0) == HYENAVK_OK);
    CHECK(hyenavk_model_prepared(model, batch, length, 0) == 1);
    CHECK(hyenavk_model_prepare(model, 0, length, 0) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("batch and length must be >= 1") != std::string::npos);

    const auto input = test::random_floats(size_t(batch) * length * 6, 4);
    uint64_t count = 0;
    REQUIRE(hyenavk_model_output_count(model, batch, length, 1, &count) == HYENAVK_OK);
    std::vector<float> output(count, -1.0f);
    hyenavk_forward_request request;
    hyenavk_forward_request_init(&request);
    request.batch = batch;
    request.length = length;
    request.full_sequence = 1;
    request.input = input.data();
    request.input_count = input.size();
    request.output = output.data();
    request.output_count = output.size();
    hyenavk_completion completion = nullptr;
    REQUIRE(hyenavk_model_submit(model, &request, &completion) == HYENAVK_OK);
    REQUIRE(completion != nullptr);
    VkSemaphore timeline = VK_NULL_HANDLE;
    uint64_t value = 0;
    REQUIRE(hyenavk_completion_timeline(completion, &timeline, &value) == HYENAVK_OK);
    CHECK((timeline != VK_NULL_HANDLE) == (value > 0));
    REQUIRE(hyenavk_completion_wait(completion, UINT64_MAX) == HYENAVK_OK);
    CHECK(hyenavk_completion_ready(completion) == 1);
    hyenavk_completion_destroy(completion);
    // The prepared shape came from the worker thread; the plan it built gives the synchronous results.
    CHECK(hyenavk_model_prepared(model, batch, length, 1) == 1);
    std::vector<float> expected(count);
    REQUIRE(hyenavk_model_forward(model, input.data(), input.size(), batch, length, 1, expected.data(), count) ==
            HYENAVK_OK);
    CHECK(output == expected);

    // Host output is written by a wait on its completion, which must therefore be asked for; waiting for the
    // model as a whole also writes the outputs of completions still held.
    CHECK(hyenavk_model_submit(model, &request, nullptr) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("completion") != std::string::npos);
    std::fill(output.begin(), output.end(), -1.0f);
    REQUIRE(hyenavk_model_submit(model, &request, &completion) == HYENAVK_OK);
    REQUIRE(hyenavk_model_wait_idle(model) == HYENAVK_OK);
    CHECK(output == expected);
    hyenavk_completion_destroy(completion);

    // Requests that cannot run: statuses and messages, nothing submitted.
    CHECK(hyenavk_model_submit(model, nullptr, &completion) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(completion == nullptr);
    hyenavk_forward_request bad = request;
    bad.output = nullptr;
    CHECK(hyenavk_model_submit(model, &bad, nullptr) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("output is NULL") != std::string::npos);
    bad = request;
    bad.output_count = count - 1;
    CHECK(hyenavk_model_submit(model, &bad, &completion) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("output holds") != std::string::npos);
    bad = request;
    bad.input_buffer = reinterpret_cast<VkBuffer>(uintptr_t(0x10));  // besides the host input
    CHECK(hyenavk_model_submit(model, &bad, &completion) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("both a host input and an input buffer") !=
          std::string::npos);
    bad = request;
    bad.input = nullptr;
    bad.input_count = 0;
    bad.input_buffer = reinterpret_cast<VkBuffer>(uintptr_t(0x10));  // a buffer on a context hyenavk created
    CHECK(hyenavk_model_submit(model, &bad, &completion) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(hyenavk_last_error_message()).find("Context::borrow") != std::string::npos);
    CHECK(completion == nullptr);
    CHECK(hyenavk_completion_wait(nullptr, 0) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(hyenavk_completion_ready(nullptr) == 0);
    hyenavk_completion_destroy(nullptr);

    hyenavk_model_destroy(model);
    CHECK(hyenavk_context_validation_message_count(context) == 0);
    hyenavk_context_destroy(context);
}

TEST_CASE("C API: a host's device lent, its buffers fed through, hyenavk's completion chained") {
    test::HostDevice host;
    const BorrowedDevice lent = host.lend();
    hyenavk_device_setup setup;
    hyenavk_device_setup_init(&setup);
    REQUIRE(hyenavk_required_device_setup(lent.instance, lent.physical_device, host.api_version(), &setup) ==
            HYENAVK_OK);
    const DeviceSetup expected = required_device_setup(lent.instance, lent.physical_device, host.api_version());
    CHECK(setup.api_version == expected.api_version);
    REQUIRE(setup.extension_count == expected.extensions.size());
    for (uint32_t i = 0; i < setup.extension_count; ++i) CHECK(std::string(setup.extensions[i]) == expected.extensions[i]);
    CHECK(setup.timeline_semaphore == uint32_t(expected.timeline_semaphore));
    CHECK(hyenavk_required_device_setup(VK_NULL_HANDLE, lent.physical_device, host.api_version(), &setup) ==
          HYENAVK_ERROR_INVALID_ARGUMENT);

    std::vector<const char*> extensions;
    for (const auto& e : lent.enabled_extensions) extensions.push_back(e.c_str());
    hyenavk_borrowed_device borrowed;
    hyenavk_borrowed_device_init(&borrowed);
    borrowed.instance = lent.instance;
    borrowed.instance_api_version = lent.instance_api_version;
    borrowed.physical_device = lent.physical_device;
    borrowed.device = lent.device;
    borrowed.queue_family_index = lent.queue_family_index;
    borrowed.queue = lent.queue;
    borrowed.enabled_extension_count = static_cast<uint32_t>(extensions.size());
    borrowed.enabled_extensions = extensions.data();
    borrowed.storage_buffer_16bit_enabled = lent.storage_buffer_16bit_enabled;
    borrowed.timeline_semaphore_enabled = lent.timeline_semaphore_enabled;
    hyenavk_context context = nullptr;
    REQUIRE(hyenavk_context_borrow(&borrowed, nullptr, &context) == HYENAVK_OK);

    test::TempPath file("c-api-host.safetensors");
    REQUIRE(hyenavk_write_random_model(file.str().c_str(), kSmallEncoder, 10) == HYENAVK_OK);
    hyenavk_model model = nullptr;
    REQUIRE(hyenavk_model_load(context, file.str().c_str(), nullptr, &model) == HYENAVK_OK);
    const uint32_t batch = 1, length = 12;
    const auto input = test::random_floats(size_t(batch) * length * 6, 5);
    uint64_t count = 0;
    REQUIRE(hyenavk_model_output_count(model, batch, length, 0, &count) == HYENAVK_OK);
    std::vector<float> expected_output(count);
    REQUIRE(hyenavk_model_forward(model, input.data(), input.size(), batch, length, 0, expected_output.data(),
                                  count) == HYENAVK_OK);

    const VkDeviceSize in_offset = 64, out_offset = 32;
    const test::HostBuffer in = host.create_buffer(in_offset + input.size() * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    const test::HostBuffer out = host.create_buffer(out_offset + count * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    std::memcpy(in.floats(in_offset), input.data(), input.size() * 4);
    hyenavk_forward_request request;
    hyenavk_forward_request_init(&request);
    request.batch = batch;
    request.length = length;
    request.input_buffer = in.buffer;
    request.input_offset = in_offset;
    request.output_buffer = out.buffer;
    request.output_offset = out_offset;
    hyenavk_completion completion = nullptr;
    REQUIRE(hyenavk_model_submit(model, &request, &completion) == HYENAVK_OK);
    VkSemaphore timeline = VK_NULL_HANDLE;
    uint64_t value = 0;
    REQUIRE(hyenavk_completion_timeline(completion, &timeline, &value) == HYENAVK_OK);
    if (timeline != VK_NULL_HANDLE)
        host.read_back_after({timeline, value, true});  // the host's own submission waits on hyenavk's value
    REQUIRE(hyenavk_completion_wait(completion, UINT64_MAX) == HYENAVK_OK);
    hyenavk_completion_destroy(completion);
    host.read_back_after();
    CHECK(std::vector<float>(out.floats(out_offset), out.floats(out_offset) + count) == expected_output);

    hyenavk_model_destroy(model);
    hyenavk_context_destroy(context);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("C API: a stream set pushes frames, saves and restores a stream") {
    test::TempPath file("c-api-stream.safetensors");
    REQUIRE(hyenavk_write_random_model(file.str().c_str(), kSmallEncoder, 12) == HYENAVK_OK);
    hyenavk_context context = make_context();
    hyenavk_model model = nullptr;
    REQUIRE(hyenavk_model_load(context, file.str().c_str(), nullptr, &model) == HYENAVK_OK);
    hyenavk_stream_options options;
    hyenavk_stream_options_init(&options);
    options.streams = 2;
    hyenavk_stream_set set = nullptr;
    REQUIRE(hyenavk_stream_set_create(model, &options, &set) == HYENAVK_OK);

    const uint32_t E = 6, H = 8;
    std::vector<float> history;  // stream 1's frames
    std::vector<uint8_t> saved;
    std::vector<float> after_save;
    for (uint32_t push = 1; push <= 5; ++push) {
        const auto frames = test::random_floats(2 * E, 700 + push);
        std::vector<float> out(2 * H);
        REQUIRE(hyenavk_stream_set_push(set, frames.data(), frames.size(), out.data(), out.size()) == HYENAVK_OK);
        history.insert(history.end(), frames.begin() + E, frames.end());
        std::vector<float> whole(H);
        REQUIRE(hyenavk_model_forward(model, history.data(), history.size(), 1, push, 0, whole.data(), H) ==
                HYENAVK_OK);
        CHECK(ref::relative_error(std::span<const float>(out).subspan(H, H), test::to_double(whole)) <= 1e-5);
        if (push == 3) {  // two calls, the Vulkan way
            uint64_t size = 0;
            REQUIRE(hyenavk_stream_set_save(set, 1, nullptr, &size) == HYENAVK_OK);
            saved.resize(size);
            REQUIRE(hyenavk_stream_set_save(set, 1, saved.data(), &size) == HYENAVK_OK);
            CHECK(size == saved.size());
        }
        if (push == 4) after_save.assign(out.begin() + H, out.end());
    }
    uint64_t steps = 0;
    REQUIRE(hyenavk_stream_set_steps(set, 1, &steps) == HYENAVK_OK);
    CHECK(steps == 5);

    // Stream 1's state after push 3, restored into stream 0, gives stream 1's fourth output again.
    REQUIRE(hyenavk_stream_set_restore(set, 0, saved.data(), saved.size()) == HYENAVK_OK);
    std::vector<float> frames(2 * E, 0.0f);
    std::copy(history.begin() + 3 * E, history.begin() + 4 * E, frames.begin());
    std::vector<float> out(2 * H);
    REQUIRE(hyenavk_stream_set_push(set, frames.data(), frames.size(), out.data(), out.size()) == HYENAVK_OK);
    CHECK(std::vector<float>(out.begin(), out.begin() + H) == after_save);

    CHECK(hyenavk_stream_set_restore(set, 0, saved.data(), saved.size() - 1) == HYENAVK_ERROR_FORMAT);
    CHECK(hyenavk_stream_set_push(set, frames.data(), frames.size(), out.data(), out.size() - 1) ==
          HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(hyenavk_stream_set_reset(set, 2) == HYENAVK_ERROR_INVALID_ARGUMENT);
    REQUIRE(hyenavk_stream_set_reset_all(set) == HYENAVK_OK);
    REQUIRE(hyenavk_stream_set_steps(set, 0, &steps) == HYENAVK_OK);
    CHECK(steps == 0);
    hyenavk_stream_set_destroy(set);
    hyenavk_stream_set_destroy(nullptr);
    hyenavk_stream_set none = nullptr;
    CHECK(hyenavk_stream_set_create(nullptr, &options, &none) == HYENAVK_ERROR_INVALID_ARGUMENT);
    CHECK(none == nullptr);
    // Windowed over 2 frames: the third push sees the last two frames alone.
    options.mode = HYENAVK_STREAM_WINDOWED;
    options.window = 2;
    options.streams = 1;
    REQUIRE(hyenavk_stream_set_create(model, &options, &none) == HYENAVK_OK);
    std::vector<float> last(H);
    for (uint32_t push = 0; push < 3; ++push)
        REQUIRE(hyenavk_stream_set_push(none, history.data() + push * E, E, last.data(), H) == HYENAVK_OK);
    std::vector<float> whole(H);
    REQUIRE(hyenavk_model_forward(model, history.data() + E, 2 * E, 1, 2, 0, whole.data(), H) == HYENAVK_OK);
    CHECK(ref::relative_error(last, test::to_double(whole)) <= 1e-5);
    hyenavk_stream_set_destroy(none);
    hyenavk_model_destroy(model);
    CHECK(hyenavk_context_validation_message_count(context) == 0);
    hyenavk_context_destroy(context);
}

TEST_SUITE_END();
