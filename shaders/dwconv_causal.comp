#version 450
// Short causal depthwise convolution over time:
//   y[b, t, c] = bias[c] + sum_{j<K} w[j, c] * x[b, t + j - (K-1), c],   x = 0 before t = 0.
// x and y are views of rows that are consecutive steps of sequences of L steps; row r is at step
// t = (first_step + r) % L of its sequence. Taps that would reach before step 0 of the current sequence are
// skipped, so nothing is ever read from the previous sequence, and any K (K > L included) works. With
// first_step > 0 the first rows' taps reach up to K - 1 rows before row 0 of the view (halo rows the caller
// placed there); the index arithmetic wraps in 32 bits and lands on them.
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer X { STORE_T x_[]; };
layout(std430, binding = 2) readonly buffer W { STORE_T w_[]; };        // [K, C], contiguous
layout(std430, binding = 3) readonly buffer Bias { STORE_T bias_[]; };  // [C]; the weights again when absent

layout(push_constant) uniform Push {
    uint rows, cols, steps, taps;  // steps: L, the rows of one sequence
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
    uint w_offset, bias_offset, has_bias;
    uint first_step;  // the step of row 0, < L
} p;

void main() {
    const uint total = p.rows * p.cols;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    const uint wrap = p.steps - p.first_step;  // rows before the first sequence boundary
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint r = i / p.cols, c = i % p.cols;
        const uint s = r % p.steps;
        const uint t = s >= wrap ? s - wrap : s + p.first_step;  // (first_step + r) % L without overflow
        const uint first = t + 1u >= p.taps ? 0u : p.taps - 1u - t;  // first tap inside this sequence
        float acc = p.has_bias != 0u ? LOAD(bias_[p.bias_offset + c]) : 0.0;
        uint xi = p.x_view.x + (r + first - (p.taps - 1u)) * p.x_view.y + c * p.x_view.z;
        uint wi = p.w_offset + first * p.cols + c;
        for (uint j = first; j < p.taps; ++j) {
            acc += LOAD(w_[wi]) * LOAD(x_[xi]);
            xi += p.x_view.y;
            wi += p.cols;
        }
        out_[p.out_view.x + r * p.out_view.y + c * p.out_view.z] = STORE(acc);
    }
}
