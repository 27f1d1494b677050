#include "gpu/disk_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "io/atomic_file.hpp"

namespace hyenavk::gpu {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'V', 'K', 'C', 'A', 'C', 'H'};
constexpr uint32_t kMaxVersionBytes = 256;
constexpr uint32_t kMaxKeyBytes = 4096;

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<uint8_t>& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
}

// Bounds-checked reading of the header; every read fails (and stays failed) past the end.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
    bool ok() const { return ok_; }
    size_t position() const { return pos_; }
    std::span<const uint8_t> take(size_t n) {
        if (!ok_ || bytes_.size() - pos_ < n) {
            ok_ = false;
            return {};
        }
        const auto s = bytes_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    uint32_t u32() {
        const auto s = take(4);
        uint32_t v = 0;
        for (size_t i = 0; i < s.size(); ++i) v |= uint32_t(s[i]) << (8 * i);
        return v;
    }
    uint64_t u64() {
        const auto s = take(8);
        uint64_t v = 0;
        for (size_t i = 0; i < s.size(); ++i) v |= uint64_t(s[i]) << (8 * i);
        return v;
    }
    bool equals(std::string_view expected, uint32_t max_len) {
        const uint32_t len = u32();
        if (len > max_len) ok_ = false;
        const auto s = take(len);
        return ok_ && len == expected.size() && std::memcmp(s.data(), expected.data(), len) == 0;
    }

private:
    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
    bool ok_ = true;
};

std::vector<uint8_t> header_bytes(const CacheIdentity& id, std::string_view key, std::span<const uint8_t> payload) {
    std::vector<uint8_t> h;
    put_bytes(h, kMagic, sizeof kMagic);
    put_u32(h, DiskCache::kFormatVersion);
    put_u32(h, static_cast<uint32_t>(id.library_version.size()));
    put_bytes(h, id.library_version.data(), id.library_version.size());
    put_u32(h, id.vendor_id);
    put_u32(h, id.device_id);
    put_u32(h, id.driver_version);
    put_bytes(h, id.pipeline_cache_uuid.data(), id.pipeline_cache_uuid.size());
    put_u32(h, static_cast<uint32_t>(key.size()));
    put_bytes(h, key.data(), key.size());
    put_u64(h, payload.size());
    put_u64(h, fnv1a64(payload));
    return h;
}

// The whole file, or nullopt where it does not exist, cannot be read or is implausibly large.
std::optional<std::vector<uint8_t>> read_file(const std::string& path, bool* exists) {
    *exists = false;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    *exists = true;
    struct stat st{};
    std::optional<std::vector<uint8_t>> result;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        uint64_t(st.st_size) <= DiskCache::kMaxPayloadBytes + kMaxVersionBytes + kMaxKeyBytes + 1024) {
        std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
        size_t got = 0;
        bool failed = false;
        while (got < data.size()) {
            const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed = n < 0;
                break;
            }
            got += static_cast<size_t>(n);
        }
        if (!failed) {
            data.resize(got);  // a file that shrank meanwhile is caught by the size check
            result = std::move(data);
        }
    }
    ::close(fd);
    return result;
}

