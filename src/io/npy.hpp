// NumPy .npy arrays: versions 1.0, 2.0 and 3.0 read (little-endian, C order), version 1.0 written as f32.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hyenavk::io {

struct NpyArray {
    std::vector<uint64_t> shape;  // empty for a 0-d array (one element)
    std::vector<float> f32;       // filled for f2, f4 and f8 data (f2 and f8 converted)
    std::vector<int64_t> i64;     // filled for i4 and i8 data
    bool is_integer = false;
};

// NotFound or Io when the file cannot be read; Format for a malformed file or an unsupported dtype, byte
// order or layout, naming it.
NpyArray read_npy(const std::string& path);

// Writes '<f4' in C order; the file appears complete or not at all. InvalidArgument when the shape does not
// match data.size(), Io on failure.
void write_npy(const std::string& path, std::span<const uint64_t> shape, std::span<const float> data);

}  // namespace hyenavk::io
