// The asynchronous API: Model::submit with host arrays and with the host's own buffers, hyenavk's work chained
// with the host's through timeline or binary semaphores both ways, pipelined submissions, prepare_async,
// refused requests, completions dropped unwaited, several threads at once, and forwards of one shape mixing
// host arrays with device buffers. Everything runs under the validation layer (synchronization validation
// included) and must raise no message.
//
// Outputs are compared with Model::forward of the same model and shape, which replays the same recorded plan:
// they must be equal bit for bit, so any difference (a stale input, an offset off by a value, a missing wait)
// shows however small.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hyenavk/model.hpp"
#include "support/gpu_fixture.hpp"
#include "support/host_device.hpp"
#include "support/kernel_harness.hpp"
#include "support/temp_path.hpp"

using namespace hyenavk;
using test::HostBuffer;
using test::HostDevice;
using test::HostDeviceOptions;
using test::HostSync;
using test::TempPath;

namespace {

constexpr const char* kSmallEncoder =
    R"({"embed_dim": 6, "hidden_size": 8, "num_layers": 2, "filter_size": 4, "window_size": 12})";
constexpr const char* kSmallOperator = R"({"arch": "hyena_operator", "d_model": 8, "l_max": 32, "filter_order": 8})";

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// What the host fills its output buffers with: hyenavk must write exactly the output's bytes.
constexpr unsigned char kFillByte = 0xAB;

ContextOptions validated() {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    return options;
}

// A borrowed context takes the host's instance as it is (the host's messenger reports); the log gets
// hyenavk's own warnings.
ContextOptions borrowing(bool timeline = true) {
    ContextOptions options;
    options.log = test::counting_log();
    options.clamp.disable_timeline_semaphore = !timeline;
    return options;
}

uint64_t output_count(const Model& model, uint32_t batch, uint32_t length, bool full = false) {
    uint64_t n = 1;
    for (uint64_t d : model.output_shape(batch, length, full)) n *= d;
    return n;
}

std::vector<float> input_for(const Model& model, uint32_t batch, uint32_t length, uint32_t seed) {
    return test::random_floats(size_t(batch) * length * model.input_features(), seed);
}

// The largest |got - want|; NaN where any value is NaN, infinity where the sizes differ.
double max_abs_diff(std::span<const float> got, std::span<const float> want) {
    if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double d = std::fabs(double(got[i]) - double(want[i]));
        if (std::isnan(d)) return d;
        worst = std::max(worst, d);
    }
    return worst;
}

// The outputs compared are of real size: a forward that wrote zeros everywhere would not pass as equal.
double rms(std::span<const float> v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    return v.empty() ? 0 : std::sqrt(s / double(v.size()));
}

bool all_bytes(const std::byte* p, size_t n, unsigned char value) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != std::byte{value}) return false;
    return true;
}

std::optional<ErrorCode> error_of(const std::function<void()>& fn, std::string* message = nullptr) {
    try {
        fn();
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.code();
    }
    return std::nullopt;
}

// Checks the request is refused with `code` and a message containing `words`.
void check_refused(const std::function<void()>& fn, ErrorCode code, const std::string& words) {
    std::string message;
    const auto got = error_of(fn, &message);
    CAPTURE(message);
    REQUIRE(got.has_value());
    CHECK(*got == code);
    CHECK(message.find(words) != std::string::npos);
}

ForwardRequest host_request(std::span<const float> input, std::span<float> output, uint32_t batch, uint32_t length,
                            bool full = false) {
    ForwardRequest r;
    r.batch = batch;
    r.length = length;
    r.full_sequence = full;
    r.input = input;
    r.output = output;
    return r;
}

// How hyenavk's finished forward is handed to the host's next submission.
enum class Handoff { Timeline, Binary };

