// A 2-D view into device memory: element (r, c) lives at offset + r * row_stride + c * col_stride
// (in elements, not bytes) of `slice`. Kernels take views, so slices of wider tensors, column broadcasts
// (col_stride 0) and row broadcasts (row_stride 0) need no copies. Ops know shapes, never models.
// Elements are stored as fp32 or, where the device has 16-bit storage, as IEEE half (fp16 storage); kernels
// compute in fp32 either way.
#pragma once

#include <cstdint>
#include <string>

#include "gpu/memory.hpp"
#include "hyenavk/hyenavk.hpp"

namespace hyenavk::ops {

enum class ElementType : uint8_t {
    F32,  // float
    F16,  // IEEE half; needs DeviceCaps::storage_buffer_16bit
};

inline uint32_t element_bytes(ElementType e) { return e == ElementType::F16 ? 2u : 4u; }
inline const char* element_name(ElementType e) { return e == ElementType::F16 ? "f16" : "f32"; }

struct View {
    gpu::BufferSlice slice;
    uint32_t rows = 0, cols = 0;
    uint32_t offset = 0, row_stride = 0, col_stride = 1;
    ElementType element = ElementType::F32;

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

// The whole allocation as a dense [rows, cols] matrix of `element`s.
inline View matrix(const gpu::Allocation& a, uint32_t rows, uint32_t cols, ElementType element = ElementType::F32) {
    if (static_cast<uint64_t>(rows) * cols * element_bytes(element) > a.size())
        throw Error(ErrorCode::Internal, "a [" + std::to_string(rows) + ", " + std::to_string(cols) + "] " +
                                             element_name(element) + " view does not fit its buffer");
    return View{a.slice(), rows, cols, 0, cols, 1, element};
}

// A vector of n elements seen as one row broadcast over `rows` rows.
inline View row_broadcast(const gpu::Allocation& a, uint32_t rows, uint32_t n, ElementType element = ElementType::F32) {
    if (static_cast<uint64_t>(n) * element_bytes(element) > a.size())
        throw Error(ErrorCode::Internal, "a row of " + std::to_string(n) + " " + element_name(element) +
                                             " elements does not fit its buffer");
    return View{a.slice(), rows, n, 0, 0, 1, element};
}

// Push-constant form of a view: offset, row stride, column stride (padded to 16 bytes, std430 uvec3).
struct PushView {
    uint32_t offset, row_stride, col_stride, pad;
};
inline PushView push_view(const View& v) { return {v.offset, v.row_stride, v.col_stride, 0}; }

}  // namespace hyenavk::ops
