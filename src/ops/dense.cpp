#include "ops/dense.hpp"

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t M, N, K, has_bias;
    PushView out, a;
    uint32_t w_offset, bias_offset, pad[2];
};
static_assert(sizeof(Push) == 64);

constexpr uint32_t kBlock = 4;           // each invocation computes a kBlock x kBlock output block
constexpr uint32_t kWorkgroupSize = 64;   // local_size_x in the shader

}  // namespace

void dense(gpu::Recorder& rec, const View& out, const View& a, const View& w, WeightLayout layout,
           const View* bias) {
    const std::string op = "dense";
    const uint32_t M = a.rows, K = a.cols, N = out.cols;
    if (K == 0) checks::fail(op, "the input has no columns");
    checks::has_shape(a, M, K, op, "a");
    checks::has_shape(out, M, N, op, "out");
    if (layout == WeightLayout::InOut)
        checks::dense_shape(w, K, N, op, "w ([in, out])");
    else
        checks::dense_shape(w, N, K, op, "w ([out, in])");
    if (bias) checks::dense_shape(*bias, 1, N, op, "bias");
    if (M == 0 || N == 0) return;
    const uint64_t blocks = uint64_t((M + kBlock - 1) / kBlock) * ((N + kBlock - 1) / kBlock);
    checks::countable(blocks, op);

    const View& b = bias ? *bias : w;  // the shader declares every binding
    const Push p{M, N, K, bias ? 1u : 0u, push_view(out), push_view(a), w.offset, b.offset, {0, 0}};
    const uint32_t spec[] = {layout == WeightLayout::OutIn ? 1u : 0u};
    using gpu::Access;
    rec.dispatch("dense", spec,
                 {{out.slice, Access::Write}, {a.slice, Access::Read}, {w.slice, Access::Read}, {b.slice, Access::Read}},
                 p, grid_1d(rec.caps(), blocks, kWorkgroupSize));
}

}  // namespace hyenavk::ops
