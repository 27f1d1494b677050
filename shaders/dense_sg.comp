#version 450
// out[M, N] = a[M, K] @ W + bias (then an epilogue) for CPU drivers such as lavapipe, which run a workgroup as one subgroup of
// SIMD lanes (LANES, the subgroup size: 4, 8 or 16) and turn every storage-buffer load into a loop over the
// lanes. The kernel therefore loads as few values per multiply-add as it can:
//   - a workgroup is one subgroup and owns a TM x TN tile of the output, TN = LANES * 4 * CG;
//   - per 4 steps of k, each lane loads a[r, k .. k + 3] for TM / LANES rows r and the weights of its CG groups
//     of 4 columns, as vec4 loads where the views allow (spec constants below), else as 4 scalar loads;
//   - each row's values of a reach every lane through subgroupShuffle with a constant lane index (one vector
//     permute on such drivers) and are multiplied into TM x 4 * CG accumulators per lane.
// The rows are unrolled by the preprocessor so that every accumulator index is a constant.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require
#include "storage.glsl"

#ifndef LANES
#define LANES 8
#endif
#ifndef TM
#define TM 32  // rows per tile: 8, 16, 32 or 64, a multiple of LANES
#endif
#ifndef CG
#define CG 2   // groups of 4 columns per lane: 1, 2 or 4
#endif
#if TM % LANES != 0
#error "TM must be a multiple of LANES"
#endif
#define SLOTS (TM / LANES)

layout(local_size_x = LANES) in;

// 0: W is [K, N] (w[k * N + n]); 1: W is [N, K] (w[n * K + k]).
layout(constant_id = 0) const uint W_OUT_IN = 0;
// 1 where a[r, k .. k + 3] is an aligned vec4: column stride 1, offset and row stride multiples of 4.
layout(constant_id = 1) const uint A_VEC4 = 0;
// 1 where the weights' rows are aligned vec4s: offset and row length (N or K) multiples of 4.
layout(constant_id = 2) const uint W_VEC4 = 0;
// 1 where out[r, n .. n + 3] is an aligned vec4 and N is a multiple of 4.
layout(constant_id = 3) const uint OUT_VEC4 = 0;
// What becomes of a result v and the value o already in out: see dense_epilogue.glsl.
layout(constant_id = 4) const uint EPILOGUE = 0;
#include "dense_epilogue.glsl"

layout(std430, binding = 0) buffer Out { STORE_T out_[]; };
layout(std430, binding = 0) buffer Out4 { STORE4_T out4_[]; };
layout(std430, binding = 1) readonly buffer A { STORE_T a_[]; };
layout(std430, binding = 1) readonly buffer A4 { STORE4_T a4_[]; };
layout(std430, binding = 2) readonly buffer W { STORE_T w_[]; };
layout(std430, binding = 2) readonly buffer W4 { STORE4_T w4_[]; };
layout(std430, binding = 3) readonly buffer Bias { STORE_T bias_[]; };  // the weights again when absent

layout(push_constant) uniform Push {
    uint M, N, K, has_bias;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 a_view;
    uint w_offset, bias_offset;
} p;

// a[r, k .. k + 3], where i is the index of a[r, k].
vec4 load_a4(uint i) {
    if (A_VEC4 != 0u) return LOAD4(a4_[i >> 2]);
    const uint cs = p.a_view.z;
    return vec4(LOAD(a_[i]), LOAD(a_[i + cs]), LOAD(a_[i + 2u * cs]), LOAD(a_[i + 3u * cs]));
}

// 4 consecutive weights from index i (along k for W [N, K]).
vec4 load_w4(uint i) {
    if (W_VEC4 != 0u) return LOAD4(w4_[i >> 2]);
    return vec4(LOAD(w_[i]), LOAD(w_[i + 1u]), LOAD(w_[i + 2u]), LOAD(w_[i + 3u]));
}

// The weights of the current 4 steps of k. W [K, N]: wk[kk][c] holds W[k + kk, the columns of group c];
// W [N, K]: wk[q][c] holds W[column q of group c, k .. k + 3].
vec4 wk[4][CG];

