#include "ops/conv.hpp"

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t rows, cols, length, taps;
    PushView out, x;
    uint32_t w_offset, bias_offset, has_bias, pad;
};
static_assert(sizeof(Push) == 64);

constexpr uint32_t kWorkgroupSize = 256;  // local_size_x in the shader

}  // namespace

void depthwise_causal_conv(gpu::Recorder& rec, const View& out, const View& x, uint32_t batch, uint32_t length,
                           const View& w, uint32_t taps, const View* bias) {
    const std::string op = "depthwise_causal_conv";
    if (taps == 0) checks::fail(op, "the filter has no taps");
    const uint64_t rows = uint64_t(batch) * length;
    const uint32_t C = x.cols;
    checks::has_shape(x, rows, C, op, "x");
    checks::has_shape(out, rows, C, op, "out");
    checks::dense_shape(w, taps, C, op, "w");
    if (bias) checks::dense_shape(*bias, 1, C, op, "bias");
    if (rows == 0 || C == 0) return;
    checks::countable(rows * C, op);

    const View& b = bias ? *bias : w;  // the shader declares every binding
    const Push p{x.rows, C, length, taps, push_view(out), push_view(x), w.offset, b.offset, bias ? 1u : 0u, 0};
    using gpu::Access;
    rec.dispatch("dwconv_causal", {},
                 {{out.slice, Access::Write}, {x.slice, Access::Read}, {w.slice, Access::Read}, {b.slice, Access::Read}},
                 p, grid_1d(rec.caps(), rows * C, kWorkgroupSize));
}

}  // namespace hyenavk::ops