// Forwards of `model` (on a context borrowing `host`) from the host's input buffer into its output buffer,
// both at offsets, with the host's submission after each waiting for hyenavk on the GPU. Also the other way
// round: hyenavk waits for the host's semaphore before it reads the input. Each output equals Model::forward's.
void check_buffer_forwards(HostDevice& host, Model& model, Handoff handoff, uint32_t B = 2, uint32_t L = 12) {
    const VkDeviceSize in_offset = 256, out_offset = 100;  // multiples of 4, of no device alignment
    const VkDeviceSize in_bytes = VkDeviceSize(B) * L * model.input_features() * 4;
    const VkDeviceSize out_bytes = output_count(model, B, L, true) * 4;  // the larger of the two outputs
    const HostBuffer input = host.create_buffer(in_offset + in_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                                                          VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    const HostBuffer staging = host.create_buffer(in_bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    const HostBuffer output = host.create_buffer(out_offset + out_bytes + 64, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    const bool timeline = handoff == Handoff::Timeline;
    const VkSemaphore done = timeline ? VK_NULL_HANDLE : host.create_semaphore(false);
    const VkSemaphore written = host.create_semaphore(timeline);  // the host's input upload, for hyenavk to wait on
    uint64_t last_value = 0, written_value = 0;

    for (const bool full : {false, true})
        for (const bool upload : {false, true}) {
            CAPTURE(full);
            CAPTURE(upload);
            const auto x = input_for(model, B, L, 20 + 2 * full + upload);
            const auto want = model.forward(x, B, L, full);
            REQUIRE(rms(want) > 1e-3);
            std::memset(output.mapped, kFillByte, output.size);

            ForwardRequest r;
            r.batch = B;
            r.length = L;
            r.full_sequence = full;
            r.input_buffer = {input.buffer, in_offset};
            r.output_buffer = {output.buffer, out_offset};
            if (!timeline) r.signal = {done, 0};
            if (upload) {
                // hyenavk must wait for the host's semaphore before it reads the input. On a timeline the host
                // thread writes the input only after the submit, then signals from the CPU: a forward that
                // did not wait would read the zeros left there. A binary semaphore is signalled before its
                // wait is queued, by the host's own copy of the input on the GPU.
                std::memset(input.mapped, 0, input.size);
                if (timeline) {
                    REQUIRE(host.can_signal_from_host());
                } else {
                    std::memcpy(staging.mapped, x.data(), in_bytes);
                    host.copy(staging, 0, input, in_offset, in_bytes, {}, {written, 0, false});
                }
                r.wait = {written, timeline ? ++written_value : 0};
            } else {
                std::memcpy(input.floats(in_offset), x.data(), in_bytes);
            }

            Completion c = model.submit(r);
            REQUIRE(c.valid());
            if (upload && timeline) {
                // Time enough for a forward that ignored the wait to finish on the zeros.
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                CHECK_FALSE(c.ready());
                std::memcpy(input.floats(in_offset), x.data(), in_bytes);
                host.signal_from_host(written, written_value);
            }
            if (timeline) {
                REQUIRE(c.timeline_semaphore() != VK_NULL_HANDLE);
                CHECK(c.timeline_value() > last_value);
                last_value = c.timeline_value();
                host.read_back_after({c.timeline_semaphore(), c.timeline_value(), true});
            } else {
                CHECK(c.timeline_semaphore() == VK_NULL_HANDLE);
                CHECK(c.timeline_value() == 0);
                host.read_back_after({done, 0, false});
            }
            c.wait();
            CHECK(c.ready());

            const std::span<const float> got(output.floats(out_offset), want.size());
            CHECK(max_abs_diff(got, want) == 0.0);
            const VkDeviceSize end = out_offset + want.size() * 4;
            CHECK(all_bytes(output.mapped, out_offset, kFillByte));
            CHECK(all_bytes(output.mapped + end, output.size - end, kFillByte));
        }
}

// Two inputs of one shape whose forwards differ, so that a forward that took over the other's tensors shows,
// and a buffer of the host's for one of the inputs and another for its output.
struct TwoInputs {
    std::vector<float> x1, x2, want1, want2;
    HostBuffer input, output;
};

TwoInputs two_inputs(HostDevice& host, Model& model, uint32_t B, uint32_t L, uint32_t seed) {
    TwoInputs t;
    t.x1 = input_for(model, B, L, seed);
    t.x2 = input_for(model, B, L, seed + 1);
    t.want1 = model.forward(t.x1, B, L);
    t.want2 = model.forward(t.x2, B, L);
    REQUIRE(max_abs_diff(t.want1, t.want2) > 1e-3);
    t.input = host.create_buffer(t.x1.size() * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    t.output = host.create_buffer(t.want1.size() * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    return t;
}

}  // namespace

TEST_SUITE_BEGIN("async");

TEST_CASE("submit with host arrays gives Model::forward's output exactly") {
    TempPath encoder_file("async-arrays-encoder.safetensors"), operator_file("async-arrays-operator.safetensors");
    write_random_model(encoder_file.str(), kSmallEncoder, 11);
    write_random_model(operator_file.str(), kSmallOperator, 12);
    Context ctx = Context::create(validated());
    const bool timeline = ctx.device().caps.timeline_semaphore;
    Model encoder = Model::load(ctx, encoder_file.str());
    Model op = Model::load(ctx, operator_file.str());
    CHECK(op.arch() == "hyena_operator");

    struct Case {
        Model* model;
        uint32_t batch, length;
        bool full;
    };
    const Case cases[] = {{&encoder, 2, 12, false}, {&encoder, 2, 12, true}, {&encoder, 1, 40, false},
                          {&op, 2, 32, false},      {&op, 1, 20, true}};
    uint32_t seed = 30;
    for (const Case& k : cases) {
        CAPTURE(k.model->arch());
        CAPTURE(k.batch);
        CAPTURE(k.length);
        CAPTURE(k.full);
        auto x = input_for(*k.model, k.batch, k.length, ++seed);
        const auto want = k.model->forward(x, k.batch, k.length, k.full);
        REQUIRE(want.size() == output_count(*k.model, k.batch, k.length, k.full));
        REQUIRE(rms(want) > 1e-3);

        std::vector<float> got(want.size(), kNaN);
        Completion c = k.model->submit(host_request(x, got, k.batch, k.length, k.full));
        // The input was copied before submit returned: the caller may reuse its memory at once.
        std::fill(x.begin(), x.end(), kNaN);
        CHECK((c.timeline_semaphore() != VK_NULL_HANDLE) == timeline);
        CHECK((c.timeline_value() > 0) == timeline);
        c.wait();
        CHECK(c.ready());
        CHECK(max_abs_diff(got, want) == 0.0);
        c.wait();  // a second wait returns at once and writes nothing new
        CHECK(max_abs_diff(got, want) == 0.0);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("host buffers at offsets, handed over through hyenavk's timeline semaphore") {
    TempPath file("async-timeline.safetensors");
    write_random_model(file.str(), kSmallEncoder, 13);
    HostDevice host;
    if (!host.setup().timeline_semaphore) {
        MESSAGE("the device has no timeline semaphores; skipped");
        return;
    }
    Context ctx = Context::borrow(host.lend(), borrowing());
    CHECK(ctx.device().caps.timeline_semaphore);
    Model model = Model::load(ctx, file.str());
    check_buffer_forwards(host, model, Handoff::Timeline);
    TempPath operator_file("async-timeline-operator.safetensors");
    write_random_model(operator_file.str(), kSmallOperator, 25);
    Model op = Model::load(ctx, operator_file.str());
    check_buffer_forwards(host, op, Handoff::Timeline, 2, 20);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("host buffers with a plan cut into tiles") {
    TempPath file("async-tiled.safetensors");
    write_random_model(file.str(), kSmallEncoder, 26);
    HostDevice host;
    // A 2 KiB storage-buffer range cuts the [B * L, 4H] scratch into tiles of a few rows each.
    ContextOptions options = borrowing(host.setup().timeline_semaphore);
    options.clamp.max_storage_buffer_range = 2048;
    Context ctx = Context::borrow(host.lend(), options);
    Model model = Model::load(ctx, file.str());
    CHECK(model.memory_plan(2, 24).tiles > 1);
    CHECK(model.memory_plan(2, 24, true).tiles > 1);
    check_buffer_forwards(host, model, host.setup().timeline_semaphore ? Handoff::Timeline : Handoff::Binary, 2, 24);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("host buffers at offsets, handed over through the host's binary semaphore") {
    TempPath file("async-binary.safetensors");
    write_random_model(file.str(), kSmallEncoder, 14);
    SUBCASE("a device with timeline semaphores, the context clamped not to use them") {
        HostDevice host;
        Context ctx = Context::borrow(host.lend(), borrowing(false));
        CHECK_FALSE(ctx.device().caps.timeline_semaphore);
        Model model = Model::load(ctx, file.str());
        check_buffer_forwards(host, model, Handoff::Binary);
    }
    SUBCASE("a Vulkan 1.1 host without timeline semaphores") {
        HostDevice host(HostDeviceOptions{VK_API_VERSION_1_1, false});
        Context ctx = Context::borrow(host.lend(), borrowing());
        CHECK(ctx.device().caps.api_version == VK_API_VERSION_1_1);
        CHECK_FALSE(ctx.device().caps.timeline_semaphore);
        Model model = Model::load(ctx, file.str());
        check_buffer_forwards(host, model, Handoff::Binary);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("prepare_async builds a shape that submit then uses; invalid shapes are refused") {
    TempPath encoder_file("async-prepare-encoder.safetensors"), operator_file("async-prepare-operator.safetensors");
    write_random_model(encoder_file.str(), kSmallEncoder, 16);
    write_random_model(operator_file.str(), kSmallOperator, 17);
    Context& ctx = test::context();
    Model model = Model::load(ctx, encoder_file.str());

    CHECK_FALSE(model.prepared(2, 16));
    std::future<void> preparing = model.prepare_async(2, 16);
    REQUIRE_NOTHROW(preparing.get());
    CHECK(model.prepared(2, 16));
    CHECK_FALSE(model.prepared(2, 16, true));  // the full sequence is another plan
    CHECK_FALSE(model.prepared(1, 16));

    const auto x = input_for(model, 2, 16, 40);
    std::vector<float> got(output_count(model, 2, 16), kNaN);
    model.submit(host_request(x, got, 2, 16)).wait();
    CHECK(max_abs_diff(got, model.forward(x, 2, 16)) == 0.0);
    CHECK(rms(got) > 1e-3);

    // A submit right behind prepare_async of its shape waits for the build rather than building twice.
    std::future<void> full = model.prepare_async(1, 24, true);
    const auto x2 = input_for(model, 1, 24, 41);
    std::vector<float> got2(output_count(model, 1, 24, true), kNaN);
    model.submit(host_request(x2, got2, 1, 24, true)).wait();
    REQUIRE_NOTHROW(full.get());
    CHECK(model.prepared(1, 24, true));
    CHECK(max_abs_diff(got2, model.forward(x2, 1, 24, true)) == 0.0);

    model.prepare(1, 5);
    CHECK(model.prepared(1, 5));

    for (const auto& shape : {std::pair<uint32_t, uint32_t>{0, 16}, {2, 0}}) {
        const uint32_t b = shape.first, l = shape.second;
        CAPTURE(b);
        CAPTURE(l);
        CHECK(error_of([&] { model.prepare_async(b, l).get(); }) == ErrorCode::InvalidArgument);
        CHECK(error_of([&] { model.prepare(b, l); }) == ErrorCode::InvalidArgument);
        CHECK_FALSE(model.prepared(b, l));
    }

    // hyena_operator always returns the sequence: both spellings of a shape are one plan.
    Model op = Model::load(ctx, operator_file.str());
    REQUIRE_NOTHROW(op.prepare_async(1, 20, true).get());
    CHECK(op.prepared(1, 20, false));
    CHECK(error_of([&] { op.prepare_async(1, 33).get(); }) == ErrorCode::InvalidArgument);  // beyond l_max
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("prepare_async of a model destroyed before the builds end: every future resolves") {
    TempPath file("async-prepare-destroyed.safetensors");
    write_random_model(file.str(), kSmallEncoder, 27);
    std::vector<std::future<void>> futures;
    {
        Model model = Model::load(test::context(), file.str());
        for (uint32_t l = 10; l < 16; ++l) futures.push_back(model.prepare_async(1, l));
    }
    for (auto& f : futures) {
        // Built before the model went, or refused because it went; never left hanging.
        REQUIRE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
        const auto code = error_of([&] { f.get(); });
        CHECK((!code || *code == ErrorCode::InvalidArgument));
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("inconsistent requests are refused by name, and the model works on after them") {
    TempPath file("async-errors.safetensors");
    write_random_model(file.str(), kSmallEncoder, 18);
    HostDevice host;
    Context ctx = Context::borrow(host.lend(), borrowing());
    Model model = Model::load(ctx, file.str());
    const uint32_t B = 1, L = 12;
    const auto x = input_for(model, B, L, 50);
    std::vector<float> out(output_count(model, B, L), kNaN);
    const HostBuffer in_buffer = host.create_buffer(x.size() * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    const HostBuffer out_buffer = host.create_buffer(out.size() * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    const ForwardRequest good = host_request(x, out, B, L);

    ForwardRequest r = good;
    r.input_buffer = {in_buffer.buffer, 0};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "both a host input and an input buffer");
    r = good;
    r.input = {};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "no input");
    r = good;
    r.output = {};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "no output");
    r.output_buffer = {out_buffer.buffer, 0};
    r.output = out;
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "both a host output and an output buffer");
    r = good;
    r.input = std::span<const float>(x).first(x.size() - 1);
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "needs");
    r = good;
    r.output = std::span<float>(out).first(out.size() - 1);
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "output holds");
    r = good;
    r.input = {};
    r.input_buffer = {in_buffer.buffer, 2};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "multiples of 4");
    r = good;
    r.batch = 0;
    CHECK(error_of([&] { model.submit(r); }) == ErrorCode::InvalidArgument);
    for (float v : out) REQUIRE(std::isnan(v));  // nothing refused wrote anything

    // Device buffers are fp32; an fp16 model takes host arrays only.
    if (ctx.device().caps.storage_buffer_16bit) {
        LoadOptions half;
        half.precision = Precision::Fp16;
        Model model16 = Model::load(ctx, file.str(), half);
        r = good;
        r.input = {};
        r.input_buffer = {in_buffer.buffer, 0};
        check_refused([&] { model16.submit(r); }, ErrorCode::Unsupported, "fp32");
        r = good;
        r.output = {};
        r.output_buffer = {out_buffer.buffer, 0};
        check_refused([&] { model16.submit(r); }, ErrorCode::Unsupported, "fp32");
        std::vector<float> out16(out.size(), kNaN);
        model16.submit(host_request(x, out16, B, L)).wait();
        CHECK(max_abs_diff(out16, model16.forward(x, B, L)) == 0.0);
    } else {
        MESSAGE("no 16-bit storage buffers: the fp16 case is skipped");
    }

    model.submit(good).wait();
    CHECK(max_abs_diff(out, model.forward(x, B, L)) == 0.0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("buffers and semaphores of a host need a context on the host's device") {
    TempPath file("async-not-borrowed.safetensors");
    write_random_model(file.str(), kSmallEncoder, 19);
    HostDevice host;
    Model model = Model::load(test::context(), file.str());
    const auto x = input_for(model, 1, 12, 60);
    std::vector<float> out(output_count(model, 1, 12), kNaN);
    // Handles of another device: the request must be refused before any is used.
    const HostBuffer buffer = host.create_buffer(x.size() * 4, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    const VkSemaphore semaphore = host.create_semaphore(false);

    ForwardRequest r = host_request({}, out, 1, 12);
    r.input_buffer = {buffer.buffer, 0};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "Context::borrow");
    r = host_request(x, {}, 1, 12);
    r.output_buffer = {buffer.buffer, 0};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "Context::borrow");
    r = host_request(x, out, 1, 12);
    r.signal = {semaphore, 0};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "Context::borrow");
    r = host_request(x, out, 1, 12);
    r.wait = {semaphore, 0};
    check_refused([&] { model.submit(r); }, ErrorCode::InvalidArgument, "Context::borrow");
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("completions: timeouts, empty handles, dropped unwaited, outliving their model") {
    TempPath file("async-completions.safetensors");
    write_random_model(file.str(), kSmallEncoder, 21);
    Context& ctx = test::context();
    auto model = std::make_unique<Model>(Model::load(ctx, file.str()));
    const uint32_t B = 2, L = 64;
    const auto x = input_for(*model, B, L, 70);
    const auto want = model->forward(x, B, L);

    SUBCASE("a zero timeout may report Timeout, and the forward goes on") {
        std::vector<float> got(want.size(), kNaN);
        Completion c = model->submit(host_request(x, got, B, L));
        const auto code = error_of([&] { c.wait(0); });
        CHECK((!code || *code == ErrorCode::Timeout));
        REQUIRE_NOTHROW(c.wait());
        CHECK(max_abs_diff(got, want) == 0.0);
    }
    SUBCASE("an empty completion") {
        Completion c;
        CHECK_FALSE(c.valid());
        CHECK_FALSE(c.ready());
        CHECK(c.timeline_semaphore() == VK_NULL_HANDLE);
        CHECK(c.timeline_value() == 0);
        CHECK(error_of([&] { c.wait(); }) == ErrorCode::InvalidArgument);
    }
    SUBCASE("dropped before it is waited for, its host output is never written") {
        std::vector<float> dropped(want.size(), kNaN), kept(want.size(), kNaN);
        std::vector<float> replaced(output_count(*model, B, L, true), kNaN);
        model->submit(host_request(x, dropped, B, L));
        // Another shape, so that the next submit does not wait for this forward (and write its output).
        Completion c = model->submit(host_request(x, replaced, B, L, true));
        // Assignment lets go of the full-sequence forward. Not by assigning the next submit's completion: that
        // submit retires forwards already finished, writing the outputs of those still held, which this one
        // would be until the assignment.
        c = Completion();
        c = model->submit(host_request(x, kept, B, L));
        model->wait_idle();
        for (float v : dropped) REQUIRE(std::isnan(v));
        for (float v : replaced) REQUIRE(std::isnan(v));
        CHECK(max_abs_diff(kept, want) == 0.0);  // wait_idle wrote the output still wanted
        c.wait();
        CHECK(max_abs_diff(kept, want) == 0.0);
    }
    SUBCASE("dropped, and its output memory freed, before the forward ends") {
        {
            auto output = std::make_unique<std::vector<float>>(want.size(), kNaN);
            Completion c = model->submit(host_request(x, *output, B, L));
        }
        model->wait_idle();  // must not write into the freed vector (AddressSanitizer would tell)
        std::vector<float> got(want.size(), kNaN);
        model->submit(host_request(x, got, B, L)).wait();
        CHECK(max_abs_diff(got, want) == 0.0);
    }
    SUBCASE("a completion outlives its model") {
        std::vector<float> got(want.size(), kNaN);
        Completion c = model->submit(host_request(x, got, B, L));
        model.reset();
        REQUIRE_NOTHROW(c.wait());
        CHECK(c.ready());
        CHECK(max_abs_diff(got, want) == 0.0);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("several threads at once: models on two contexts, and prepare_async beside submits of one model") {
    TempPath encoder_file("async-threads-encoder.safetensors"), operator_file("async-threads-operator.safetensors");
    write_random_model(encoder_file.str(), kSmallEncoder, 22);
    write_random_model(operator_file.str(), kSmallOperator, 23);
    Context first = Context::create(validated());
    Context second = Context::create(validated());

    // One worker per model; each runs its inputs in turn, with submit and with forward.
    struct Work {
        Model model;
        uint32_t batch, length;
        std::vector<std::vector<float>> inputs, want, got;
        std::string error;
    };
    std::vector<std::unique_ptr<Work>> work;
    const auto add = [&](Context& ctx, const TempPath& file, uint32_t batch, uint32_t length) {
        auto w = std::make_unique<Work>(Work{Model::load(ctx, file.str()), batch, length, {}, {}, {}, {}});
        for (uint32_t i = 0; i < 4; ++i) {
            w->inputs.push_back(input_for(w->model, batch, length, 200 + 10 * uint32_t(work.size()) + i));
            w->want.push_back(w->model.forward(w->inputs.back(), batch, length));
        }
        work.push_back(std::move(w));
    };
    add(first, encoder_file, 2, 12);
    add(first, operator_file, 1, 32);
    add(second, encoder_file, 1, 20);
    add(second, operator_file, 2, 16);

    // One model shared by two threads: one submits a prepared shape over and over while the other prepares
    // a new shape. The new shape's expected output comes from a second model of the same file.
    Model shared = Model::load(first, encoder_file.str());
    const auto frame_input = input_for(shared, 1, 12, 300);
    const auto frame_want = shared.forward(frame_input, 1, 12);
    const auto next_input = input_for(shared, 2, 24, 301);
    const auto next_want = Model::load(first, encoder_file.str()).forward(next_input, 2, 24, true);
    REQUIRE_FALSE(shared.prepared(2, 24, true));

    std::vector<std::thread> threads;
    for (auto& w : work)
        threads.emplace_back([&w = *w] {
            try {
                for (size_t i = 0; i < w.inputs.size(); ++i) {
                    std::vector<float> out(w.want[i].size(), kNaN);
                    w.model.submit(host_request(w.inputs[i], out, w.batch, w.length)).wait();
                    w.got.push_back(std::move(out));
                    w.got.push_back(w.model.forward(w.inputs[i], w.batch, w.length));
                }
            } catch (const std::exception& e) {
                w.error = e.what();
            }
        });
    std::atomic<bool> prepared{false};
    std::string prepare_error, frame_error;
    std::vector<float> next_got;
    threads.emplace_back([&] {
        try {
            shared.prepare_async(2, 24, true).get();
            prepared = true;
            next_got.assign(next_want.size(), kNaN);
            shared.submit(host_request(next_input, next_got, 2, 24, true)).wait();
        } catch (const std::exception& e) {
            prepare_error = e.what();
            prepared = true;
        }
    });
    double frame_worst = 0;
    uint32_t frames = 0;
    threads.emplace_back([&] {
        try {
            // At least a few frames, and on until the other shape is ready.
            while (frames < 6 || !prepared) {
                std::vector<float> out(frame_want.size(), kNaN);
                shared.submit(host_request(frame_input, out, 1, 12)).wait();
                const double d = max_abs_diff(out, frame_want);
                frame_worst = std::isnan(d) || d > frame_worst ? d : frame_worst;
                ++frames;
            }
        } catch (const std::exception& e) {
            frame_error = e.what();
        }
    });
    for (auto& t : threads) t.join();

    for (size_t m = 0; m < work.size(); ++m) {
        const Work& w = *work[m];
        CAPTURE(m);
        CHECK(w.error == "");
        REQUIRE(w.got.size() == 2 * w.want.size());
        for (size_t i = 0; i < w.got.size(); ++i) {
            CAPTURE(i);
            CHECK(max_abs_diff(w.got[i], w.want[i / 2]) == 0.0);
        }
    }
    CHECK(prepare_error == "");
    CHECK(frame_error == "");
    CHECK(frames >= 6);
    CHECK(frame_worst == 0.0);
    CHECK(shared.prepared(2, 24, true));
    CHECK(max_abs_diff(next_got, next_want) == 0.0);
    CHECK_NO_VALIDATION_MESSAGES();
}

// A Vulkan 1.1 host reaches timeline semaphores only through their extension.
TEST_CASE("a Vulkan 1.1 host that enables timeline semaphores as required_device_setup asks") {
    TempPath file("async-vulkan11-timeline.safetensors");
    write_random_model(file.str(), kSmallEncoder, 24);
    HostDevice host(HostDeviceOptions{VK_API_VERSION_1_1, true});
    if (!host.setup().timeline_semaphore) {
        MESSAGE("the device has no timeline semaphores; skipped");
        return;
    }
    Context ctx = Context::borrow(host.lend(), borrowing());
    CHECK(ctx.device().caps.api_version == VK_API_VERSION_1_1);
    CHECK(ctx.device().caps.timeline_semaphore);
    Model model = Model::load(ctx, file.str());
    check_buffer_forwards(host, model, Handoff::Timeline);
    CHECK_NO_VALIDATION_MESSAGES();
}

// Forwards of one shape share its recorded plan and its input and output tensors. Host-array forwards wait for
// one another; a device-buffer forward of the same shape waits for none.
TEST_CASE("a host-array forward's output is not taken over by a later device-buffer forward of its shape") {
    TempPath file("async-mixed-output.safetensors");
    write_random_model(file.str(), kSmallEncoder, 28);
    HostDevice host;
    if (!host.setup().timeline_semaphore || !host.can_signal_from_host()) {
        MESSAGE("the device has no timeline semaphores; skipped");
        return;
    }
    Context ctx = Context::borrow(host.lend(), borrowing());
    Model model = Model::load(ctx, file.str());
    const uint32_t B = 1, L = 12;
    const auto [x1, x2, want1, want2, input, output] = two_inputs(host, model, B, L, 80);
    std::memcpy(input.mapped, x2.data(), x2.size() * 4);
    const VkSemaphore go = host.create_semaphore(true);

    // The first forward waits on the GPU for the host, so both are queued before either runs; its output is
    // collected by its wait, after the second forward has run.
    std::vector<float> got1(want1.size(), kNaN);
    ForwardRequest r1 = host_request(x1, got1, B, L);
    r1.wait = {go, 1};
    Completion first = model.submit(r1);
    ForwardRequest r2;
    r2.batch = B;
    r2.length = L;
    r2.input_buffer = {input.buffer, 0};
    r2.output_buffer = {output.buffer, 0};
    Completion second = model.submit(r2);
    host.signal_from_host(go, 1);
    host.read_back_after({second.timeline_semaphore(), second.timeline_value(), true});
    first.wait();
    INFO("difference from the second forward's output: " << max_abs_diff(got1, want2));
    CHECK(max_abs_diff(got1, want1) == 0.0);
    CHECK(max_abs_diff(std::span<const float>(output.floats(), want2.size()), want2) == 0.0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("pipelined submissions without waiting in between, then wait_idle") {
    TempPath file("async-pipelined.safetensors");
    write_random_model(file.str(), kSmallEncoder, 15);
    HostDevice host;
    Context ctx = Context::borrow(host.lend(), borrowing(host.setup().timeline_semaphore));
    Model model = Model::load(ctx, file.str());

    // Two shapes in turn, so consecutive forwards also run different plans; more forwards than the model
    // keeps in flight before it waits for the oldest.
    const uint32_t n = 20;
    const auto shape = [](uint32_t i) { return i % 2 ? std::pair<uint32_t, uint32_t>{1, 12} : std::pair{2u, 8u}; };
    const VkDeviceSize in_slot = 2 * 12 * 4 * model.input_features(), out_slot = 2 * 4 * model.output_features() + 12;
    const HostBuffer input = host.create_buffer(n * in_slot, VK_BUFFER_USAGE_TRANSFER_SRC_BIT);
    const HostBuffer output = host.create_buffer(n * out_slot, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    std::memset(output.mapped, kFillByte, output.size);
    std::vector<std::vector<float>> want(n);
    for (uint32_t i = 0; i < n; ++i) {
        const auto [b, l] = shape(i);
        const auto x = input_for(model, b, l, 100 + i);
        want[i] = model.forward(x, b, l);
        std::memcpy(input.mapped + i * in_slot, x.data(), x.size() * 4);
    }

    std::vector<Completion> completions;
    for (uint32_t i = 0; i < n; ++i) {
        const auto [b, l] = shape(i);
        ForwardRequest r;
        r.batch = b;
        r.length = l;
        r.input_buffer = {input.buffer, i * in_slot};
        r.output_buffer = {output.buffer, i * out_slot};
        completions.push_back(model.submit(r));
    }
    model.wait_idle();
    for (const Completion& c : completions) CHECK(c.ready());
    host.read_back_after();  // the barrier covers everything queued before it
    for (uint32_t i = 0; i < n; ++i) {
        CAPTURE(i);
        const std::span<const float> got(output.floats(i * out_slot), want[i].size());
        CHECK(max_abs_diff(got, want[i]) == 0.0);
        const VkDeviceSize written = want[i].size() * 4;
        CHECK(all_bytes(output.mapped + i * out_slot + written, out_slot - written, kFillByte));
    }

    // The same with host arrays: each forward that writes host memory waits for the one before it.
    std::vector<std::vector<float>> got(n);
    completions.clear();
    for (uint32_t i = 0; i < n; ++i) {
        const auto [b, l] = shape(i);
        const float* x0 = input.floats(i * in_slot);
        const std::vector<float> x(x0, x0 + size_t(b) * l * model.input_features());
        got[i].assign(want[i].size(), kNaN);
        completions.push_back(model.submit(host_request(x, got[i], b, l)));
    }
    for (Completion& c : completions) c.wait();
    for (uint32_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(max_abs_diff(got[i], want[i]) == 0.0);
    }
    CHECK_NO_VALIDATION_MESSAGES();
}

// The input side of the same: a host-array forward queued while a device-buffer forward of its shape has not
// yet read its input.
TEST_CASE("a host-array forward queued behind a device-buffer forward of its shape that waits for the host") {
    TempPath file("async-mixed-input.safetensors");
    write_random_model(file.str(), kSmallEncoder, 29);
    HostDevice host;
    if (!host.setup().timeline_semaphore || !host.can_signal_from_host()) {
        MESSAGE("the device has no timeline semaphores; skipped");
        return;
    }
    Context ctx = Context::borrow(host.lend(), borrowing());
    Model model = Model::load(ctx, file.str());
    const uint32_t B = 1, L = 12;
    const auto [x1, x2, want1, want2, input, output] = two_inputs(host, model, B, L, 82);
    std::memcpy(input.mapped, x1.data(), x1.size() * 4);
    const VkSemaphore ready = host.create_semaphore(true);

    // The first forward waits on the GPU for the host; the second is queued behind it meanwhile.
    ForwardRequest r;
    r.batch = B;
    r.length = L;
    r.input_buffer = {input.buffer, 0};
    r.output_buffer = {output.buffer, 0};
    r.wait = {ready, 1};
    Completion first = model.submit(r);
    std::vector<float> got2(want2.size(), kNaN);
    Completion second = model.submit(host_request(x2, got2, B, L));
    host.signal_from_host(ready, 1);
    second.wait();
    host.read_back_after({first.timeline_semaphore(), first.timeline_value(), true});
    CHECK(max_abs_diff(std::span<const float>(output.floats(), want1.size()), want1) == 0.0);
    INFO("difference from the first forward's output: " << max_abs_diff(got2, want1));
    CHECK(max_abs_diff(got2, want2) == 0.0);
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_SUITE_END();
