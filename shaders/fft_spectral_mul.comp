#version 450
// Multiplies each row's spectrum by its channel's filter spectrum (broadcast over the batch) and by `scale`
// (1 / n, the normalisation the unnormalised inverse FFT leaves out).
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Data { vec2 data[]; };
layout(std430, binding = 1) readonly buffer Filter { vec2 filter_[]; };

layout(push_constant) uniform Push {
    uint rows, channels, bins, row_floats;
    float scale;
} p;

void main() {
    const uint total = p.rows * p.bins;
    const uint row_complex = p.row_floats / 2;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint row = i / p.bins, k = i % p.bins;
        const uint at = row * row_complex + k;
        const vec2 x = data[at];
        const vec2 h = filter_[(row % p.channels) * row_complex + k];
        data[at] = vec2(x.x * h.x - x.y * h.y, x.x * h.y + x.y * h.x) * p.scale;
    }
}
