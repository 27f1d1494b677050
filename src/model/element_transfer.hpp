// Host fp32 data to and from device buffers stored as fp32 or fp16: the one place models convert.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "gpu/transfer.hpp"
#include "io/float16.hpp"
#include "ops/view.hpp"

namespace hyenavk::model {

inline void upload_elements(gpu::Transfer& transfer, const gpu::Allocation& dst, std::span<const float> src,
                            ops::ElementType element) {
    if (element == ops::ElementType::F32) {
        transfer.upload(dst, 0, src.data(), src.size_bytes());
        return;
    }
    std::vector<uint16_t> half(src.size());
    for (size_t i = 0; i < src.size(); ++i) half[i] = io::f32_to_f16(src[i]);
    transfer.upload(dst, 0, half.data(), half.size() * sizeof(uint16_t));
}

inline void download_elements(gpu::Transfer& transfer, const gpu::Allocation& src, std::span<float> dst,
                              ops::ElementType element) {
    if (element == ops::ElementType::F32) {
        transfer.download(src, 0, dst.data(), dst.size_bytes());
        return;
    }
    std::vector<uint16_t> half(dst.size());
    transfer.download(src, 0, half.data(), half.size() * sizeof(uint16_t));
    for (size_t i = 0; i < dst.size(); ++i) dst[i] = io::f16_to_f32(half[i]);
}

}  // namespace hyenavk::model
