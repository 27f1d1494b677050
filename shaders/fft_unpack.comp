#version 450
// Writes the first L samples of each channel-major FFT row back to a [B * L, C] view.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };

layout(push_constant) uniform Push {
    uint batch, seq_len, channels, row_floats;
    uvec4 dst_view;  // offset, row stride, column stride
} p;

void main() {
    const uint total = p.batch * p.seq_len * p.channels;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint c = i % p.channels, bt = i / p.channels;
        const uint b = bt / p.seq_len, t = bt % p.seq_len;
        dst[p.dst_view.x + bt * p.dst_view.y + c * p.dst_view.z] = src[(b * p.channels + c) * p.row_floats + t];
    }
}
