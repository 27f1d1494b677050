// The disk cache: validated entries (round trip; corrupt, truncated and mismatched entries ignored and
// rewritten), an unwritable directory, pipelines and VkFFT kernels reused by a later context with identical
// results, and the FFT plan cache's LRU bound.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context_impl.hpp"
#include "fft/vkfft_plan.hpp"
#include "gpu/disk_cache.hpp"
#include "gpu/recorder.hpp"
#include "support/gpu_fixture.hpp"
#include "support/kernel_harness.hpp"

using namespace hyenavk;
namespace fs = std::filesystem;

namespace {

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "hyenavk-cache-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

gpu::CacheIdentity test_identity() {
    gpu::CacheIdentity id;
    id.library_version = version_string();
    id.vendor_id = 0x10de;
    id.device_id = 0x2330;
    id.driver_version = 42;
    for (uint8_t i = 0; i < 16; ++i) id.pipeline_cache_uuid[i] = i;
    return id;
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::vector<uint8_t>& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

ContextOptions cached_options(const std::string& dir) {
    ContextOptions options;
    options.validation = true;
    options.log = test::counting_log();
    options.cache_dir = dir;
    return options;
}

struct FftRun {
    std::vector<float> spectrum;    // after the forward transform
    std::vector<float> round_trip;  // after forward and inverse (n times the input)
    VkDeviceSize offset = 0;
};

// Forward then inverse transform of `rows` rows of n samples through ctx's plan cache (or `plan`, if given).
FftRun run_fft(detail::ContextImpl& ctx, uint64_t n, uint64_t rows, const std::vector<float>& x,
               std::shared_ptr<fft::FftPlan> plan = nullptr, const gpu::Allocation* buffer = nullptr) {
    const size_t floats = rows * fft::row_floats(n);
    gpu::Allocation own;
    if (!buffer) {
        own = ctx.memory.allocate(gpu::Lifetime::Activations, floats * sizeof(float));
        buffer = &own;
    }
    std::vector<float> padded(floats, 0.0f);
    for (uint64_t r = 0; r < rows; ++r)
        for (uint64_t i = 0; i < n; ++i) padded[r * fft::row_floats(n) + i] = x[r * n + i];
    ctx.transfer.upload(*buffer, 0, padded.data(), padded.size() * sizeof(float));
    if (!plan) plan = ctx.fft_plans.get(n, rows, buffer->slice().buffer, buffer->slice().offset);
    FftRun run;
    run.offset = buffer->slice().offset;
    const gpu::Binding binding{buffer->slice(), gpu::Access::ReadWrite};
    test::run_once(ctx, [&](gpu::Recorder& r) { r.external({binding}, [&](VkCommandBuffer cmd) { plan->record_forward(cmd); }); });
    run.spectrum.resize(floats);
    ctx.transfer.download(*buffer, 0, run.spectrum.data(), floats * sizeof(float));
    test::run_once(ctx, [&](gpu::Recorder& r) { r.external({binding}, [&](VkCommandBuffer cmd) { plan->record_inverse(cmd); }); });
    std::vector<float> back(floats);
    ctx.transfer.download(*buffer, 0, back.data(), floats * sizeof(float));
    for (uint64_t r = 0; r < rows; ++r)
        for (uint64_t i = 0; i < n; ++i) run.round_trip.push_back(back[r * fft::row_floats(n) + i]);
    return run;
}

// Largest |round_trip / n - x| over every sample.
double round_trip_error(const FftRun& run, const std::vector<float>& x, uint64_t n) {
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(double(run.round_trip[i]) / double(n) - x[i]));
    return worst;
}

}  // namespace

TEST_SUITE_BEGIN("runtime");

TEST_CASE("disk cache: default location follows XDG_CACHE_HOME, then HOME") {
    const char* old_xdg = std::getenv("XDG_CACHE_HOME");
    const char* old_home = std::getenv("HOME");
    const std::optional<std::string> xdg = old_xdg ? std::optional<std::string>(old_xdg) : std::nullopt;
    const std::optional<std::string> home = old_home ? std::optional<std::string>(old_home) : std::nullopt;
    ::setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
    ::setenv("HOME", "/home/someone", 1);
    CHECK(gpu::DiskCache::default_dir() == "/xdg/cache/hyenavk");
    ::setenv("XDG_CACHE_HOME", "relative/is/invalid", 1);
    CHECK(gpu::DiskCache::default_dir() == "/home/someone/.cache/hyenavk");
    ::unsetenv("XDG_CACHE_HOME");
    CHECK(gpu::DiskCache::default_dir() == "/home/someone/.cache/hyenavk");
    if (xdg) ::setenv("XDG_CACHE_HOME", xdg->c_str(), 1);
    if (home)
        ::setenv("HOME", home->c_str(), 1);
    else
        ::unsetenv("HOME");
    CHECK(!gpu::DiskCache().enabled());
}

