// Writes a file so that readers see either the old file or the complete new one: the bytes go to
// "<path>.tmp-<pid>", which is renamed over the path on commit() and removed if commit() is never reached.
#pragma once

#include <cstddef>
#include <string>

namespace hyenavk::io {

class AtomicFile {
public:
    // Io error (naming the path) when the temporary file cannot be created.
    explicit AtomicFile(const std::string& path);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();  // removes the temporary file unless commit() succeeded

    void write(const void* bytes, size_t count);
    // Flushes to disk and renames into place.
    void commit();

    const std::string& path() const { return path_; }

private:
    void discard() noexcept;

    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace hyenavk::io
