#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Writes samples t0 .. t0 + t_count - 1 of channel-major FFT rows back to one tile of a [B * L, C] view,
// multiplied by a gate view of the same shape where has_gate is set (the Hyena gate, fused here).
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Dst { STORE_T dst[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };
layout(std430, binding = 2) readonly buffer Gate { STORE_T gate[]; };  // the rows again when there is no gate

layout(push_constant) uniform Push {
    uint b_first, b_count, t0, t_count;
    uint channels, row_floats, has_gate, pad;
    uvec4 dst_view;   // offset, row stride, column stride
    uvec4 gate_view;
} p;

void main() {
    const uint total = p.b_count * p.t_count * p.channels;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint c = i % p.channels, r = i / p.channels;
        const uint bl = r / p.t_count, t = p.t0 + r % p.t_count;
        float v = src[((p.b_first + bl) * p.channels + c) * p.row_floats + t];
        if (p.has_gate != 0u) v *= LOAD(gate[p.gate_view.x + r * p.gate_view.y + c * p.gate_view.z]);
        dst[p.dst_view.x + r * p.dst_view.y + c * p.dst_view.z] = STORE(v);
    }
}
