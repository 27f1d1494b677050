// Operand checks shared by the kernel wrappers. Shaders index with 32-bit element offsets and trust the
// push constants, so a view that reaches past its binding must be refused here, before anything is recorded.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "hyenavk/hyenavk.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops::checks {

inline std::string shape(uint64_t rows, uint64_t cols) {
    return "[" + std::to_string(rows) + ", " + std::to_string(cols) + "]";
}

[[noreturn]] inline void fail(const std::string& op, const std::string& what) {
    throw Error(ErrorCode::Internal, op + ": " + what);
}

// The view's last element lies inside its slice.
inline void fits(const View& v, const std::string& op, const char* name) {
    if (v.rows == 0 || v.cols == 0) return;
    const uint64_t last = uint64_t(v.offset) + uint64_t(v.rows - 1) * v.row_stride + uint64_t(v.cols - 1) * v.col_stride;
    const uint32_t bytes = element_bytes(v.element);
    if ((last + 1) * bytes > v.slice.size)
        fail(op, std::string(name) + " view " + shape(v.rows, v.cols) + " reaches element " + std::to_string(last) +
                     " of a binding holding " + std::to_string(v.slice.size / bytes) + " " + element_name(v.element) +
                     " elements");
}

inline void has_shape(const View& v, uint64_t rows, uint64_t cols, const std::string& op, const char* name) {
    if (v.rows != rows || v.cols != cols)
        fail(op, std::string(name) + " is " + shape(v.rows, v.cols) + ", expected " + shape(rows, cols));
    fits(v, op, name);
}

// Weights and biases are read with their own packed indexing (row stride = cols, column stride 1).
inline void dense_shape(const View& v, uint64_t rows, uint64_t cols, const std::string& op, const char* name) {
    has_shape(v, rows, cols, op, name);
    if (v.col_stride != 1 || (v.rows > 1 && v.row_stride != v.cols))
        fail(op, std::string(name) + " must be contiguous (row stride " + std::to_string(v.row_stride) +
                     ", column stride " + std::to_string(v.col_stride) + ")");
}

// Grid-stride loops count items in 32 bits; keep the count where `i += stride` cannot wrap.
inline void countable(uint64_t items, const std::string& op) {
    if (items >= (uint64_t(1) << 31)) fail(op, std::to_string(items) + " items exceed one dispatch's 2^31 limit");
}

// The element type shared by all of an op's views: a kernel variant reads and writes one type only. fp16
// storage needs the device's storageBuffer16BitAccess feature (DeviceCaps::storage_buffer_16bit).
inline ElementType element_type(const DeviceCaps& caps, const std::string& op, std::initializer_list<const View*> views) {
    const ElementType e = (*views.begin())->element;
    for (const View* v : views)
        if (v->element != e)
            fail(op, std::string("operands mix ") + element_name(e) + " and " + element_name(v->element) +
                         " elements; all views of one call must share one element type");
    if (e == ElementType::F16 && !caps.storage_buffer_16bit)
        throw Error(ErrorCode::Unsupported,
                    op + ": f16 views need 16-bit storage buffers (storageBuffer16BitAccess), which this device "
                         "lacks or which is switched off");
    return e;
}

}  // namespace hyenavk::ops::checks
