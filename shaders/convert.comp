#version 450
#extension GL_EXT_shader_16bit_storage : require
// Copies a 2-D view into another of a different storage type (fp32 to fp16 with DST_F16, fp16 to fp32 with
// SRC_F16), rounding to nearest.
layout(local_size_x = 256) in;

#if defined(SRC_F16) && SRC_F16
#define SRC_T float16_t
#else
#define SRC_T float
#endif
#if defined(DST_F16) && DST_F16
#define DST_T float16_t
#else
#define DST_T float
#endif

layout(std430, binding = 0) writeonly buffer Out { DST_T out_[]; };
layout(std430, binding = 1) readonly buffer In { SRC_T in_[]; };

layout(push_constant) uniform Push {
    uint rows, cols, pad0, pad1;
    uvec4 out_view;  // offset, row stride, column stride, unused
    uvec4 in_view;
} p;

void main() {
    const uint total = p.rows * p.cols;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
        const uint r = i / p.cols, c = i % p.cols;
        const float v = float(in_[p.in_view.x + r * p.in_view.y + c * p.in_view.z]);
        out_[p.out_view.x + r * p.out_view.y + c * p.out_view.z] = DST_T(v);
    }
}
