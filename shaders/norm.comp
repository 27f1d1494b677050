#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// Row normalisation over C columns, one workgroup per row (grid-stride over rows):
//   MODE 0, LayerNorm: r = var >= eps ? 1/sqrt(var + eps) : 1/sqrt(eps) (Axon's clamp),
//                      y = (x - mean) * r * gamma + beta, var biased;
//   MODE 1, RMSNorm:   y = x / sqrt(mean(x^2) + eps) * gamma;
//   MODE 2, L1:        y = x / sum(|x|) (safari's normalized filters; no eps, as there).
// LayerNorm sums x - pivot (the row's first value) instead of x: a large common offset then cancels exactly
// before any rounding, and the variance is a second pass over (x - mean)^2, never E[x^2] - mean^2.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint MODE = 0;

layout(std430, binding = 0) writeonly buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer X { STORE_T x_[]; };
layout(std430, binding = 2) readonly buffer Gamma { STORE_T gamma_[]; };  // [C]; RMSNorm's scale
layout(std430, binding = 3) readonly buffer Beta { STORE_T beta_[]; };    // [C]; gamma again for RMSNorm

layout(push_constant) uniform Push {
    uint rows, cols;
    float eps;
    uint pad;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 x_view;
    uint gamma_offset, beta_offset;
} p;

const uint WG = gl_WorkGroupSize.x;
shared float partial[WG];

// Sum of `v` over the workgroup by a tree in shared memory; every invocation gets the result.
float workgroup_sum(float v) {
    const uint lid = gl_LocalInvocationID.x;
    partial[lid] = v;
    barrier();
    for (uint half_ = WG / 2u; half_ > 0u; half_ /= 2u) {
        if (lid < half_) partial[lid] += partial[lid + half_];
        barrier();
    }
    const float total = partial[0];
    barrier();  // the next call overwrites partial[]
    return total;
}

void main() {
    const uint lid = gl_LocalInvocationID.x;
    const float inv_cols = 1.0 / float(p.cols);
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x) {
        const uint x_base = p.x_view.x + row * p.x_view.y;
        const uint out_base = p.out_view.x + row * p.out_view.y;
        if (MODE == 0u) {
            const float pivot = LOAD(x_[x_base]);
            float s = 0.0;
            for (uint c = lid; c < p.cols; c += WG) s += LOAD(x_[x_base + c * p.x_view.z]) - pivot;
            const float shift = workgroup_sum(s) * inv_cols;  // mean - pivot
            float q = 0.0;
            for (uint c = lid; c < p.cols; c += WG) {
                const float d = (LOAD(x_[x_base + c * p.x_view.z]) - pivot) - shift;
                q += d * d;
            }
            const float var = workgroup_sum(q) * inv_cols;
            const float r = var >= p.eps ? 1.0 / sqrt(var + p.eps) : 1.0 / sqrt(p.eps);
            for (uint c = lid; c < p.cols; c += WG) {
                const float d = (LOAD(x_[x_base + c * p.x_view.z]) - pivot) - shift;
                out_[out_base + c * p.out_view.z] =
                    STORE(d * r * LOAD(gamma_[p.gamma_offset + c]) + LOAD(beta_[p.beta_offset + c]));
            }
        } else if (MODE == 2u) {
            float a = 0.0;
            for (uint c = lid; c < p.cols; c += WG) a += abs(LOAD(x_[x_base + c * p.x_view.z]));
            const float r = 1.0 / workgroup_sum(a);
            for (uint c = lid; c < p.cols; c += WG)
                out_[out_base + c * p.out_view.z] = STORE(LOAD(x_[x_base + c * p.x_view.z]) * r);
        } else {
            float q = 0.0;
            for (uint c = lid; c < p.cols; c += WG) {
                const float v = LOAD(x_[x_base + c * p.x_view.z]);
                q += v * v;
            }
            const float r = 1.0 / sqrt(workgroup_sum(q) * inv_cols + p.eps);
            for (uint c = lid; c < p.cols; c += WG)
                out_[out_base + c * p.out_view.z] =
                    STORE(LOAD(x_[x_base + c * p.x_view.z]) * r * LOAD(gamma_[p.gamma_offset + c]));
        }
    }
}
