// IEEE half (F16) and bfloat16 (BF16) to and from float, bit-exact: subnormals, infinities and NaN included,
// rounding to nearest even. Written out by hand because the target compilers do not all offer _Float16.
#pragma once

#include <bit>
#include <cstdint>

namespace hyenavk::io {

inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24 is exact in float.
        const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
        return std::bit_cast<float>(std::bit_cast<uint32_t>(magnitude) | sign);
    }
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN payload
    return std::bit_cast<float>(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
}

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

inline uint16_t f32_to_f16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t x = bits & 0x7fffffffu;
    if (x > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((x >> 13) & 0x3ffu));  // NaN stays quiet NaN
    if (x >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to infinity
    if (x < 0x38800000u) {
        // Below the smallest normal half (2^-14): a subnormal result in units of 2^-24.
        const uint32_t exponent = x >> 23;
        if (exponent < 102) return sign;  // below 2^-25, rounds to zero
        const uint32_t mantissa = (x & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - exponent;  // 14 .. 24
        uint32_t result = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        if (rest > half || (rest == half && (result & 1u))) ++result;  // may carry into the smallest normal
        return static_cast<uint16_t>(sign | result);
    }
    uint32_t result = (x - ((127u - 15u) << 23)) >> 13;
    const uint32_t rest = x & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (result & 1u))) ++result;  // a carry moves into the exponent correctly
    return static_cast<uint16_t>(sign | result);
}

inline uint16_t f32_to_bf16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // quiet NaN
    const uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(rounded >> 16);
}

}  // namespace hyenavk::io