// What one row adds to column group c over the 4 steps, given its values of a at k .. k + 3. The partial
// sum is a value, not a loop-carried variable: a CPU driver stores the latter under the loop's lane mask.
vec4 part(vec4 a, uint c) {
    if (W_OUT_IN == 0u) return a.x * wk[0][c] + a.y * wk[1][c] + a.z * wk[2][c] + a.w * wk[3][c];
    return vec4(dot(a, wk[0][c]), dot(a, wk[1][c]), dot(a, wk[2][c]), dot(a, wk[3][c]));
}

#define SHUF(v, l) \
    vec4(subgroupShuffle(v.x, l), subgroupShuffle(v.y, l), subgroupShuffle(v.z, l), subgroupShuffle(v.w, l))
// Row i of the tile, column group c: the row's values of a are av[i / LANES] of lane i % LANES.
#define ROW(i, c) acc[i][c] += part(SHUF(av[(i) / LANES], (i) % LANES), c);
#define ROW8(b, c) \
    ROW(b, c) ROW(b + 1, c) ROW(b + 2, c) ROW(b + 3, c) ROW(b + 4, c) ROW(b + 5, c) ROW(b + 6, c) ROW(b + 7, c)
// The same for a single step of k: the row's value is at[i / LANES] of lane i % LANES.
#define TROW(i, c) acc[i][c] += subgroupShuffle(at[(i) / LANES], (i) % LANES) * wt[c];
#define TROW8(b, c) \
    TROW(b, c) TROW(b + 1, c) TROW(b + 2, c) TROW(b + 3, c) TROW(b + 4, c) TROW(b + 5, c) TROW(b + 6, c) TROW(b + 7, c)

#if TM == 8
#define ROWS(R, c) R(0, c)
#elif TM == 16
#define ROWS(R, c) R(0, c) R(8, c)
#elif TM == 32
#define ROWS(R, c) R(0, c) R(8, c) R(16, c) R(24, c)
#elif TM == 64
#define ROWS(R, c) R(0, c) R(8, c) R(16, c) R(24, c) R(32, c) R(40, c) R(48, c) R(56, c)
#else
#error "unsupported TM"
#endif
#if CG == 1
#define TILE(R) ROWS(R, 0)
#elif CG == 2
#define TILE(R) ROWS(R, 0) ROWS(R, 1)
#elif CG == 4
#define TILE(R) ROWS(R, 0) ROWS(R, 1) ROWS(R, 2) ROWS(R, 3)
#else
#error "unsupported CG"
#endif

