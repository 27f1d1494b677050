#include "ops/elementwise.hpp"

#include <algorithm>

#include "gpu/device.hpp"
#include "ops/checks.hpp"

namespace hyenavk::ops {
namespace {

enum Op : uint32_t { kCopy = 0, kAdd, kMul, kSilu, kSigmoid, kSinFreq, kExpDecay, kScale, kSin, kSiluMul, kMulSigmoid };

struct Push {
    uint32_t rows, cols, unused;
    float scalar;
    PushView out, a, b, c;
};
static_assert(sizeof(Push) == 80);

void check_shape(const View& out, const View& v, const char* name) {
    if (v.rows != out.rows || v.cols != out.cols)
        throw Error(ErrorCode::Internal, std::string("element-wise: operand ") + name + " is [" +
                                             std::to_string(v.rows) + ", " + std::to_string(v.cols) +
                                             "], output is [" + std::to_string(out.rows) + ", " +
                                             std::to_string(out.cols) + "]");
}

// Workgroups take rows: operands that are all contiguous and have fewer, longer rows are seen as rows of
// kFlatCols, so that long vectors spread over many workgroups.
constexpr uint32_t kFlatCols = 256;

void flatten_contiguous(View& out, View& a, View& b, View& c) {
    const uint64_t total = uint64_t(out.rows) * out.cols;
    auto contiguous = [&](const View& v) { return v.col_stride == 1 && (out.rows <= 1 || v.row_stride == out.cols); };
    if (out.cols <= kFlatCols || total % kFlatCols != 0 ||
        !(contiguous(out) && contiguous(a) && contiguous(b) && contiguous(c)))
        return;
    for (View* v : {&out, &a, &b, &c}) {
        v->rows = uint32_t(total / kFlatCols);
        v->cols = kFlatCols;
        v->row_stride = kFlatCols;
    }
}

void run(gpu::Recorder& rec, Op op, const View& out_view, const View& a_view, const View* b, const View* c,
         float scalar) {
    check_shape(out_view, a_view, "a");
    if (b) check_shape(out_view, *b, "b");
    if (c) check_shape(out_view, *c, "c");
    View out = out_view, a = a_view;
    View bb = b ? *b : a;  // the shader declares every binding; unused ones alias a
    View cc = c ? *c : a;
    flatten_contiguous(out, a, bb, cc);
    const ElementType e = checks::element_type(rec.caps(), "element-wise", {&out, &a, &bb, &cc});
    if (out.rows == 0 || out.cols == 0) return;
    Push p{out.rows, out.cols, 0, scalar, push_view(out), push_view(a), push_view(bb), push_view(cc)};
    // 4 columns at a time where every view's rows are contiguous and start at multiples of 4 elements.
    auto vec4_rows = [&](const View& v) {
        return v.col_stride == 1 && v.offset % 4 == 0 && (out.rows <= 1 || v.row_stride % 4 == 0);
    };
    const bool vec4 = out.cols % 4 == 0 && vec4_rows(out) && vec4_rows(a) && vec4_rows(bb) && vec4_rows(cc);
    const uint32_t spec[] = {op, vec4 ? 1u : 0u};
    using gpu::Access;
    rec.dispatch(e == ElementType::F16 ? "elementwise_f16" : "elementwise", spec,
                 {{out.slice, Access::Write}, {a.slice, Access::Read}, {bb.slice, Access::Read}, {cc.slice, Access::Read}},
                 p, grid_1d(rec.caps(), out.rows, 1), uint64_t(out.rows) * out.cols * gpu::Recorder::kOpsPerInvocation);
}

}  // namespace

std::array<uint32_t, 3> grid_1d(const DeviceCaps& caps, uint64_t total, uint32_t per_group) {
    const uint64_t groups = std::max<uint64_t>(1, (total + per_group - 1) / per_group);
    // Kernels loop over the rest, so the grid never needs more than the device allows (65535 is the floor).
    return {static_cast<uint32_t>(std::min<uint64_t>(groups, std::min<uint32_t>(caps.max_workgroup_count[0], 65535))),
            1, 1};
}

void copy(gpu::Recorder& rec, const View& out, const View& a) { run(rec, kCopy, out, a, nullptr, nullptr, 0); }
void add(gpu::Recorder& rec, const View& out, const View& a, const View& b) { run(rec, kAdd, out, a, &b, nullptr, 0); }
void mul(gpu::Recorder& rec, const View& out, const View& a, const View& b) { run(rec, kMul, out, a, &b, nullptr, 0); }
void silu(gpu::Recorder& rec, const View& out, const View& a) { run(rec, kSilu, out, a, nullptr, nullptr, 0); }
void sigmoid(gpu::Recorder& rec, const View& out, const View& a) { run(rec, kSigmoid, out, a, nullptr, nullptr, 0); }
void silu_mul(gpu::Recorder& rec, const View& out, const View& a, const View& b) {
    run(rec, kSiluMul, out, a, &b, nullptr, 0);
}
void mul_sigmoid(gpu::Recorder& rec, const View& out, const View& a, const View& b) {
    run(rec, kMulSigmoid, out, a, &b, nullptr, 0);
}
void scale(gpu::Recorder& rec, const View& out, const View& a, float factor) {
    run(rec, kScale, out, a, nullptr, nullptr, factor);
}
void sin(gpu::Recorder& rec, const View& out, const View& a) { run(rec, kSin, out, a, nullptr, nullptr, 0); }
void sin_freq(gpu::Recorder& rec, const View& out, const View& a, const View& freq) {
    run(rec, kSinFreq, out, a, &freq, nullptr, 0);
}
void exp_decay(gpu::Recorder& rec, const View& out, const View& a, const View& t, const View& deltas, float shift) {
    run(rec, kExpDecay, out, a, &t, &deltas, shift);
}

}  // namespace hyenavk::ops
