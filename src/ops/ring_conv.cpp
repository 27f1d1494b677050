#include "ops/ring_conv.hpp"

#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t streams, cols, taps, capacity;
    PushView out, x;
    uint32_t ring_offset, w_offset, bias_offset, has_bias;
    uint32_t steps_offset;
};
static_assert(sizeof(Push) == 68);

}  // namespace

void ring_causal_conv(gpu::Recorder& rec, const View& out, const View& x, const View& ring, uint32_t capacity,
                      const View& steps, const View& w, uint32_t taps, TapOrder order,
                      const View* bias) {
    const std::string op = "ring_causal_conv";
    if (taps == 0) checks::fail(op, "the filter has no taps");
    if (capacity < taps)
        checks::fail(op, "a ring of " + std::to_string(capacity) + " rows cannot hold " + std::to_string(taps) + " taps");
    const uint32_t S = x.rows, C = x.cols;
    checks::has_shape(out, S, C, op, "out");
    checks::dense_shape(ring, uint64_t(S) * capacity, C, op, "ring");
    checks::dense_shape(w, taps, C, op, "w");
    if (bias) checks::dense_shape(*bias, 1, C, op, "bias");
    checks::dense_shape(steps, 1, S, op, "steps");
    if (steps.element != ElementType::F32) checks::fail(op, "steps must have 4-byte elements (uint32 counts)");
    const View& b = bias ? *bias : w;  // the shader declares every binding
    const ElementType e = checks::element_type(rec.caps(), op, {&out, &x, &ring, &w, &b});
    if (S == 0 || C == 0) return;
    checks::countable(uint64_t(S) * capacity * C, op);

    const Push p{S, C, taps, capacity, push_view(out), push_view(x), ring.offset, w.offset, b.offset,
                 bias ? 1u : 0u, steps.offset};
    const uint32_t spec[] = {order == TapOrder::Tap ? 1u : 0u};
    using gpu::Access;
    rec.dispatch(e == ElementType::F16 ? "ring_conv_f16" : "ring_conv", spec,
                 {{out.slice, Access::Write},
                  {x.slice, Access::Read},
                  {ring.slice, Access::ReadWrite},
                  {w.slice, Access::Read},
                  {b.slice, Access::Read},
                  {steps.slice, Access::Read}},
                 p, grid_1d(rec.caps(), S, 1), 2ull * S * taps * C);
}

}  // namespace hyenavk::ops
