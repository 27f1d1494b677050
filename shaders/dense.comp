#version 450
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"
// out[M, N] = a[M, K] @ W + bias, then an epilogue. Each invocation owns a 4 x 4 block of the output and keeps it in
// registers over the whole K loop: register blocking without shared memory, whose barriers are costly on
// CPU drivers. A grid-stride loop over blocks covers any M, N within the workgroup-count limit.
layout(local_size_x = 64) in;

// 0: W is [K, N] (w[k * N + n]); 1: W is [N, K] (w[n * K + k], PyTorch's Linear.weight).
layout(constant_id = 0) const uint W_OUT_IN = 0;
// What becomes of a result v and the value o already in out: see dense_epilogue.glsl.
layout(constant_id = 1) const uint EPILOGUE = 0;
#include "dense_epilogue.glsl"

layout(std430, binding = 0) buffer Out { STORE_T out_[]; };
layout(std430, binding = 1) readonly buffer A { STORE_T a_[]; };
layout(std430, binding = 2) readonly buffer W { STORE_T w_[]; };
layout(std430, binding = 3) readonly buffer Bias { STORE_T bias_[]; };  // the weights again when absent

layout(push_constant) uniform Push {
    uint M, N, K, has_bias;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 a_view;
    uint w_offset, bias_offset;
} p;

void main() {
    const uint blocks_n = (p.N + 3u) / 4u;
    const uint blocks = ((p.M + 3u) / 4u) * blocks_n;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    const uint a_cs = p.a_view.z;
    const uint w_step = W_OUT_IN == 1u ? 1u : p.N;  // distance between k and k + 1 for one column
    for (uint blk = gl_GlobalInvocationID.x; blk < blocks; blk += stride) {
        const uint r0 = (blk / blocks_n) * 4u, n0 = (blk % blocks_n) * 4u;
        // Rows and columns past a ragged edge load a clamped, valid element and are never stored, so the
        // inner loop needs no bounds checks.
        const uvec4 rows = min(uvec4(r0) + uvec4(0u, 1u, 2u, 3u), uvec4(p.M - 1u));
        const uvec4 cols = min(uvec4(n0) + uvec4(0u, 1u, 2u, 3u), uvec4(p.N - 1u));
        const uvec4 a_row = uvec4(p.a_view.x) + rows * p.a_view.y;
        const uvec4 w_col = uvec4(p.w_offset) + (W_OUT_IN == 1u ? cols * p.K : cols);
        vec4 acc0 = vec4(0.0), acc1 = vec4(0.0), acc2 = vec4(0.0), acc3 = vec4(0.0);
        uint ak = 0u, wk = 0u;
        for (uint k = 0u; k < p.K; ++k) {
            const vec4 w = vec4(LOAD(w_[w_col.x + wk]), LOAD(w_[w_col.y + wk]), LOAD(w_[w_col.z + wk]), LOAD(w_[w_col.w + wk]));
            acc0 += LOAD(a_[a_row.x + ak]) * w;
            acc1 += LOAD(a_[a_row.y + ak]) * w;
            acc2 += LOAD(a_[a_row.z + ak]) * w;
            acc3 += LOAD(a_[a_row.w + ak]) * w;
            ak += a_cs;
            wk += w_step;
        }
        if (p.has_bias != 0u) {
            const uvec4 b = uvec4(p.bias_offset) + cols;
            const vec4 bias = vec4(LOAD(bias_[b.x]), LOAD(bias_[b.y]), LOAD(bias_[b.z]), LOAD(bias_[b.w]));
            acc0 += bias;
            acc1 += bias;
            acc2 += bias;
            acc3 += bias;
        }
        const mat4 acc = mat4(acc0, acc1, acc2, acc3);  // acc[i] is row r0 + i
        const uint n_count = min(4u, p.N - n0), r_count = min(4u, p.M - r0);
        for (uint i = 0u; i < r_count; ++i) {
            const uint base = p.out_view.x + (r0 + i) * p.out_view.y + n0 * p.out_view.z;
            for (uint j = 0u; j < n_count; ++j) {
                const uint oi = base + j * p.out_view.z;
                const float prev = EPILOGUE != EPILOGUE_STORE ? LOAD(out_[oi]) : 0.0;
                out_[oi] = STORE(epilogue(vec4(acc[i][j]), vec4(prev)).x);
            }
        }
    }
}
