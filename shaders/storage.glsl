// Storage types of activation and weight buffers. Kernels compute in fp32 and convert only on load and store,
// so one source builds both variants:
//   default            STORE_T = float,      STORE4_T = vec4
//   -DSTORAGE_F16=1    STORE_T = float16_t,  STORE4_T = f16vec4 (fp16 storage)
// Declare buffers as `STORE_T x_[];` (or `STORE4_T` for 4-wide access), read with LOAD(x_[i]) / LOAD4(x4_[i])
// (float / vec4) and write with x_[i] = STORE(value) / x4_[i] = STORE4(value).
//
// The fp16 variant uses GL_EXT_shader_16bit_storage only: 16-bit values may be loaded, stored and converted
// to and from 32 bits, with no 16-bit arithmetic. The SPIR-V declares the StorageBuffer16BitAccess capability
// and runs on devices with the storageBuffer16BitAccess feature (VkPhysicalDevice16BitStorageFeatures, core in
// Vulkan 1.1); shaderFloat16 is not needed.
//
// Include it right after #version and any #extension lines:
//   #extension GL_GOOGLE_include_directive : require
//   #include "storage.glsl"
#ifndef HYENAVK_STORAGE_GLSL
#define HYENAVK_STORAGE_GLSL

#if defined(STORAGE_F16) && STORAGE_F16
#extension GL_EXT_shader_16bit_storage : require
#define STORE_T float16_t
#define STORE4_T f16vec4
#define LOAD(x) float(x)
#define LOAD4(x) vec4(x)
#define STORE(x) float16_t(x)
#define STORE4(x) f16vec4(x)
#else
// Plain parentheses: glslang copies a vector through vec4(v), and the fp32 build stays what it was.
#define STORE_T float
#define STORE4_T vec4
#define LOAD(x) (x)
#define LOAD4(x) (x)
#define STORE(x) (x)
#define STORE4(x) (x)
#endif

#endif
