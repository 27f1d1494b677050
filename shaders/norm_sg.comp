#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "storage.glsl"
// The row normalisations of norm.comp (same modes, same arithmetic), for devices with subgroup arithmetic:
// a workgroup of one subgroup's width owns one row at a time and reduces with subgroupAdd, so no barrier is
// needed where the workgroup is one subgroup (on CPU drivers such as lavapipe a barrier costs a pass over
// every invocation). Where a driver runs the workgroup as several subgroups, their partial sums meet in
// shared memory.
layout(local_size_x_id = 1) in;
layout(constant_id = 0) const uint MODE = 0;
// 1 where every row of x and out, gamma and beta are aligned runs of vec4 (column stride 1, offsets, row
// strides and the width multiples of 4): a CPU driver then makes one load per 4 values instead of 4.
layout(constant_id = 2) const uint VEC4 = 0;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer X { STORE_T x_[]; };
layout(std430, binding = 2) readonly buffer Gamma { STORE_T gamma_[]; };
layout(std430, binding = 3) readonly buffer Beta { STORE_T beta_[]; };
layout(std430, binding = 0) writeonly buffer Out4 { STORE4_T out4_[]; };
layout(std430, binding = 1) readonly buffer X4 { STORE4_T x4_[]; };
layout(std430, binding = 2) readonly buffer Gamma4 { STORE4_T gamma4_[]; };
layout(std430, binding = 3) readonly buffer Beta4 { STORE4_T beta4_[]; };

layout(push_constant) uniform Push {
    uint rows, cols;
    float eps;
    uint pad;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
    uint gamma_offset, beta_offset;
} p;

shared float partial[64];  // one per subgroup; workgroups are at most 64 invocations wide (see norm.cpp)

float row_sum(float v) {
    float s = subgroupAdd(v);
    if (gl_NumSubgroups == 1u) return s;
    barrier();  // the previous call's reads of partial[] are done
    if (subgroupElect()) partial[gl_SubgroupID] = s;
    barrier();
    s = 0.0;
    for (uint i = 0u; i < gl_NumSubgroups; ++i) s += partial[i];
    return s;
}

// LayerNorm of one row as vec4s (VEC4 = 1, MODE 0).
void layer_norm_vec4(uint row) {
    const uint lid = gl_LocalInvocationID.x, width = gl_WorkGroupSize.x, n4 = p.cols / 4u;
    const uint xb = (p.x_view.x + row * p.x_view.y) / 4u, ob = (p.out_view.x + row * p.out_view.y) / 4u;
    const uint gb = p.gamma_offset / 4u, bb = p.beta_offset / 4u;
    const float pivot = LOAD(x_[p.x_view.x + row * p.x_view.y]);
    vec4 s = vec4(0.0);
    for (uint c = lid; c < n4; c += width) s += LOAD4(x4_[xb + c]) - pivot;
    const float shift = row_sum(s.x + s.y + s.z + s.w) / float(p.cols);
    vec4 q = vec4(0.0);
    for (uint c = lid; c < n4; c += width) {
        const vec4 d = (LOAD4(x4_[xb + c]) - pivot) - shift;
        q += d * d;
    }
    const float var = row_sum(q.x + q.y + q.z + q.w) / float(p.cols);
    const float r = var >= p.eps ? 1.0 / sqrt(var + p.eps) : 1.0 / sqrt(p.eps);
    for (uint c = lid; c < n4; c += width) {
        const vec4 d = (LOAD4(x4_[xb + c]) - pivot) - shift;
        out4_[ob + c] = STORE4(d * r * LOAD4(gamma4_[gb + c]) + LOAD4(beta4_[bb + c]));
    }
}

void main() {
    if (VEC4 != 0u && MODE == 0u) {
        for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) layer_norm_vec4(row);
        return;
    }
    const uint lid = gl_LocalInvocationID.x, width = gl_WorkGroupSize.x;
    const float inv_cols = 1.0 / float(p.cols);
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint x_base = p.x_view.x + row * p.x_view.y;
        const uint out_base = p.out_view.x + row * p.out_view.y;
        if (MODE == 0u) {
            const float pivot = LOAD(x_[x_base]);
            float s = 0.0;
            for (uint c = lid; c < p.cols; c += width) s += LOAD(x_[x_base + c * p.x_view.z]) - pivot;
            const float shift = row_sum(s) * inv_cols;  // mean - pivot
            float q = 0.0;
            for (uint c = lid; c < p.cols; c += width) {
                const float d = (LOAD(x_[x_base + c * p.x_view.z]) - pivot) - shift;
                q += d * d;
            }
            const float var = row_sum(q) * inv_cols;
            const float r = var >= p.eps ? 1.0 / sqrt(var + p.eps) : 1.0 / sqrt(p.eps);
            for (uint c = lid; c < p.cols; c += width) {
                const float d = (LOAD(x_[x_base + c * p.x_view.z]) - pivot) - shift;
                out_[out_base + c * p.out_view.z] =
                    STORE(d * r * LOAD(gamma_[p.gamma_offset + c]) + LOAD(beta_[p.beta_offset + c]));
            }
        } else if (MODE == 2u) {
            float a = 0.0;
            for (uint c = lid; c < p.cols; c += width) a += abs(LOAD(x_[x_base + c * p.x_view.z]));
            const float r = 1.0 / row_sum(a);
            for (uint c = lid; c < p.cols; c += width)
                out_[out_base + c * p.out_view.z] = STORE(LOAD(x_[x_base + c * p.x_view.z]) * r);
        } else {
            float q = 0.0;
            for (uint c = lid; c < p.cols; c += width) {
                const float v = LOAD(x_[x_base + c * p.x_view.z]);
                q += v * v;
            }
            const float r = 1.0 / sqrt(row_sum(q) * inv_cols + p.eps);
            for (uint c = lid; c < p.cols; c += width)
                out_[out_base + c * p.out_view.z] =
                    STORE(LOAD(x_[x_base + c * p.x_view.z]) * r * LOAD(gamma_[p.gamma_offset + c]));
        }
    }
}
