#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// out[i, :] = x[idx[i], :] (embedding lookup). An index past the last row reads the last row instead, so a
// bad id can never read or write outside the bindings; the host validates ids before they get here.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer X { STORE_T x_[]; };
layout(std430, binding = 2) readonly buffer Idx { uint idx_[]; };

layout(push_constant) uniform Push {
    uint count, cols, x_rows, idx_first;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
} p;

void main() {
    const uint total = p.count * p.cols;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint r = i / p.cols, c = i % p.cols;
        const uint src = min(idx_[p.idx_first + r], p.x_rows - 1u);
        out_[p.out_view.x + r * p.out_view.y + c * p.out_view.z] = x_[p.x_view.x + src * p.x_view.y + c * p.x_view.z];
    }
}
