// A scratch file path in the system's temporary directory, unique to this process, removed when it goes.
#pragma once

#include <filesystem>
#include <string>

#include <unistd.h>

namespace hyenavk::test {

struct TempPath {
    std::filesystem::path path;
    explicit TempPath(const std::string& name)
        : path(std::filesystem::temp_directory_path() / ("hyenavk-test-" + std::to_string(::getpid()) + "-" + name)) {}
    ~TempPath() { std::filesystem::remove(path); }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    std::string str() const { return path.string(); }
};

}  // namespace hyenavk::test
