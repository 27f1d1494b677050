// The public face of the .npy reader and writer (include/hyenavk/npy.hpp).
#include "hyenavk/npy.hpp"

#include "io/npy.hpp"

namespace hyenavk {

NpyArray read_npy(const std::string& path) {
    io::NpyArray a = io::read_npy(path);
    return {std::move(a.shape), std::move(a.f32), std::move(a.i64), a.is_integer};
}

void write_npy(const std::string& path, std::span<const uint64_t> shape, std::span<const float> data) {
    io::write_npy(path, shape, data);
}

}  // namespace hyenavk
