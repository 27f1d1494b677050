#include "ops/norm.hpp"

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

enum Mode : uint32_t { kLayerNorm = 0, kRmsNorm = 1, kL1 = 2 };

// Workgroups of the subgroup kernel; each walks rows by a grid stride.
constexpr uint64_t kRowWorkgroups = 64;

struct Push {
    uint32_t rows, cols;
    float eps;
    uint32_t pad;
    PushView out, x;
    uint32_t gamma_offset, beta_offset;
};
static_assert(sizeof(Push) == 56);

void run(gpu::Recorder& rec, Mode mode, const View& out, const View& x, const View& gamma, const View& beta,
         float eps) {
    const std::string op = mode == kLayerNorm ? "layer_norm" : mode == kRmsNorm ? "rms_norm" : "l1_normalize_rows";
    checks::has_shape(out, x.rows, x.cols, op, "out");
    checks::fits(x, op, "x");
    if (mode != kL1) {
        checks::dense_shape(gamma, 1, x.cols, op, mode == kLayerNorm ? "gamma" : "scale");
        checks::dense_shape(beta, 1, x.cols, op, "beta");
    }
    if (!(eps > 0.0f)) checks::fail(op, "eps must be positive");
    const ElementType e = checks::element_type(rec.caps(), op, {&out, &x, &gamma, &beta});
    if (x.rows == 0 || x.cols == 0) return;

    const Push p{x.rows, x.cols, eps, 0, push_view(out), push_view(x), gamma.offset, beta.offset};
    using gpu::Access;
    const DeviceCaps& caps = rec.caps();
    if (caps.subgroup_arithmetic && caps.subgroup_size >= 4 && caps.subgroup_size <= 64) {
        // One subgroup-wide workgroup per row, reduced by subgroupAdd (norm_sg.comp).
        auto aligned = [](const View& v) { return v.offset % 4 == 0 && (v.rows <= 1 || v.row_stride % 4 == 0); };
        const bool vec4 = mode == kLayerNorm && x.col_stride == 1 && out.col_stride == 1 && x.cols % 4 == 0 &&
                          aligned(x) && aligned(out) && gamma.offset % 4 == 0 && beta.offset % 4 == 0;
        const uint32_t spec[] = {mode, caps.subgroup_size, vec4 ? 1u : 0u};
        rec.dispatch(e == ElementType::F16 ? "norm_sg_f16" : "norm_sg", spec,
                     {{out.slice, Access::Write}, {x.slice, Access::Read}, {gamma.slice, Access::Read},
                      {beta.slice, Access::Read}},
                     p, grid_1d(caps, std::min<uint64_t>(x.rows, kRowWorkgroups), 1), uint64_t(x.rows) * x.cols * 8);
        return;
    }
    const uint32_t spec[] = {mode};
    rec.dispatch(e == ElementType::F16 ? "norm_f16" : "norm", spec,
                 {{out.slice, Access::Write}, {x.slice, Access::Read}, {gamma.slice, Access::Read},
                  {beta.slice, Access::Read}},
                 p, grid_1d(rec.caps(), x.rows, 1));  // one workgroup per row
}

}  // namespace

void layer_norm(gpu::Recorder& rec, const View& out, const View& x, const View& gamma, const View& beta, float eps) {
    run(rec, kLayerNorm, out, x, gamma, beta, eps);
}

void rms_norm(gpu::Recorder& rec, const View& out, const View& x, const View& scale, float eps) {
    run(rec, kRmsNorm, out, x, scale, scale, eps);  // beta's binding must be filled; the shader ignores it
}

void l1_normalize_rows(gpu::Recorder& rec, const View& out, const View& x) {
    run(rec, kL1, out, x, x, x, 1.0f);  // gamma and beta bindings must be filled; the shader ignores them
}

}  // namespace hyenavk::ops
