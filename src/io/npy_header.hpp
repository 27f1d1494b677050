// The header of a .npy file is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 5, 6), }. This parses exactly that subset of Python instead of trusting its layout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hyenavk::io {

struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    std::vector<uint64_t> shape;
};

// Format error starting with `what` when the text is not such a dict with exactly these three keys.
NpyHeader parse_npy_header(std::string_view text, const std::string& what);

// The dict literal for a little-endian C-order array, without padding.
std::string format_npy_header(const std::string& descr, const std::vector<uint64_t>& shape);

}  // namespace hyenavk::io
