// The samples' default model: the default Edifice encoder (embed_dim 287) with random weights, in a temporary
// file removed when the object goes. A game would load its trained model instead.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <hyenavk/model.hpp>

namespace samples {

class TemporaryModel {
public:
    explicit TemporaryModel(const std::string& program) {
        std::string name = "/tmp/" + program + "_XXXXXX";
        const int fd = mkstemp(name.data());
        if (fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
        close(fd);
        path_ = name;
        hyenavk::write_random_model(path_, R"({"embed_dim": 287})", 1);
    }
    ~TemporaryModel() { unlink(path_.c_str()); }
    TemporaryModel(const TemporaryModel&) = delete;
    TemporaryModel& operator=(const TemporaryModel&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace samples
