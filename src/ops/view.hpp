// A 2-D float view into device memory: element (r, c) lives at offset + r * row_stride + c * col_stride
// (in floats) of `slice`. Kernels take views, so slices of wider tensors, column broadcasts (col_stride 0)
// and row broadcasts (row_stride 0) need no copies. Ops know shapes, never models.
#pragma once

#include <cstdint>
#include <string>

#include "gpu/memory.hpp"
#include "hyenavk/hyenavk.hpp"

namespace hyenavk::ops {

struct View {
    gpu::BufferSlice slice;
    uint32_t rows = 0, cols = 0;
    uint32_t offset = 0, row_stride = 0, col_stride = 1;

    // Columns [first, first + width) of this view.
    View columns(uint32_t first, uint32_t width) const {
        View v = *this;
        v.offset += first * col_stride;
        v.cols = width;
        return v;
    }
    // Rows [first, first + count) of this view.
    View rows_range(uint32_t first, uint32_t count) const {
        View v = *this;
        v.offset += first * row_stride;
        v.rows = count;
        return v;
    }
};

// The whole allocation as a dense [rows, cols] matrix.
inline View matrix(const gpu::Allocation& a, uint32_t rows, uint32_t cols) {
    if (static_cast<uint64_t>(rows) * cols * sizeof(float) > a.size())
        throw Error(ErrorCode::Internal, "a [" + std::to_string(rows) + ", " + std::to_string(cols) +
                                             "] view does not fit its buffer");
    return View{a.slice(), rows, cols, 0, cols, 1};
}

// A vector of n floats seen as one row broadcast over `rows` rows.
inline View row_broadcast(const gpu::Allocation& a, uint32_t rows, uint32_t n) {
    return View{a.slice(), rows, n, 0, 0, 1};
}

// Push-constant form of a view: offset, row stride, column stride (padded to 16 bytes, std430 uvec3).
struct PushView {
    uint32_t offset, row_stride, col_stride, pad;
};
inline PushView push_view(const View& v) { return {v.offset, v.row_stride, v.col_stride, 0}; }

}  // namespace hyenavk::ops
