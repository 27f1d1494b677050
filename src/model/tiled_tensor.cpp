#include "model/tiled_tensor.hpp"

#include "io/float16.hpp"

namespace hyenavk::model {

TiledTensor::TiledTensor(detail::ContextImpl& ctx, const std::vector<ops::SequenceTile>& tiles, uint32_t cols,
                         ops::ElementType element, gpu::Lifetime lifetime)
    : cols_(cols) {
    view_.tiles = &tiles;
    for (const auto& tile : tiles) {
        parts_.push_back(ctx.memory.allocate_dedicated(lifetime, uint64_t(tile.rows()) * cols * ops::element_bytes(element)));
        view_.views.push_back(ops::matrix(parts_.back(), tile.rows(), cols, element));
    }
}

uint64_t TiledTensor::bytes(const gpu::MemoryPools& memory, const std::vector<ops::SequenceTile>& tiles, uint32_t cols,
                            ops::ElementType element) {
    uint64_t total = 0;
    for (const auto& tile : tiles) total += memory.dedicated_bytes(uint64_t(tile.rows()) * cols * ops::element_bytes(element));
    return total;
}

void TiledTensor::upload(gpu::Transfer& transfer, std::span<const float> host, uint32_t cols) const {
    std::vector<uint16_t> half;
    for (size_t i = 0; i < parts_.size(); ++i) {
        const ops::SequenceTile& tile = view_.tile(i);
        const auto src = host.subspan(tile.row0 * cols, uint64_t(tile.rows()) * cols);
        if (view_.views[i].element == ops::ElementType::F16) {
            half.resize(src.size());
            for (size_t k = 0; k < src.size(); ++k) half[k] = io::f32_to_f16(src[k]);
            transfer.upload(parts_[i], 0, half.data(), half.size() * sizeof(uint16_t));
        } else {
            transfer.upload(parts_[i], 0, src.data(), src.size_bytes());
        }
    }
}

void TiledTensor::download(gpu::Transfer& transfer, std::span<float> host) const {
    std::vector<uint16_t> half;
    for (size_t i = 0; i < parts_.size(); ++i) {
        const ops::SequenceTile& tile = view_.tile(i);
        const auto dst = host.subspan(tile.row0 * cols_, uint64_t(tile.rows()) * cols_);
        if (view_.views[i].element == ops::ElementType::F16) {
            half.resize(dst.size());
            transfer.download(parts_[i], 0, half.data(), half.size() * sizeof(uint16_t));
            for (size_t k = 0; k < dst.size(); ++k) dst[k] = io::f16_to_f32(half[k]);
        } else {
            transfer.download(parts_[i], 0, dst.data(), dst.size_bytes());
        }
    }
}

}  // namespace hyenavk::model
