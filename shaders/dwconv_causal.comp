#version 450
// Short causal depthwise convolution over time:
//   y[b, t, c] = bias[c] + sum_{j<K} w[j, c] * x[b, t + j - (K-1), c],   x = 0 before t = 0.
// x and y are views of [B * L, C] rows; taps that would reach before the start of the current batch are
// skipped, so nothing is ever read from the previous batch, and any K (K > L included) works.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer X { float x_[]; };
layout(std430, binding = 2) readonly buffer W { float w_[]; };        // [K, C], contiguous
layout(std430, binding = 3) readonly buffer Bias { float bias_[]; };  // [C]; the weights again when absent

layout(push_constant) uniform Push {
    uint rows, cols, steps, taps;  // steps: L, the rows of one batch
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
    uint w_offset, bias_offset, has_bias;
} p;

void main() {
    const uint total = p.rows * p.cols;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint r = i / p.cols, c = i % p.cols;
        const uint t = r % p.steps;
        const uint first = t + 1u >= p.taps ? 0u : p.taps - 1u - t;  // first tap inside this batch
        float acc = p.has_bias != 0u ? bias_[p.bias_offset + c] : 0.0;
        uint xi = p.x_view.x + (r + first - (p.taps - 1u)) * p.x_view.y + c * p.x_view.z;
        uint wi = p.w_offset + first * p.cols + c;
        for (uint j = first; j < p.taps; ++j) {
            acc += w_[wi] * x_[xi];
            xi += p.x_view.y;
            wi += p.cols;
        }
        out_[p.out_view.x + r * p.out_view.y + c * p.out_view.z] = acc;
    }
}
