#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Element-wise operations over 2-D views [rows, cols]. Every operand is a strided view
// (offset, row stride, column stride, in elements), so slices, broadcasts and gates by a slice of a wider
// tensor need no copies. out may alias a (in place).
//
// The operation is a specialization constant, so each pipeline holds one branch-free loop. Workgroups walk
// rows and invocations walk the columns of a row: no per-element division, which CPU drivers such as
// lavapipe run lane by lane. Where every view is contiguous and 4-aligned (VEC4), each invocation moves 4
// columns per load and store, a quarter of the per-lane load loops such drivers emit.
layout(local_size_x = 64) in;

const uint OP_COPY = 0u, OP_ADD = 1u, OP_MUL = 2u, OP_SILU = 3u, OP_SIGMOID = 4u, OP_SIN_FREQ = 5u,
           OP_EXP_DECAY = 6u, OP_SCALE = 7u, OP_SIN = 8u, OP_SILU_MUL = 9u, OP_MUL_SIGMOID = 10u;
layout(constant_id = 0) const uint OP = OP_COPY;
layout(constant_id = 1) const uint VEC4 = 0u;  // 1: all views have column stride 1, 4-aligned rows, cols % 4 == 0

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 0) writeonly buffer Out4 { STORE4_T out4_[]; };
layout(std430, binding = 1) readonly buffer A { STORE_T a_[]; };
layout(std430, binding = 1) readonly buffer A4 { STORE4_T a4_[]; };
layout(std430, binding = 2) readonly buffer B { STORE_T b_[]; };
layout(std430, binding = 2) readonly buffer B4 { STORE4_T b4_[]; };
layout(std430, binding = 3) readonly buffer C { STORE_T c_[]; };
layout(std430, binding = 3) readonly buffer C4 { STORE4_T c4_[]; };

layout(push_constant) uniform Push {
    uint rows, cols, unused;
    float scalar;            // shift for OP_EXP_DECAY, factor for OP_SCALE
    uvec4 out_view;          // offset, row stride, column stride, unused
    uvec4 a_view, b_view, c_view;
} p;

vec4 sigmoid(vec4 x) { return 1.0 / (1.0 + exp(-x)); }

// The operation on 1 to 4 lanes at once (scalar views use .x only).
vec4 apply(vec4 a, vec4 b, vec4 c) {
    switch (OP) {
        case OP_COPY: return a;
        case OP_ADD: return a + b;
        case OP_MUL: return a * b;
        case OP_SILU: return a * sigmoid(a);
        case OP_SIGMOID: return sigmoid(a);
        case OP_SIN_FREQ: return sin(b * a);
        case OP_EXP_DECAY: return a * (exp(-b * abs(c)) + p.scalar);
        case OP_SCALE: return a * p.scalar;
        case OP_SIN: return sin(a);
        case OP_SILU_MUL: return a * sigmoid(a) * b;
        case OP_MUL_SIGMOID: return a * sigmoid(b);
        default: return vec4(0.0);
    }
}

bool reads_b() { return OP == OP_ADD || OP == OP_MUL || OP == OP_SIN_FREQ || OP == OP_EXP_DECAY || OP == OP_SILU_MUL || OP == OP_MUL_SIGMOID; }
bool reads_c() { return OP == OP_EXP_DECAY; }

void main() {
    const uint lane = gl_LocalInvocationID.x, width = gl_WorkGroupSize.x;
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
        const uint o = p.out_view.x + r * p.out_view.y, ia = p.a_view.x + r * p.a_view.y,
                   ib = p.b_view.x + r * p.b_view.y, ic = p.c_view.x + r * p.c_view.y;
        if (VEC4 != 0u) {
            for (uint c = lane; c < p.cols / 4u; c += width) {
                const vec4 b = reads_b() ? LOAD4(b4_[(ib >> 2) + c]) : vec4(0.0);
                const vec4 cc = reads_c() ? LOAD4(c4_[(ic >> 2) + c]) : vec4(0.0);
                out4_[(o >> 2) + c] = STORE4(apply(LOAD4(a4_[(ia >> 2) + c]), b, cc));
            }
        } else {
            for (uint c = lane; c < p.cols; c += width) {
                const float b = reads_b() ? LOAD(b_[ib + c * p.b_view.z]) : 0.0;
                const float cc = reads_c() ? LOAD(c_[ic + c * p.c_view.z]) : 0.0;
                out_[o + c * p.out_view.z] = STORE(apply(vec4(LOAD(a_[ia + c * p.a_view.z])), vec4(b), vec4(cc)).x);
            }
        }
    }
}
