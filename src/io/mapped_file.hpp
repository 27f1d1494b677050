// A whole file mapped read-only into memory, unmapped when the object goes away. Large weight files are read
// in place instead of being copied into a buffer first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hyenavk::io {

class MappedFile {
public:
    // NotFound when the file does not exist, Io for any other failure (or when it is not a regular file).
    explicit MappedFile(const std::string& path);
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const unsigned char* data() const { return data_; }
    uint64_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    void unmap() noexcept;

    std::string path_;
    const unsigned char* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace hyenavk::io
