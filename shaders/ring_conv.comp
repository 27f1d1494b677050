#version 450
// Causal depthwise convolution of streams that advance one step at a time (streaming inference). Stream s
// keeps its last inputs in a ring of `capacity` rows; its new row x[s] goes into slot step[s] % capacity and
//   out[s, c] = bias[c] + sum_{lag < min(step[s] + 1, taps)} w_lag(lag, c) * ring[s, (step[s] - lag) % capacity, c]
// where step[s] counts the steps the stream took before this one (0 for its first frame), so taps reaching
// before its first frame see zeros. w is [taps, C] in lag order (lag 0 = the current step), or in tap order
// (tap taps-1 = the current step, as a depthwise conv kernel is stored) where REVERSED is set.
//
// The invocation that writes the new row is the one that reads it (lag 0 comes from x itself), and no other
// slot is written, so reading the ring and writing it in one dispatch is race-free.
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
layout(local_size_x = 64) in;

layout(constant_id = 0) const uint REVERSED = 0;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer X { STORE_T x_[]; };
layout(std430, binding = 2) buffer Ring { STORE_T ring_[]; };        // [streams * capacity, C], contiguous
layout(std430, binding = 3) readonly buffer W { STORE_T w_[]; };     // [taps, C], contiguous
layout(std430, binding = 4) readonly buffer Bias { STORE_T bias_[]; };  // [C]; the weights again when absent
layout(std430, binding = 5) readonly buffer Steps { uint steps_[]; };  // [streams]

layout(push_constant) uniform Push {
    uint streams, cols, taps, capacity;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
    uint ring_offset, w_offset, bias_offset, has_bias;
    uint steps_offset;
} p;

void main() {
    for (uint s = gl_WorkGroupID.x; s < p.streams; s += gl_NumWorkGroups.x) {
        const uint step = steps_[p.steps_offset + s];
        const uint reach = min(step + 1u, p.taps);  // lags that land on this stream's frames
        const uint ring_row0 = p.ring_offset + s * p.capacity * p.cols;
        const uint slot = step % p.capacity;
        for (uint c = gl_LocalInvocationID.x; c < p.cols; c += gl_WorkGroupSize.x) {
            const float now = LOAD(x_[p.x_view.x + s * p.x_view.y + c * p.x_view.z]);
            ring_[ring_row0 + slot * p.cols + c] = STORE(now);
            const uint w0 = REVERSED != 0u ? p.taps - 1u : 0u;
            float acc = (p.has_bias != 0u ? LOAD(bias_[p.bias_offset + c]) : 0.0) + LOAD(w_[p.w_offset + w0 * p.cols + c]) * now;
            uint at = slot;
            for (uint lag = 1u; lag < reach; ++lag) {
                at = at == 0u ? p.capacity - 1u : at - 1u;
                const uint tap = REVERSED != 0u ? p.taps - 1u - lag : lag;
                acc += LOAD(w_[p.w_offset + tap * p.cols + c]) * LOAD(ring_[ring_row0 + at * p.cols + c]);
            }
            out_[p.out_view.x + s * p.out_view.y + c * p.out_view.z] = STORE(acc);
        }
    }
}
