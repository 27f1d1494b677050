#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "storage.glsl"
// Writes samples t0 .. t0 + t_count - 1 of channel-major FFT rows back to one tile of a [B * L, C] view,
// multiplied by a gate view of the same shape where has_gate is set (the Hyena gate, fused here).
//
// A transpose, blocked as fft_pack.comp is: each invocation moves 4 steps x 4 channels, with 4-channel vector
// access to out and the gate (VIEW_VEC4) and 2-sample vector loads from the rows (ROW_VEC2) where alignment
// allows.
layout(local_size_x = 64) in;

// 1 where out's and the gate's rows hold 4 channels as an aligned vec4: column stride 1, offsets and row
// strides multiples of 4, C a multiple of 4.
layout(constant_id = 0) const uint VIEW_VEC4 = 0;
// 1 where t0 is even: samples t, t + 1 of a row (t even) are an aligned vec2 (rows have an even length).
layout(constant_id = 1) const uint ROW_VEC2 = 0;

layout(std430, binding = 0) writeonly buffer Dst { STORE_T dst[]; };
layout(std430, binding = 0) writeonly buffer Dst4 { STORE4_T dst4[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };
layout(std430, binding = 1) readonly buffer Src2 { vec2 src2[]; };
layout(std430, binding = 2) readonly buffer Gate { STORE_T gate[]; };  // the rows again when there is no gate
layout(std430, binding = 2) readonly buffer Gate4 { STORE4_T gate4[]; };

layout(push_constant) uniform Push {
    uint b_first, b_count, t0, t_count;
    uint channels, row_floats, has_gate, pad;
    uvec4 dst_view;   // offset, row stride, column stride
    uvec4 gate_view;
} p;

void main() {
    const uint t_blocks = (p.t_count + 3u) / 4u, c_blocks = (p.channels + 3u) / 4u;
    const uint blocks = p.b_count * t_blocks * c_blocks;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    const uint t_stop = p.t0 + p.t_count;
    for (uint i = gl_GlobalInvocationID.x; i < blocks; i += stride) {
        // Consecutive invocations take consecutive channel blocks of one step block: their stores continue
        // each other along out's rows.
        const uint rest = i / c_blocks, bl = rest / t_blocks;
        const uint c_first = 4u * (i - rest * c_blocks), t_first = p.t0 + 4u * (rest - bl * t_blocks);
        vec4 s[4];  // s[q]: steps t_first .. t_first + 3 of channel c_first + q
        [[unroll]] for (uint q = 0u; q < 4u; ++q) {
            s[q] = vec4(0.0);
            if (c_first + q >= p.channels) continue;
            const uint row = ((p.b_first + bl) * p.channels + c_first + q) * p.row_floats + t_first;
            if (ROW_VEC2 != 0u && t_first + 4u <= t_stop) {
                s[q] = vec4(src2[row >> 1], src2[(row >> 1) + 1u]);
            } else {
                [[unroll]] for (uint k = 0u; k < 4u; ++k)
                    if (t_first + k < t_stop) s[q][k] = src[row + k];
            }
        }
        [[unroll]] for (uint k = 0u; k < 4u; ++k) {
            if (t_first + k >= t_stop) break;
            const uint r = bl * p.t_count + t_first + k - p.t0;
            vec4 v = vec4(s[0][k], s[1][k], s[2][k], s[3][k]);
            const uint o = p.dst_view.x + r * p.dst_view.y + c_first * p.dst_view.z;
            const uint g = p.gate_view.x + r * p.gate_view.y + c_first * p.gate_view.z;
            if (VIEW_VEC4 != 0u) {
                if (p.has_gate != 0u) v *= LOAD4(gate4[g >> 2]);
                dst4[o >> 2] = STORE4(v);
            } else {
                [[unroll]] for (uint q = 0u; q < 4u; ++q) {
                    if (c_first + q >= p.channels) break;
                    const float gq = p.has_gate != 0u ? LOAD(gate[g + q * p.gate_view.z]) : 1.0;
                    dst[o + q * p.dst_view.z] = STORE(v[q] * gq);
                }
            }
        }
    }
}
