// NumPy .npy arrays in and out (little-endian, C order). Float inputs may be f32, f64 or f16 (converted to
// f32); integer arrays (i4, i8) are read as int64. Outputs are always f32, written atomically: a failed write
// leaves no file behind.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk {

struct NpyArray {
    std::vector<uint64_t> shape;
    std::vector<float> f32;    // float arrays
    std::vector<int64_t> i64;  // integer arrays
    bool is_integer = false;
};

HYENAVK_API NpyArray read_npy(const std::string& path);
HYENAVK_API void write_npy(const std::string& path, std::span<const uint64_t> shape, std::span<const float> data);

}  // namespace hyenavk
