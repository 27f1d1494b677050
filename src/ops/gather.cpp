#include "ops/gather.hpp"

#include <algorithm>

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t count, cols, x_rows, idx_first;
    PushView out, x;
};
static_assert(sizeof(Push) == 48);

constexpr uint32_t kWorkgroupSize = 256;  // local_size_x in the shader

}  // namespace

void gather_rows(gpu::Recorder& rec, const View& out, const View& x, const gpu::BufferSlice& indices,
                 uint32_t count) {
    const std::string op = "gather_rows";
    checks::has_shape(out, count, x.cols, op, "out");
    checks::fits(x, op, "x");
    if (indices.size < uint64_t(count) * sizeof(uint32_t))
        checks::fail(op, std::to_string(count) + " indices do not fit a slice of " + std::to_string(indices.size) +
                             " bytes");
    if (indices.offset % sizeof(uint32_t) != 0) checks::fail(op, "the indices are not 4-byte aligned");
    const ElementType e = checks::element_type(rec.caps(), op, {&out, &x});
    if (count == 0 || x.cols == 0) return;
    if (x.rows == 0) checks::fail(op, "gathering from an empty table");
    checks::countable(uint64_t(count) * x.cols, op);

    // A descriptor's offset must be a multiple of minStorageBufferOffsetAlignment: bind from the aligned
    // offset below the indices and start reading `first` words in.
    const uint64_t align = std::max<uint64_t>(rec.caps().min_storage_buffer_offset_alignment, sizeof(uint32_t));
    const uint64_t lead = indices.offset % align;
    const gpu::BufferSlice bound{indices.buffer, indices.offset - lead, lead + uint64_t(count) * sizeof(uint32_t)};
    const Push p{count, x.cols, x.rows, uint32_t(lead / sizeof(uint32_t)), push_view(out), push_view(x)};
    using gpu::Access;
    rec.dispatch(e == ElementType::F16 ? "gather_rows_f16" : "gather_rows", {},
                 {{out.slice, Access::Write}, {x.slice, Access::Read}, {bound, Access::Read}}, p,
                 grid_1d(rec.caps(), uint64_t(count) * x.cols, kWorkgroupSize));
}

}  // namespace hyenavk::ops
