// The readers under test take paths and map their files, as they do for users. A fuzz input is written to
// one anonymous in-memory file per process and handed over as /proc/self/fd/N, so every run goes through the
// same open/stat/mmap path without touching the disk.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

namespace hyenavk::fuzz {

inline std::string as_file(const uint8_t* data, size_t size) {
    static const int fd = [] {
        const int created = memfd_create("hyenavk-fuzz-input", MFD_CLOEXEC);
        if (created < 0) {
            std::perror("memfd_create");
            std::abort();
        }
        return created;
    }();
    if (ftruncate(fd, 0) != 0 || (size != 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))) {
        std::perror("writing the fuzz input");
        std::abort();
    }
    return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace hyenavk::fuzz
