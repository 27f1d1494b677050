#include "ops/conv.hpp"

#include <algorithm>

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t rows, cols, length, taps;
    PushView out, x;
    uint32_t w_offset, bias_offset, has_bias, first_step;
};
static_assert(sizeof(Push) == 64);

// Whether a view's rows hold 4 consecutive channels as aligned vec4s.
bool vec4_rows(const View& v, uint64_t rows) {
    return v.col_stride == 1 && v.offset % 4 == 0 && (rows <= 1 || v.row_stride % 4 == 0);
}

}  // namespace

void depthwise_causal_conv(gpu::Recorder& rec, const View& out, const View& x, uint32_t batch, uint32_t length,
                           const View& w, uint32_t taps, const View* bias, uint32_t first_step) {
    const std::string op = "depthwise_causal_conv";
    if (taps == 0) checks::fail(op, "the filter has no taps");
    // Whole sequences have batch * length rows, chunks any count: the rows of x alone decide the work, and
    // `batch` documents the caller's layout without constraining it.
    static_cast<void>(batch);
    const uint64_t rows = x.rows;
    const uint32_t C = x.cols;
    if (rows != 0 && length == 0) checks::fail(op, "sequences of length 0 cannot hold rows");
    if (length != 0 && first_step >= length)
        checks::fail(op, "first step " + std::to_string(first_step) + " lies past a sequence of " +
                             std::to_string(length) + " steps");
    checks::has_shape(x, rows, C, op, "x");
    checks::has_shape(out, rows, C, op, "out");
    checks::dense_shape(w, taps, C, op, "w");
    if (bias) checks::dense_shape(*bias, 1, C, op, "bias");
    // The halo: the first row's taps reach back to step 0 of its sequence or taps - 1 rows, whichever is nearer.
    const uint32_t halo = std::min(first_step, taps - 1);
    if (rows != 0 && C != 0 && uint64_t(halo) * x.row_stride > x.offset)
        checks::fail(op, "x needs " + std::to_string(halo) + " halo rows before its offset " +
                             std::to_string(x.offset) + " (first step " + std::to_string(first_step) + ")");
    const View& b = bias ? *bias : w;  // the shader declares every binding
    const ElementType e = checks::element_type(rec.caps(), op, {&out, &x, &w, &b});
    if (rows == 0 || C == 0) return;
    checks::countable(rows * C, op);

    const Push p{x.rows, C, length, taps, push_view(out), push_view(x), w.offset, b.offset, bias ? 1u : 0u,
                 first_step};
    // Halo rows sit before x's offset at whole row strides, so x's alignment covers them too.
    const bool vec4 = C % 4 == 0 && vec4_rows(out, rows) && vec4_rows(x, rows) && w.offset % 4 == 0 &&
                      (!bias || b.offset % 4 == 0);
    const uint32_t spec[] = {vec4 ? 1u : 0u};
    using gpu::Access;
    rec.dispatch(e == ElementType::F16 ? "dwconv_causal_f16" : "dwconv_causal", spec,
                 {{out.slice, Access::Write}, {x.slice, Access::Read}, {w.slice, Access::Read}, {b.slice, Access::Read}},
                 p, grid_1d(rec.caps(), rows, 1), rows * C * gpu::Recorder::kOpsPerInvocation);
}

}  // namespace hyenavk::ops