TEST_CASE("disk cache: round trip, and a second key beside the first") {
    TempDir dir;
    gpu::DiskCache cache(dir.path() + "/nested/dir", test_identity());
    CHECK(cache.enabled());
    CHECK(!cache.load("alpha"));
    CHECK(cache.store("alpha", bytes_of("first payload")));
    CHECK(cache.store("beta/with odd:chars", bytes_of("second")));
    CHECK(cache.store("empty", {}));
    CHECK(cache.load("alpha") == bytes_of("first payload"));
    CHECK(cache.load("beta/with odd:chars") == bytes_of("second"));
    CHECK(cache.load("empty") == std::vector<uint8_t>{});
    CHECK(cache.entry_path("alpha") != cache.entry_path("beta/with odd:chars"));
    // A store replaces the entry.
    CHECK(cache.store("alpha", bytes_of("replaced")));
    CHECK(cache.load("alpha") == bytes_of("replaced"));
    const auto stats = cache.stats();
    CHECK(stats.misses == 1);
    CHECK(stats.hits == 4);
    CHECK(stats.rejected == 0);
    CHECK(stats.stores == 4);
    // Only entry files remain: no temporary files left behind.
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path() + "/nested/dir")) {
        CHECK(e.path().extension() == ".hvkc");
        ++files;
    }
    CHECK(files == 3);
}

TEST_CASE("disk cache: a corrupt payload is ignored, then rewritten") {
    TempDir dir;
    gpu::DiskCache cache(dir.path(), test_identity());
    std::vector<uint8_t> payload(1000);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
    REQUIRE(cache.store("blob", payload));
    const std::string path = cache.entry_path("blob");
    const std::vector<uint8_t> good = read_all(path);
    for (size_t back : {size_t(1), size_t(500), payload.size()}) {  // last, middle and first payload byte
        CAPTURE(back);
        std::vector<uint8_t> bad = good;
        bad[bad.size() - back] ^= 0x01;
        write_all(path, bad);
        CHECK(!cache.load("blob"));
    }
    // A damaged header (the key's bytes) is a mismatch too.
    std::vector<uint8_t> bad = good;
    bad[good.size() - payload.size() - 20] ^= 0xff;
    write_all(path, bad);
    CHECK(!cache.load("blob"));
    CHECK(cache.stats().rejected == 4);
    REQUIRE(cache.store("blob", payload));
    CHECK(cache.load("blob") == payload);
}

TEST_CASE("disk cache: truncated and extended files are ignored") {
    TempDir dir;
    gpu::DiskCache cache(dir.path(), test_identity());
    const auto payload = bytes_of("some payload bytes");
    REQUIRE(cache.store("t", payload));
    const std::string path = cache.entry_path("t");
    const std::vector<uint8_t> good = read_all(path);
    for (size_t keep : {size_t(0), size_t(5), size_t(40), good.size() - payload.size(), good.size() - 1}) {
        CAPTURE(keep);
        write_all(path, {good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep)});
        CHECK(!cache.load("t"));
    }
    std::vector<uint8_t> longer = good;
    longer.push_back(0);
    write_all(path, longer);
    CHECK(!cache.load("t"));
    write_all(path, good);
    CHECK(cache.load("t") == payload);
}

