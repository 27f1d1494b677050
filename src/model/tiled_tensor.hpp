// A [B * L, cols] tensor stored tile by tile (ops/tiles.hpp), each tile in an allocation of its own, so no
// binding exceeds the device's storage-buffer range however long the sequence. Elements are fp32 or fp16;
// the host side is always fp32.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/context_impl.hpp"
#include "model/prepared_forward.hpp"
#include "ops/tiles.hpp"

namespace hyenavk::model {

class TiledTensor {
public:
    TiledTensor() = default;
    TiledTensor(detail::ContextImpl& ctx, const std::vector<ops::SequenceTile>& tiles, uint32_t cols,
                ops::ElementType element, gpu::Lifetime lifetime = gpu::Lifetime::Activations);

    // Device bytes such a tensor holds.
    static uint64_t bytes(const gpu::MemoryPools& memory, const std::vector<ops::SequenceTile>& tiles, uint32_t cols,
                          ops::ElementType element);

    const ops::TiledView& view() const { return view_; }
    const ops::View& tile_view(size_t i) const { return view_.views[i]; }
    size_t tile_count() const { return parts_.size(); }
    bool empty() const { return parts_.empty(); }

    // Rows [tile.row0, tile.row0 + tile.rows()) of a host [rows, cols] array (cols may be narrower than the
    // tensor's: the tile is then seen as [rows, cols] packed), converted to the element type.
    void upload(gpu::Transfer& transfer, std::span<const float> host, uint32_t cols) const;
    void download(gpu::Transfer& transfer, std::span<float> host) const;
    // The tiles as pieces of a host [rows, cols] array (cols as for upload).
    std::vector<IoPiece> pieces(uint32_t cols) const;

private:
    std::vector<gpu::Allocation> parts_;
    ops::TiledView view_;
    uint32_t cols_ = 0;
};

}  // namespace hyenavk::model