void main() {
    const uint lane = gl_SubgroupInvocationID;
    const uint TN = LANES * 4u * CG;
    const uint tiles_n = (p.N + TN - 1u) / TN;
    const uint tiles = ((p.M + TM - 1u) / TM) * tiles_n;
    const uint K4 = p.K & ~3u;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        const uint r0 = (tile / tiles_n) * TM, n0 = (tile % tiles_n) * TN;
        // This lane loads a for rows r0 + lane + LANES * j and the weights of columns
        // n0 + 4 * (lane + LANES * c) + q. Rows and columns past a ragged edge load a clamped, valid element
        // and are never stored.
        uint a_idx[SLOTS];
        [[unroll]] for (uint j = 0u; j < SLOTS; ++j)
            a_idx[j] = p.a_view.x + min(r0 + lane + LANES * j, p.M - 1u) * p.a_view.y;
        uint w_idx[CG][4];
        [[unroll]] for (uint c = 0u; c < CG; ++c) {
            const uint g = n0 + 4u * (lane + LANES * c);
            [[unroll]] for (uint q = 0u; q < 4u; ++q) {
                // A vec4 load takes the whole group (N % 4 == 0 there); scalar loads clamp each column.
                const uint n = W_OUT_IN == 0u && W_VEC4 != 0u ? min(g, p.N - 4u) + q : min(g + q, p.N - 1u);
                w_idx[c][q] = p.w_offset + (W_OUT_IN == 0u ? n : n * p.K);
            }
        }
        vec4 acc[TM][CG];
        [[unroll]] for (uint i = 0u; i < TM; ++i)
            [[unroll]] for (uint c = 0u; c < CG; ++c) acc[i][c] = vec4(0.0);

        for (uint k = 0u; k < K4; k += 4u) {
            vec4 av[SLOTS];
            [[unroll]] for (uint j = 0u; j < SLOTS; ++j) av[j] = load_a4(a_idx[j] + k * p.a_view.z);
            [[unroll]] for (uint c = 0u; c < CG; ++c) {
                if (W_OUT_IN == 0u) {
                    [[unroll]] for (uint kk = 0u; kk < 4u; ++kk) {
                        const uint o = (k + kk) * p.N;
                        if (W_VEC4 != 0u)
                            wk[kk][c] = LOAD4(w4_[(w_idx[c][0] + o) >> 2]);
                        else
                            wk[kk][c] = vec4(LOAD(w_[w_idx[c][0] + o]), LOAD(w_[w_idx[c][1] + o]),
                                             LOAD(w_[w_idx[c][2] + o]), LOAD(w_[w_idx[c][3] + o]));
                    }
                } else {
                    [[unroll]] for (uint q = 0u; q < 4u; ++q) wk[q][c] = load_w4(w_idx[c][q] + k);
                }
            }
            TILE(ROW8)
        }
        // The last K % 4 steps, one at a time.
        for (uint k = K4; k < p.K; ++k) {
            float at[SLOTS];
            [[unroll]] for (uint j = 0u; j < SLOTS; ++j) at[j] = LOAD(a_[a_idx[j] + k * p.a_view.z]);
            vec4 wt[CG];
            [[unroll]] for (uint c = 0u; c < CG; ++c) {
                const uint o = W_OUT_IN == 0u ? k * p.N : k;
                wt[c] = vec4(LOAD(w_[w_idx[c][0] + o]), LOAD(w_[w_idx[c][1] + o]), LOAD(w_[w_idx[c][2] + o]),
                             LOAD(w_[w_idx[c][3] + o]));
            }
            TILE(TROW8)
        }

        const uint rows = min(p.M - r0, uint(TM));
        [[unroll]] for (uint c = 0u; c < CG; ++c) {
            const uint n = n0 + 4u * (lane + LANES * c);
            if (OUT_VEC4 != 0u) {
                if (n < p.N) {
                    const uint bi = p.bias_offset + n;
                    const vec4 b = p.has_bias != 0u
                                       ? vec4(LOAD(bias_[bi]), LOAD(bias_[bi + 1u]), LOAD(bias_[bi + 2u]), LOAD(bias_[bi + 3u]))
                                       : vec4(0.0);
                    const uint o = p.out_view.x + n + r0 * p.out_view.y;
                    [[unroll]] for (uint i = 0u; i < TM; ++i) {
                        if (i < rows) {
                            const uint oi = (o + i * p.out_view.y) >> 2;
                            const vec4 prev = EPILOGUE != EPILOGUE_STORE ? LOAD4(out4_[oi]) : vec4(0.0);
                            out4_[oi] = STORE4(epilogue(acc[i][c] + b, prev));
                        }
                    }
                }
            } else {
                [[unroll]] for (uint q = 0u; q < 4u; ++q) {
                    if (n + q < p.N) {
                        const float b = p.has_bias != 0u ? LOAD(bias_[p.bias_offset + n + q]) : 0.0;
                        const uint o = p.out_view.x + (n + q) * p.out_view.z + r0 * p.out_view.y;
                        [[unroll]] for (uint i = 0u; i < TM; ++i) {
                            if (i < rows) {
                                const uint oi = o + i * p.out_view.y;
                                const float prev = EPILOGUE != EPILOGUE_STORE ? LOAD(out_[oi]) : 0.0;
                                out_[oi] = STORE(epilogue(vec4(acc[i][c][q] + b), vec4(prev)).x);
                            }
                        }
                    }
                }
            }
        }
    }
}
