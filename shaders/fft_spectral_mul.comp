#version 450
// Multiplies each row's spectrum by its channel's filter spectrum (broadcast over the batch) and by `scale`
// (1 / n, the normalisation the unnormalised inverse FFT leaves out).
// Workgroups walk rows and invocations a row's bins: the row's index arithmetic is the workgroup's alone,
// with no per-bin division (CPU drivers such as lavapipe run divisions lane by lane).
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Data { vec2 data[]; };
layout(std430, binding = 1) readonly buffer Filter { vec2 filter_[]; };

layout(push_constant) uniform Push {
    uint rows, channels, bins, row_floats;
    float scale;
} p;

void main() {
    const uint row_complex = p.row_floats / 2;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint base = row * row_complex, filter_base = (row % p.channels) * row_complex;
        for (uint k = gl_LocalInvocationID.x; k < p.bins; k += gl_WorkGroupSize.x) {
            const vec2 x = data[base + k];
            const vec2 h = filter_[filter_base + k];
            data[base + k] = vec2(x.x * h.x - x.y * h.y, x.x * h.y + x.y * h.x) * p.scale;
        }
    }
}
