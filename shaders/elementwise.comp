#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Element-wise operations over 2-D views [rows, cols]. Every operand is a strided view
// (offset, row stride, column stride, in elements), so slices, broadcasts and gates by a slice of a wider
// tensor need no copies. out may alias a (in place).
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer A { STORE_T a_[]; };
layout(std430, binding = 2) readonly buffer B { STORE_T b_[]; };
layout(std430, binding = 3) readonly buffer C { STORE_T c_[]; };

const uint OP_COPY = 0u, OP_ADD = 1u, OP_MUL = 2u, OP_SILU = 3u, OP_SIGMOID = 4u, OP_SIN_FREQ = 5u,
           OP_EXP_DECAY = 6u, OP_SCALE = 7u, OP_SIN = 8u, OP_SILU_MUL = 9u, OP_MUL_SIGMOID = 10u;

layout(push_constant) uniform Push {
    uint rows, cols, op;
    float scalar;            // shift for OP_EXP_DECAY, factor for OP_SCALE
    uvec4 out_view;          // offset, row stride, column stride, unused
    uvec4 a_view, b_view, c_view;
} p;

float sigmoid(float x) { return 1.0 / (1.0 + exp(-x)); }

void main() {
    const uint total = p.rows * p.cols;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint r = i / p.cols, c = i % p.cols;
        const float a = LOAD(a_[p.a_view.x + r * p.a_view.y + c * p.a_view.z]);
        float y;
        switch (p.op) {
            case OP_COPY: y = a; break;
            case OP_ADD: y = a + LOAD(b_[p.b_view.x + r * p.b_view.y + c * p.b_view.z]); break;
            case OP_MUL: y = a * LOAD(b_[p.b_view.x + r * p.b_view.y + c * p.b_view.z]); break;
            case OP_SILU: y = a * sigmoid(a); break;
            case OP_SIGMOID: y = sigmoid(a); break;
            case OP_SIN_FREQ: y = sin(LOAD(b_[p.b_view.x + r * p.b_view.y + c * p.b_view.z]) * a); break;
            case OP_EXP_DECAY: {
                const float t = LOAD(b_[p.b_view.x + r * p.b_view.y + c * p.b_view.z]);
                const float d = LOAD(c_[p.c_view.x + r * p.c_view.y + c * p.c_view.z]);
                y = a * (exp(-t * abs(d)) + p.scalar);
                break;
            }
            case OP_SCALE: y = a * p.scalar; break;
            case OP_SIN: y = sin(a); break;
            case OP_SILU_MUL: y = a * sigmoid(a) * LOAD(b_[p.b_view.x + r * p.b_view.y + c * p.b_view.z]); break;
            case OP_MUL_SIGMOID: y = a * sigmoid(LOAD(b_[p.b_view.x + r * p.b_view.y + c * p.b_view.z])); break;
            default: y = 0.0; break;
        }
        out_[p.out_view.x + r * p.out_view.y + c * p.out_view.z] = STORE(y);
    }
}
