#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::io {

namespace {

[[noreturn]] void fail(const std::string& path, const char* action, int err) {
    const ErrorCode code = err == ENOENT ? ErrorCode::NotFound : ErrorCode::Io;
    throw Error(code, path + ": " + action + ": " + std::strerror(err));
}

// Closes the descriptor on every path out of the constructor; the mapping outlives it.
struct Descriptor {
    int fd;
    ~Descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
    Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) fail(path, "cannot open", errno);
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) fail(path, "cannot stat", errno);
    if (!S_ISREG(st.st_mode)) throw Error(ErrorCode::Io, path + ": not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ == 0) return;  // mmap refuses zero lengths; an empty file simply has no bytes
    void* mapping = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (mapping == MAP_FAILED) fail(path, "cannot map", errno);
    data_ = static_cast<const unsigned char*>(mapping);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        unmap();
        path_ = std::move(other.path_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

MappedFile::~MappedFile() { unmap(); }

void MappedFile::unmap() noexcept {
    if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), static_cast<size_t>(size_));
    data_ = nullptr;
    size_ = 0;
}

}  // namespace hyenavk::io