std::string file_name(const CacheIdentity& id, std::string_view key) {
    // A readable prefix of the key, and a hash that tells keys and devices apart (the header decides).
    std::string name;
    for (char c : key.substr(0, 48)) {
        const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '_' || c == '.';
        name += safe ? c : '_';
    }
    uint64_t h = fnv1a64({reinterpret_cast<const uint8_t*>(key.data()), key.size()});
    const uint32_t ids[2] = {id.vendor_id, id.device_id};
    h = fnv1a64({reinterpret_cast<const uint8_t*>(ids), sizeof ids}, h);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return name + "-" + hex + ".hvkc";
}

}  // namespace

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t hash) {
    for (uint8_t b : bytes) {
        hash ^= b;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

CacheIdentity CacheIdentity::of(const DeviceInfo& device) {
    CacheIdentity id;
    id.library_version = version_string();
    id.vendor_id = device.vendor_id;
    id.device_id = device.device_id;
    id.driver_version = device.driver_version;
    id.pipeline_cache_uuid = device.pipeline_cache_uuid;
    return id;
}

std::string DiskCache::default_dir() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') return std::string(xdg) + "/hyenavk";  // relative values are invalid (XDG spec)
    const char* home = std::getenv("HOME");
    if (home && home[0] != '\0') return std::string(home) + "/.cache/hyenavk";
    return {};
}

DiskCache::DiskCache(std::string dir, CacheIdentity identity, std::function<void(const std::string&)> warn)
    : dir_(dir.empty() ? default_dir() : std::move(dir)), identity_(std::move(identity)), warn_(std::move(warn)) {
    if (identity_.library_version.size() > kMaxVersionBytes) identity_.library_version.resize(kMaxVersionBytes);
}

std::string DiskCache::entry_path(std::string_view key) const {
    if (!enabled()) return {};
    return dir_ + "/" + file_name(identity_, key);
}

std::optional<std::vector<uint8_t>> DiskCache::load(std::string_view key) {
    if (!enabled() || key.size() > kMaxKeyBytes) return std::nullopt;
    bool exists = false;
    auto file = read_file(entry_path(key), &exists);
    std::optional<std::vector<uint8_t>> payload;
    if (file) {
        Reader r(*file);
        const auto magic = r.take(sizeof kMagic);
        bool match = r.ok() && std::memcmp(magic.data(), kMagic, sizeof kMagic) == 0;
        match = r.u32() == kFormatVersion && match;
        match = r.equals(identity_.library_version, kMaxVersionBytes) && match;
        match = r.u32() == identity_.vendor_id && match;
        match = r.u32() == identity_.device_id && match;
        match = r.u32() == identity_.driver_version && match;
        const auto uuid = r.take(16);
        match = r.ok() && std::memcmp(uuid.data(), identity_.pipeline_cache_uuid.data(), 16) == 0 && match;
        match = r.equals(key, kMaxKeyBytes) && match;
        const uint64_t size = r.u64();
        const uint64_t checksum = r.u64();
        // Exactly the payload the header announces: a truncated or extended file is rejected.
        if (match && r.ok() && size <= kMaxPayloadBytes && file->size() - r.position() == size) {
            const std::span<const uint8_t> body(file->data() + r.position(), static_cast<size_t>(size));
            if (fnv1a64(body) == checksum) payload.emplace(body.begin(), body.end());
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (payload)
        ++stats_.hits;
    else if (exists)
        ++stats_.rejected;
    else
        ++stats_.misses;
    return payload;
}

bool DiskCache::store(std::string_view key, std::span<const uint8_t> payload) {
    if (!enabled() || key.size() > kMaxKeyBytes || payload.size() > kMaxPayloadBytes) return false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (write_failed_) return false;
    }
    // AtomicFile's temporary name is per process: two contexts of one process storing the same entry at once
    // take turns. (Processes have temporary files of their own.)
    static std::mutex process_writes;
    std::lock_guard<std::mutex> write_lock(process_writes);
    try {
        std::error_code ec;
        std::filesystem::create_directories(dir_, ec);
        if (ec) throw Error(ErrorCode::Io, dir_ + ": cannot create directory: " + ec.message());
        const std::vector<uint8_t> header = header_bytes(identity_, key, payload);
        io::AtomicFile file(entry_path(key));
        file.write(header.data(), header.size());
        file.write(payload.data(), payload.size());
        file.commit();
    } catch (const std::exception& e) {
        warn_once(std::string("the disk cache is not writable, continuing without storing to it: ") + e.what());
        return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.stores;
    return true;
}

DiskCache::Stats DiskCache::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

void DiskCache::warn_once(const std::string& message) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (write_failed_) return;
        write_failed_ = true;
    }
    if (warn_) warn_(message);
}

}  // namespace hyenavk::gpu
