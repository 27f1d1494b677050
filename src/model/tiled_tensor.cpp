#include "model/tiled_tensor.hpp"

#include "model/element_transfer.hpp"

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
    for (size_t i = 0; i < parts_.size(); ++i) {
        const ops::SequenceTile& tile = view_.tile(i);
        upload_elements(transfer, parts_[i], host.subspan(tile.row0 * cols, uint64_t(tile.rows()) * cols),
                        view_.views[i].element);
    }
}

void TiledTensor::download(gpu::Transfer& transfer, std::span<float> host) const {
    for (size_t i = 0; i < parts_.size(); ++i) {
        const ops::SequenceTile& tile = view_.tile(i);
        download_elements(transfer, parts_[i], host.subspan(tile.row0 * cols_, uint64_t(tile.rows()) * cols_),
                          view_.views[i].element);
    }
}

std::vector<IoPiece> TiledTensor::pieces(uint32_t cols) const {
    std::vector<IoPiece> out;
    for (size_t i = 0; i < parts_.size(); ++i) {
        const ops::SequenceTile& tile = view_.tile(i);
        out.push_back({&parts_[i], tile.row0 * cols, uint64_t(tile.rows()) * cols});
    }
    return out;
}

}  // namespace hyenavk::model
