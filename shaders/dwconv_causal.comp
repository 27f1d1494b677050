#version 450
// Short causal depthwise convolution over time:
//   y[b, t, c] = bias[c] + sum_{j<K} w[j, c] * x[b, t + j - (K-1), c],   x = 0 before t = 0.
// x and y are views of rows that are consecutive steps of sequences of L steps; row r is at step
// t = (first_step + r) % L of its sequence. Taps that would reach before step 0 of the current sequence are
// skipped, so nothing is ever read from the previous sequence, and any K (K > L included) works. With
// first_step > 0 the first rows' taps reach up to K - 1 rows before row 0 of the view (halo rows the caller
// placed there); the index arithmetic wraps in 32 bits and lands on them.
//
// Workgroups walk rows and invocations a row's channels, so the step arithmetic is done once per row rather
// than per element (CPU drivers such as lavapipe run divisions lane by lane); where every view allows (VEC4),
// an invocation takes 4 channels with vector loads and stores.
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
layout(local_size_x = 64) in;

// 1 where x, out, w and bias hold 4 consecutive channels as aligned vec4s: column stride 1, offsets and row
// strides multiples of 4, C a multiple of 4.
layout(constant_id = 0) const uint VEC4 = 0;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 0) writeonly buffer Out4 { STORE4_T out4_[]; };
layout(std430, binding = 1) readonly buffer X { STORE_T x_[]; };
layout(std430, binding = 1) readonly buffer X4 { STORE4_T x4_[]; };
layout(std430, binding = 2) readonly buffer W { STORE_T w_[]; };        // [K, C], contiguous
layout(std430, binding = 2) readonly buffer W4 { STORE4_T w4_[]; };
layout(std430, binding = 3) readonly buffer Bias { STORE_T bias_[]; };  // [C]; the weights again when absent
layout(std430, binding = 3) readonly buffer Bias4 { STORE4_T bias4_[]; };

layout(push_constant) uniform Push {
    uint rows, cols, steps, taps;  // steps: L, the rows of one sequence
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
    uint w_offset, bias_offset, has_bias;
    uint first_step;  // the step of row 0, < L
} p;

void main() {
    const uint wrap = p.steps - p.first_step;  // rows before the first sequence boundary
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
        const uint s = r % p.steps;
        const uint t = s >= wrap ? s - wrap : s + p.first_step;  // (first_step + r) % L without overflow
        const uint first = t + 1u >= p.taps ? 0u : p.taps - 1u - t;  // first tap inside this sequence
        const uint x_row = p.x_view.x + (r + first - (p.taps - 1u)) * p.x_view.y;
        const uint w_row = p.w_offset + first * p.cols;
        const uint out_row = p.out_view.x + r * p.out_view.y;
        if (VEC4 != 0u) {
            for (uint c = 4u * gl_LocalInvocationID.x; c < p.cols; c += 4u * gl_WorkGroupSize.x) {
                vec4 acc = p.has_bias != 0u ? LOAD4(bias4_[(p.bias_offset + c) >> 2]) : vec4(0.0);
                uint xi = x_row + c, wi = w_row + c;
                for (uint j = first; j < p.taps; ++j) {
                    acc += LOAD4(w4_[wi >> 2]) * LOAD4(x4_[xi >> 2]);
                    xi += p.x_view.y;
                    wi += p.cols;
                }
                out4_[(out_row + c) >> 2] = STORE4(acc);
            }
        } else {
            for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x) {
                float acc = p.has_bias != 0u ? LOAD(bias_[p.bias_offset + c]) : 0.0;
                uint xi = x_row + c * p.x_view.z, wi = w_row + c;
                for (uint j = first; j < p.taps; ++j) {
                    acc += LOAD(w_[wi]) * LOAD(x_[xi]);
                    xi += p.x_view.y;
                    wi += p.cols;
                }
                out_[out_row + c * p.out_view.z] = STORE(acc);
            }
        }
    }
}
