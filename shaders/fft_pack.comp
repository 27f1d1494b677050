#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Packs one tile of a [B * L, C] view (time-major) into channel-major FFT rows: row b * C + c, sample t holds
// x[b, t, c] for t < used and zero up to t_end, so the circular convolution of the FFT equals the linear one.
// x is fp32 or, in the f16 variant, fp16; the FFT rows are always fp32.
// The tile holds steps t0 .. t0 + t_count - 1 of sequences b_first .. b_first + b_count - 1.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 1) readonly buffer Src { STORE_T src[]; };

layout(push_constant) uniform Push {
    uint b_first, b_count, t0, t_count;
    uint used;        // samples at t >= used are written as zero
    uint channels;    // C: channels per FFT batch row group
    uint row_floats;  // floats per FFT row
    uint t_end;       // samples t0 .. t_end - 1 of each row are written
    uvec4 src_view;   // offset, row stride, column stride
} p;

void main() {
    const uint span = p.t_end - p.t0;
    const uint total = p.b_count * p.channels * span;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    const uint t_stop = min(p.t0 + p.t_count, p.used);
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint t = p.t0 + i % span, bc = i / span;
        const uint bl = bc / p.channels, c = bc % p.channels;
        float v = 0.0;
        if (t < t_stop) v = LOAD(src[p.src_view.x + (bl * p.t_count + t - p.t0) * p.src_view.y + c * p.src_view.z]);
        dst[((p.b_first + bl) * p.channels + c) * p.row_floats + t] = v;
    }
}
