#include "ops/convert.hpp"

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t rows, cols, pad0, pad1;
    PushView out, in;
};

}  // namespace

void convert(gpu::Recorder& rec, const View& out, const View& in) {
    const std::string op = "convert";
    checks::has_shape(out, in.rows, in.cols, op, "out");
    checks::has_shape(in, in.rows, in.cols, op, "in");
    if (out.element == in.element) checks::fail(op, "in and out have the same element type; use copy");
    if (!rec.caps().storage_buffer_16bit)
        throw Error(ErrorCode::Unsupported, "fp16 storage needs 16-bit storage buffers (storageBuffer16BitAccess)");
    const uint64_t n = uint64_t(in.rows) * in.cols;
    if (n == 0) return;
    checks::countable(n, op);
    const Push p{in.rows, in.cols, 0, 0, push_view(out), push_view(in)};
    using gpu::Access;
    rec.dispatch(in.element == ElementType::F16 ? "convert_f16_f32" : "convert_f32_f16", {},
                 {{out.slice, Access::Write}, {in.slice, Access::Read}}, p, grid_1d(rec.caps(), n, 256));
}

}  // namespace hyenavk::ops