TEST_CASE("disk cache: entries of another hyenavk version, driver or device are ignored") {
    TempDir dir;
    const auto payload = bytes_of("pipeline bytes");
    gpu::DiskCache writer(dir.path(), test_identity());
    REQUIRE(writer.store("k", payload));
    const std::string original = writer.entry_path("k");

    auto reader_with = [&](auto&& change) {
        gpu::CacheIdentity id = test_identity();
        change(id);
        return std::make_unique<gpu::DiskCache>(dir.path(), id);
    };
    // Same file (it is named by key, vendor and device), different header: ignored, then replaced.
    auto other_version = reader_with([](gpu::CacheIdentity& id) { id.library_version = "0.0.0-other"; });
    CHECK(other_version->entry_path("k") == original);
    CHECK(!other_version->load("k"));
    CHECK(other_version->stats().rejected == 1);
    auto other_driver = reader_with([](gpu::CacheIdentity& id) { id.driver_version = 43; });
    CHECK(!other_driver->load("k"));
    auto other_uuid = reader_with([](gpu::CacheIdentity& id) { id.pipeline_cache_uuid[15] ^= 1; });
    CHECK(!other_uuid->load("k"));
    CHECK(other_uuid->stats().rejected == 1);
    // Another device looks in a file of its own; moved there, the header still tells them apart.
    auto other_device = reader_with([](gpu::CacheIdentity& id) { id.device_id = 0x2331; });
    CHECK(other_device->entry_path("k") != original);
    CHECK(!other_device->load("k"));
    CHECK(other_device->stats().misses == 1);
    fs::copy_file(original, other_device->entry_path("k"));
    CHECK(!other_device->load("k"));
    CHECK(other_device->stats().rejected == 1);
    // A key whose file name matches (the file copied under another key's name) is refused by its header.
    fs::copy_file(original, writer.entry_path("other-key"));
    CHECK(!writer.load("other-key"));

    CHECK(writer.load("k") == payload);
    REQUIRE(other_driver->store("k", bytes_of("new driver")));
    CHECK(!writer.load("k"));
    CHECK(other_driver->load("k") == bytes_of("new driver"));
}

