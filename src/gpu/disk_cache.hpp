// Validated blobs on disk: the pipeline cache and compiled FFT kernels, kept between runs.
//
// Each entry is one file holding a header (magic, format version, hyenavk version, the device's vendorID,
// deviceID, driverVersion and pipelineCacheUUID, the entry's key, the payload size and a 64-bit FNV-1a
// checksum of the payload) followed by the payload. An entry whose header does not match this library and
// device exactly, that is truncated or longer than its header says, or whose checksum fails is ignored (and
// replaced by the next store), so nothing unverified ever reaches the driver or VkFFT. Stores are atomic
// (temporary file + rename). A directory that cannot be created or written disables writing, with one
// warning through the context's log; the context works on without the cache.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::gpu {

// 64-bit FNV-1a, continuing from `hash` (the offset basis by default).
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t hash = 0xcbf29ce484222325ull);

// What an entry must have been written for to be used.
struct CacheIdentity {
    std::string library_version;  // version_string()
    uint32_t vendor_id = 0;
    uint32_t device_id = 0;
    uint32_t driver_version = 0;
    std::array<uint8_t, 16> pipeline_cache_uuid{};

    static CacheIdentity of(const DeviceInfo& device);
};

class DiskCache {
public:
    static constexpr uint32_t kFormatVersion = 1;
    // Larger files are not read (a sanity bound against a damaged header, far above any real entry).
    static constexpr uint64_t kMaxPayloadBytes = 1ull << 30;

    struct Stats {
        uint64_t hits = 0;      // loads that returned a payload
        uint64_t misses = 0;    // loads that found no file
        uint64_t rejected = 0;  // loads that found a file and ignored it (mismatch, truncation, checksum)
        uint64_t stores = 0;    // entries written
    };

    // A cache that never reads or writes.
    DiskCache() = default;
    // A cache in `dir`, or the default location where `dir` is empty. `warn` receives the one warning given
    // when the directory turns out to be unusable (may be empty).
    DiskCache(std::string dir, CacheIdentity identity, std::function<void(const std::string&)> warn = {});
    DiskCache(const DiskCache&) = delete;
    DiskCache& operator=(const DiskCache&) = delete;

    // $XDG_CACHE_HOME/hyenavk, else $HOME/.cache/hyenavk; "" where neither variable is set (no default cache).
    static std::string default_dir();

    bool enabled() const { return !dir_.empty(); }
    const std::string& dir() const { return dir_; }
    const CacheIdentity& identity() const { return identity_; }

    // The payload stored under `key` for this identity; nullopt on a miss or an entry that fails validation.
    std::optional<std::vector<uint8_t>> load(std::string_view key);
    // Writes (or replaces) the entry. Returns false, without throwing, where it could not be written.
    bool store(std::string_view key, std::span<const uint8_t> payload);

    // The file an entry lives in (whether or not it exists); "" when the cache is disabled.
    std::string entry_path(std::string_view key) const;
    Stats stats() const;

private:
    void warn_once(const std::string& message);

    std::string dir_;
    CacheIdentity identity_;
    std::function<void(const std::string&)> warn_;
    mutable std::mutex mutex_;
    Stats stats_;
    bool write_failed_ = false;
};

}  // namespace hyenavk::gpu
