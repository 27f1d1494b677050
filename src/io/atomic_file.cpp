#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::io {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
    throw Error(ErrorCode::Io, path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path), temp_path_(path + ".tmp-" + std::to_string(::getpid())) {
    // O_TRUNC rather than O_EXCL: a leftover from a crashed process that had the same pid is simply replaced.
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) {
        const int err = errno;
        fail(path_, "cannot create temporary file '" + temp_path_ + "'", err);
    }
}

AtomicFile::~AtomicFile() {
    if (!committed_) discard();
}

void AtomicFile::write(const void* bytes, size_t count) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    while (count > 0) {
        const ssize_t written = ::write(fd_, p, count);
        if (written < 0) {
            const int err = errno;
            if (err == EINTR) continue;
            fail(path_, "cannot write '" + temp_path_ + "'", err);
        }
        p += written;
        count -= static_cast<size_t>(written);
    }
}

void AtomicFile::commit() {
    if (::fsync(fd_) != 0) {
        const int err = errno;
        fail(path_, "cannot flush '" + temp_path_ + "'", err);
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        const int err = errno;
        fail(path_, "cannot close '" + temp_path_ + "'", err);
    }
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        fail(path_, "cannot rename '" + temp_path_ + "' over it", err);
    }
    committed_ = true;
}

void AtomicFile::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(temp_path_.c_str());
}

}  // namespace hyenavk::io