TEST_CASE("disk cache: an unwritable directory leaves the context working, with one warning") {
    TempDir dir;
    const std::string blocker = dir.path() + "/not-a-directory";
    write_all(blocker, bytes_of("x"));

    gpu::DiskCache cache(blocker + "/cache", test_identity());
    CHECK(!cache.store("k", bytes_of("v")));
    CHECK(!cache.load("k"));

    auto warnings = std::make_shared<std::vector<std::string>>();
    {
        ContextOptions options;
        options.validation = true;
        options.cache_dir = blocker + "/cache";
        options.log = [warnings](LogLevel level, const std::string& message) {
            if (level == LogLevel::Warning || level == LogLevel::Error) warnings->push_back(message);
        };
        Context ctx = Context::create(options);
        const uint64_t n = 96, rows = 3;
        const auto x = test::random_floats(n * rows, 5);
        const FftRun run = run_fft(ctx.impl(), n, rows, x);
        CHECK(round_trip_error(run, x, n) < 1e-5);
        ctx.impl().pipelines.get("elementwise");
        CHECK(ctx.impl().fft_plans.loaded_from_disk_count() == 0);
        CHECK(ctx.validation_message_count() == 0);
    }  // the pipeline cache is not stored either, and does not warn again
    REQUIRE(warnings->size() == 1);
    CHECK(warnings->front().find("disk cache") != std::string::npos);
    CHECK(!fs::exists(blocker + "/cache"));
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("disk cache: disabled, a context neither reads nor writes") {
    TempDir dir;
    {
        ContextOptions options = cached_options(dir.path());
        options.disk_cache = false;
        Context ctx = Context::create(options);
        CHECK(!ctx.impl().disk_cache->enabled());
        const uint64_t n = 64, rows = 2;
        const auto x = test::random_floats(n * rows, 6);
        CHECK(round_trip_error(run_fft(ctx.impl(), n, rows, x), x, n) < 1e-5);
        ctx.impl().pipelines.get("elementwise");
    }
    CHECK(fs::is_empty(dir.path()));
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("disk cache: a warm directory gives a later context its FFT kernels and pipelines, same results") {
    TempDir dir;
    const uint64_t n = 210, rows = 4;  // 2 * 3 * 5 * 7: several radices
    const auto x = test::random_floats(n * rows, 7);

    FftRun cold;
    std::string fft_entry;
    {
        Context ctx = Context::create(cached_options(dir.path()));
        auto& impl = ctx.impl();
        CHECK(impl.disk_cache->dir() == dir.path());
        CHECK(impl.pipelines.initial_cache_bytes() == 0);
        cold = run_fft(impl, n, rows, x);
        CHECK(impl.fft_plans.created_count() == 1);
        CHECK(impl.fft_plans.loaded_from_disk_count() == 0);
        impl.pipelines.get("elementwise");
        fft_entry = impl.disk_cache->entry_path(fft::FftPlan::cache_key(n, rows, cold.offset));
        CHECK(fs::exists(fft_entry));
        CHECK(ctx.validation_message_count() == 0);
    }  // the pipeline cache is stored here
    CHECK(round_trip_error(cold, x, n) < 1e-5);

    {
        Context ctx = Context::create(cached_options(dir.path()));
        auto& impl = ctx.impl();
        CHECK(impl.pipelines.initial_cache_bytes() > 0);
        const FftRun warm = run_fft(impl, n, rows, x);
        REQUIRE(warm.offset == cold.offset);
        CHECK(impl.fft_plans.created_count() == 1);
        CHECK(impl.fft_plans.loaded_from_disk_count() == 1);
        CHECK(warm.spectrum == cold.spectrum);  // bit for bit
        CHECK(warm.round_trip == cold.round_trip);
        impl.pipelines.get("elementwise");
        MESSAGE("pipelines the driver found in the stored cache: " << impl.pipelines.cache_hit_count());
        CHECK(ctx.validation_message_count() == 0);
    }

    // A damaged FFT entry is never handed to VkFFT: the kernels are compiled again and the entry rewritten.
    std::vector<uint8_t> damaged = read_all(fft_entry);
    REQUIRE(damaged.size() > 100);
    damaged[damaged.size() - 50] ^= 0x40;
    write_all(fft_entry, damaged);
    // And a damaged pipeline cache is not given to the driver.
    gpu::DiskCache probe(dir.path(), gpu::CacheIdentity::of(test::context().device()));
    const std::string pipeline_entry = probe.entry_path(gpu::Pipelines::kDiskCacheKey);
    std::vector<uint8_t> pipeline_bytes = read_all(pipeline_entry);
    REQUIRE(!pipeline_bytes.empty());
    pipeline_bytes.back() ^= 0x01;
    write_all(pipeline_entry, pipeline_bytes);
    {
        Context ctx = Context::create(cached_options(dir.path()));
        auto& impl = ctx.impl();
        CHECK(impl.pipelines.initial_cache_bytes() == 0);
        const FftRun again = run_fft(impl, n, rows, x);
        CHECK(impl.fft_plans.loaded_from_disk_count() == 0);
        CHECK(impl.disk_cache->stats().rejected == 2);
        CHECK(again.spectrum == cold.spectrum);
        impl.pipelines.get("elementwise");
        CHECK(ctx.validation_message_count() == 0);
    }
    CHECK(probe.load(fft::FftPlan::cache_key(n, rows, cold.offset)));
    CHECK(probe.load(gpu::Pipelines::kDiskCacheKey));
    CHECK_NO_VALIDATION_MESSAGES();
}

TEST_CASE("FFT plan cache: LRU eviction drops only the cache's reference") {
    auto& ctx = test::context().impl();
    fft::FftPlanCache cache(*ctx.device, nullptr, 2);
    CHECK(cache.capacity() == 2);
    const uint64_t rows = 2;
    const uint64_t sizes[] = {48, 60, 72};
    std::vector<gpu::Allocation> buffers;
    for (uint64_t n : sizes)
        buffers.push_back(ctx.memory.allocate(gpu::Lifetime::Activations, rows * fft::row_floats(n) * sizeof(float)));
    auto get = [&](size_t i) {
        return cache.get(sizes[i], rows, buffers[i].slice().buffer, buffers[i].slice().offset);
    };

    std::shared_ptr<fft::FftPlan> held = get(0);
    std::weak_ptr<fft::FftPlan> unheld = get(1);
    CHECK(get(0) == held);  // a hit, and now the most recent
    CHECK(!unheld.expired());
    get(2);  // evicts plan 1, the least recently used
    CHECK(cache.size() == 2);
    CHECK(unheld.expired());
    get(1);  // rebuilt; evicts plan 0, which lives on through `held`
    CHECK(cache.size() == 2);
    CHECK(cache.created_count() == 4);
    CHECK(held.use_count() == 1);

    const auto x = test::random_floats(sizes[0] * rows, 8);
    const FftRun run = run_fft(ctx, sizes[0], rows, x, held, &buffers[0]);
    CHECK(round_trip_error(run, x, sizes[0]) < 1e-5);
    // Asking again builds a new plan; the evicted one stays valid until its last holder lets go.
    std::shared_ptr<fft::FftPlan> fresh = get(0);
    CHECK(fresh != held);
    CHECK(cache.created_count() == 5);
    const FftRun again = run_fft(ctx, sizes[0], rows, x, fresh, &buffers[0]);
    CHECK(again.spectrum == run.spectrum);
    held.reset();
    CHECK_NO_VALIDATION_MESSAGES();
}
