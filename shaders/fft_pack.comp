#version 450
// Packs a [B * L, C] view (time-major) into channel-major FFT rows: row b * C + c holds x[b, 0..length_used-1, c]
// followed by zeros up to the row's end, so the circular convolution of the FFT equals the linear one.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };

layout(push_constant) uniform Push {
    uint batch, seq_len, channels, length_used;
    uint row_floats;
    uint pad0, pad1, pad2;
    uvec4 src_view;  // offset, row stride, column stride
} p;

void main() {
    const uint total = p.batch * p.channels * p.row_floats;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint row = i / p.row_floats, t = i % p.row_floats;
        const uint b = row / p.channels, c = row % p.channels;
        float v = 0.0;
        if (t < p.length_used) v = src[p.src_view.x + (b * p.seq_len + t) * p.src_view.y + c * p.src_view.z];
        dst[i] = v;
    }
}
