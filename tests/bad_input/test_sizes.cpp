// The catalogue, part 4: sizes. Config sizes beyond what a long convolution can serve, shapes whose counts
// pass 32 or 64 bits, models, stream sets and memory budgets larger than the device or the host. Each is
// refused by name before anything is allocated (or, for a budget, clamped to what the device has), never
// wrapped into a small size that runs with a wrong answer.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bad_input/catalogue.hpp"
#include "core/context_impl.hpp"
#include "fft/long_conv.hpp"
#include "fft/vkfft_plan.hpp"
#include "hyenavk/hyenavk.h"
#include "hyenavk/stream.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ops/tiles.hpp"
#include "support/gpu_fixture.hpp"
#include "support/temp_path.hpp"

namespace hyenavk::test {
namespace {

constexpr uint32_t kU32Max = 0xffffffffu;
constexpr uint64_t kMiB = 1ull << 20;

// kTinyConfig with `changes` merged over it, key by key.
std::string tiny_config_with(const nlohmann::json& changes) {
    nlohmann::json config = nlohmann::json::parse(kTinyConfig);
    config.update(changes);
    return config.dump();
}

// The tiny model's weights under another config (one whose changes leave the tensors' shapes alone).
void write_tiny_with(const std::string& path, const nlohmann::json& changes) {
    ModelParts parts = ModelParts::tiny();
    parts.config = tiny_config_with(changes);
    parts.write(path);
}

// The peak resident memory of this process since construction, where the system lets it be reset (Linux);
// elsewhere known() is false and cases skip the check.
class PeakMemory {
public:
    PeakMemory() {
        std::ofstream clear("/proc/self/clear_refs");
        clear << "5";  // resets VmHWM to the current resident size
        clear.flush();
        known_ = clear.good() && current_peak() > 0;
        start_ = known_ ? resident() : 0;
    }
    bool known() const { return known_; }
    // How far the peak rose above the resident size at construction.
    uint64_t growth() const {
        const uint64_t peak = current_peak();
        return peak > start_ ? peak - start_ : 0;
    }

private:
    static uint64_t status_kib(const std::string& key) {
        std::ifstream status("/proc/self/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
        return 0;
    }
    static uint64_t current_peak() { return status_kib("VmHWM"); }
    static uint64_t resident() { return status_kib("VmRSS"); }
    bool known_ = false;
    uint64_t start_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A model file of `config` whose header declares every tensor and whose data is a hole: gigabytes of weights
// that take no disk space and, read, would take host memory.
void write_sparse_model(const std::string& path, const StripedHyenaConfig& config) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    uint64_t offset = 0;
    for (const model::TensorSpec& t : model::striped_hyena_tensors(config)) {
        const uint64_t bytes = t.elements() * sizeof(float);
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    nlohmann::json config_json = nlohmann::json::parse(kTinyConfig);
    config_json.update({{"hidden_size", config.hidden_size}, {"num_layers", config.num_layers}});
    header["__metadata__"] = {{"config", config_json.dump()}};
    const std::string text = header.dump();
    write_safetensors_bytes(path, text, {});
    std::filesystem::resize_file(path, 8 + text.size() + offset);
}

}  // namespace

TEST_SUITE_BEGIN("bad_input");

TEST_CASE("sizes: seq_len, window_size and l_max beyond any long convolution are refused by name") {
    TempPath file("sizes-taps.safetensors");
    OwnContext ctx;
    const std::string limit = "at most " + std::to_string(fft::LongConv::kMaxLength);
    SUBCASE("seq_len near 2^32 in the file's config") {
        write_tiny_with(file.str(), {{"seq_len", kU32Max}});
        expect_error(ErrorCode::InvalidArgument, "seq_len must be " + limit, [&] { Model::load(*ctx, file.str()); });
    }
    SUBCASE("window_size near 2^32 with no seq_len, in the file or as an override") {
        write_tiny_with(file.str(), {{"window_size", kU32Max - 100}});
        expect_error(ErrorCode::InvalidArgument, "window_size must be " + limit,
                     [&] { Model::load(*ctx, file.str()); });
        ModelParts::tiny().write(file.str());
        LoadOptions options;
        options.config_json = R"({"window_size": 4294934529})";  // 2^32 - 32767: where the tile count wrapped
        expect_error(ErrorCode::InvalidArgument, "window_size", [&] { Model::load(*ctx, file.str(), options); });
    }
    SUBCASE("l_max near 2^32 is refused before any weight is generated") {
        expect_error(ErrorCode::InvalidArgument, "l_max must be " + limit, [&] {
            write_random_model(file.str(), R"({"arch": "hyena_operator", "d_model": 4, "l_max": 4294967295})", 1);
        });
        CHECK_FALSE(std::filesystem::exists(file.path));
    }
    SUBCASE("a config integer beyond 32 bits names the bound, other sizes their own") {
        write_tiny_with(file.str(), {{"window_size", 1ull << 40}});
        expect_error(ErrorCode::InvalidArgument, "'window_size' must be at most 4294967295 (got 1099511627776)",
                     [&] { Model::load(*ctx, file.str()); });
        write_tiny_with(file.str(), {{"hidden_size", 70000}});
        expect_error(ErrorCode::InvalidArgument, "hidden_size must be at most 65536 (got 70000)",
                     [&] { Model::load(*ctx, file.str()); });
    }
    // The tile count is 64-bit arithmetic: a sequence near 2^32 steps is cut into pieces that cover it.
    const auto tiles = ops::make_tiles(1, kU32Max, 32768);
    uint64_t covered = 0;
    for (const auto& t : tiles) covered += t.t_count;
    CHECK(tiles.size() == 131072);
    CHECK(covered == kU32Max);
}

TEST_CASE("sizes: memory plans and output counts of empty or overflowing shapes are refused at once") {
    TempPath file("sizes-shapes.safetensors");
    ModelParts::tiny().write(file.str());
    OwnContext ctx;
    Model model = Model::load(*ctx, file.str());
    // Before validation, L = 0 sent the FFT size search into an endless loop.
    expect_error(ErrorCode::InvalidArgument, "L = 0", [&] { model.memory_plan(1, 0); });
    expect_error(ErrorCode::InvalidArgument, "L = 0", [&] { model.device_memory_bytes(4, 0, true); });
    expect_error(ErrorCode::InvalidArgument, "B = 0", [&] { model.memory_plan(0, 16); });
    expect_error(ErrorCode::InvalidArgument, "2^62", [] { fft::smooth_size(UINT64_MAX); });
    expect_error(ErrorCode::InvalidArgument, "L = 0", [] { fft::LongConv::fft_size_for(0, 6); });
    expect_error(ErrorCode::InvalidArgument, "overflows 64 bits",
                 [&] { model.memory_plan(kU32Max, kU32Max); });

    TempPath op_file("sizes-operator.safetensors");
    write_random_model(op_file.str(), R"({"arch": "hyena_operator", "d_model": 4, "l_max": 8})", 2);
    Model op = Model::load(*ctx, op_file.str());
    expect_error(ErrorCode::InvalidArgument, "L = 0", [&] { op.memory_plan(1, 0); });
    expect_error(ErrorCode::InvalidArgument, "B = 0", [&] { op.device_memory_bytes(0, 8); });
    CHECK(model.forward(tiny_frames(kTinyWindow), 1, kTinyWindow).size() == kTinyOutputs);
}

TEST_CASE("sizes: the C API reports empty and overflowing shapes as INVALID_ARGUMENT, naming them") {
    hyenavk_context c = counted_c_context();
    TempPath file("sizes-c.safetensors");
    ModelParts::tiny().write(file.str());
    hyenavk_model m = nullptr;
    REQUIRE(hyenavk_model_load(c, file.str().c_str(), nullptr, &m) == HYENAVK_OK);
    const auto expect_status = [](hyenavk_status got, const std::string& named) {
        CHECK_MESSAGE(got == HYENAVK_ERROR_INVALID_ARGUMENT,
                      hyenavk_status_name(got) << ": " << hyenavk_last_error_message());
        CHECK_MESSAGE(std::string(hyenavk_last_error_message()).find(named) != std::string::npos,
                      hyenavk_last_error_message());
    };
    uint64_t count = 12345;
    expect_status(hyenavk_model_output_count(m, 1u << 31, 1u << 31, 1, &count), "B = 2147483648, L = 2147483648");
    expect_status(hyenavk_model_output_count(m, kU32Max, kU32Max, 1, &count), "overflows 64 bits");
    expect_status(hyenavk_model_output_count(m, 0, 0, 1, &count), "B = 0, L = 0");
    expect_status(hyenavk_model_output_count(m, 4, 0, 0, &count), "L = 0");
    hyenavk_memory_plan plan;
    hyenavk_memory_plan_init(&plan);
    expect_status(hyenavk_model_memory_plan(m, 0, 16, 0, &plan), "B = 0");
    // A caller's error, not a broken invariant inside hyenavk (INTERNAL): for both kinds of output.
    std::vector<float> x = tiny_frames(1), y(kTinyOutputs);
    expect_status(hyenavk_model_forward(m, x.data(), x.size(), kU32Max, kU32Max, 1, y.data(), UINT64_MAX),
                  "B = 4294967295, L = 4294967295");
    expect_status(hyenavk_model_forward(m, x.data(), x.size(), kU32Max, kU32Max, 0, y.data(), UINT64_MAX),
                  "B = 4294967295, L = 4294967295");
    REQUIRE(hyenavk_model_output_count(m, 2, kTinyWindow, 1, &count) == HYENAVK_OK);
    CHECK(count == 2 * kTinyWindow * kTinyOutputs);
    const std::vector<float> two = tiny_frames(2 * kTinyWindow);
    std::vector<float> out(count);
    CHECK(hyenavk_model_forward(m, two.data(), two.size(), 2, kTinyWindow, 1, out.data(), out.size()) == HYENAVK_OK);
    hyenavk_model_destroy(m);
    destroy_counted_c_context(c);
}

TEST_CASE("sizes: a model larger than the budget is refused from its header, before its weights are read") {
    // H 2048, 2 layers: some 550 MB of weights, declared by the header of a sparse file.
    StripedHyenaConfig big = StripedHyenaConfig::recommended_defaults(kTinyFeatures);
    big.hidden_size = 2048;
    big.num_layers = 2;
    big.filter_size = 3;
    big.window_size = kTinyWindow;
    TempPath file("sizes-big.safetensors");
    write_sparse_model(file.str(), big);
    ContextOptions options;
    options.memory_budget_bytes = 64 * kMiB;
    OwnContext ctx(options);
    const PeakMemory peak;
    const auto t0 = std::chrono::steady_clock::now();
    expect_error(ErrorCode::OutOfMemory, "the weights need", [&] { Model::load(*ctx, file.str()); });
    expect_error(ErrorCode::OutOfMemory, "the memory budget is 64 MiB", [&] { Model::load(*ctx, file.str()); });
    MESSAGE("refused after " << seconds_since(t0) << " s; peak resident memory rose by "
                             << (peak.growth() >> 20) << " MiB");
    CHECK(ctx->impl().memory.stats().peak_reserved == 0);
    if (peak.known()) CHECK(peak.growth() < 64 * kMiB);
}

TEST_CASE("sizes: filters longer than the budget holds are refused by name, before any is made") {
    TempPath file("sizes-filters.safetensors");
    write_tiny_with(file.str(), {{"seq_len", fft::LongConv::kMaxLength}});
    ContextOptions options;
    options.memory_budget_bytes = 64 * kMiB;
    OwnContext ctx(options);
    // 2 filters of [2^26, 8] floats: 4 GiB.
    expect_error(ErrorCode::OutOfMemory, "the filters of seq_len 67108864 (2 x [67108864, 8]) need 409",
                 [&] { Model::load(*ctx, file.str()); });
    CHECK(ctx->impl().memory.stats().peak_reserved < 16 * kMiB);
}

TEST_CASE("sizes: generating a model larger than the host's memory is refused before anything is made") {
    TempPath file("sizes-generate.safetensors");
    const PeakMemory peak;
    expect_error(ErrorCode::OutOfMemory, "parameters needs", [&] {
        write_random_model(file.str(), R"({"embed_dim": 1, "hidden_size": 65536, "num_layers": 1024})", 1);
    });
    CHECK_FALSE(std::filesystem::exists(file.path));
    if (peak.known()) CHECK(peak.growth() < 64 * kMiB);
}

TEST_CASE("sizes: stream sets beyond the device are refused, naming the streams, before host memory is used") {
    TempPath file("sizes-streams.safetensors");
    write_tiny_with(file.str(), {{"seq_len", 32768}});
    OwnContext ctx;
    Model model = Model::load(*ctx, file.str());
    // 131073 x 32768 ring rows pass 2^32: they must not wrap into a small ring.
    expect_error(ErrorCode::DeviceLimit, "131073 streams: the ring of a 32768-tap filter",
                 [&] { StreamSet::create(model, {.streams = 131073}); });
    const PeakMemory peak;
    const auto t0 = std::chrono::steady_clock::now();
    expect_error(ErrorCode::DeviceLimit, "268435456 streams", [&] { StreamSet::create(model, {.streams = 1u << 28}); });
    expect_error(ErrorCode::DeviceLimit, "4294967295 streams", [&] { StreamSet::create(model, {.streams = kU32Max}); });
    MESSAGE("refused after " << seconds_since(t0) << " s; peak resident memory rose by " << (peak.growth() >> 20)
                             << " MiB");
    if (peak.known()) CHECK(peak.growth() < 64 * kMiB);
    StreamSet set = StreamSet::create(model, {.streams = 2});
    CHECK(set.push(tiny_frames(2)).size() == 2 * kTinyOutputs);
}

TEST_CASE("sizes: a memory budget beyond what the device has is clamped to it, with a warning") {
    std::vector<std::string> warnings;
    ContextOptions options;
    options.validation = true;
    options.disk_cache = false;
    options.memory_budget_bytes = 1ull << 50;  // 1 PiB
    options.log = [&warnings](LogLevel level, const std::string& message) {
        if (level >= LogLevel::Warning) warnings.push_back(message);
    };
    {
        Context ctx = Context::create(options);
        const uint64_t budget = ctx.impl().memory.budget();
        CHECK(budget < options.memory_budget_bytes);
        CHECK(budget == ctx.impl().memory.capacity());
        if (ctx.device().type == DeviceType::Cpu) CHECK(budget <= gpu::host_memory_bytes());
        REQUIRE(warnings.size() == 1);
        CHECK(warnings[0].find("memory budget of 1073741824 MiB is more than") != std::string::npos);
        TempPath file("sizes-budget.safetensors");
        ModelParts::tiny().write(file.str());
        Model model = Model::load(ctx, file.str());
        CHECK(model.memory_plan(1, kTinyWindow).budget_bytes == budget);
    }
    CHECK(warnings.size() == 1);  // the validation layer said nothing
}

TEST_SUITE_END();

}  // namespace hyenavk::test
