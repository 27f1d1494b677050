#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "storage.glsl"
// Packs one tile of a [B * L, C] view (time-major) into channel-major FFT rows: row b * C + c, sample t holds
// x[b, t, c] for t < used and zero up to t_end, so the circular convolution of the FFT equals the linear one.
// x is fp32 or, in the f16 variant, fp16; the FFT rows are always fp32.
// The tile holds steps t0 .. t0 + t_count - 1 of sequences b_first .. b_first + b_count - 1.
//
// A transpose: each invocation moves a block of 4 steps x 4 channels, so that the index arithmetic (divisions,
// which CPU drivers such as lavapipe run lane by lane) is paid once per 16 values, and loads and stores move
// 4 channels (SRC_VEC4) or 2 samples (ROW_VEC2) at once where alignment allows.
layout(local_size_x = 64) in;

// 1 where x's rows hold 4 channels as an aligned vec4: column stride 1, offset and row stride multiples of 4,
// C a multiple of 4.
layout(constant_id = 0) const uint SRC_VEC4 = 0;
// 1 where t0 is even: samples t, t + 1 of a row (t even) are an aligned vec2 (rows have an even length).
layout(constant_id = 1) const uint ROW_VEC2 = 0;

layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 0) writeonly buffer Dst2 { vec2 dst2[]; };
layout(std430, binding = 1) readonly buffer Src { STORE_T src[]; };
layout(std430, binding = 1) readonly buffer Src4 { STORE4_T src4[]; };

layout(push_constant) uniform Push {
    uint b_first, b_count, t0, t_count;
    uint used;        // samples at t >= used are written as zero
    uint channels;    // C: channels per FFT batch row group
    uint row_floats;  // floats per FFT row
    uint t_end;       // samples t0 .. t_end - 1 of each row are written
    uvec4 src_view;   // offset, row stride, column stride
} p;

void main() {
    const uint t_blocks = (p.t_end - p.t0 + 3u) / 4u, c_blocks = (p.channels + 3u) / 4u;
    const uint blocks = p.b_count * c_blocks * t_blocks;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    const uint t_stop = min(p.t0 + p.t_count, p.used);
    for (uint i = gl_GlobalInvocationID.x; i < blocks; i += stride) {
        // Consecutive invocations take consecutive step blocks of one channel block: their stores continue
        // each other along the FFT rows.
        const uint rest = i / t_blocks, bl = rest / c_blocks;
        const uint t_first = p.t0 + 4u * (i - rest * t_blocks), c_first = 4u * (rest - bl * c_blocks);
        vec4 v[4];  // v[k]: channels c_first .. c_first + 3 at step t_first + k
        [[unroll]] for (uint k = 0u; k < 4u; ++k) {
            const uint t = t_first + k;
            v[k] = vec4(0.0);
            if (t < t_stop) {
                const uint at = p.src_view.x + (bl * p.t_count + t - p.t0) * p.src_view.y + c_first * p.src_view.z;
                if (SRC_VEC4 != 0u) {
                    v[k] = LOAD4(src4[at >> 2]);
                } else {
                    [[unroll]] for (uint q = 0u; q < 4u; ++q)
                        if (c_first + q < p.channels) v[k][q] = LOAD(src[at + q * p.src_view.z]);
                }
            }
        }
        [[unroll]] for (uint q = 0u; q < 4u; ++q) {
            if (c_first + q >= p.channels) break;
            const uint row = ((p.b_first + bl) * p.channels + c_first + q) * p.row_floats + t_first;
            if (ROW_VEC2 != 0u && t_first + 4u <= p.t_end) {
                dst2[row >> 1] = vec2(v[0][q], v[1][q]);
                dst2[(row >> 1) + 1u] = vec2(v[2][q], v[3][q]);
            } else {
                [[unroll]] for (uint k = 0u; k < 4u; ++k)
                    if (t_first + k < p.t_end) dst[row + k] = v[k][q];
            }
        }
    }
}
