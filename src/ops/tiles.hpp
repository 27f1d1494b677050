// Sequences of [B * L, C] rows split into tiles along time. A tile is either several whole sequences or a run
// of steps inside one sequence, never part of two, so a tile is one contiguous block of rows that a kernel
// can see as a single view. Long sequences are stored tile by tile (each tile its own buffer, within the
// device's storage-buffer range) and position-wise work runs tile by tile; only the long convolution
// reads whole sequences, gathering them from the tiles.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hyenavk/hyenavk.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

struct SequenceTile {
    uint32_t b_first = 0, b_count = 1;  // sequences b_first .. b_first + b_count - 1
    uint32_t t0 = 0, t_count = 0;       // steps t0 .. t0 + t_count - 1 of each (t0 = 0 and t_count = L for whole ones)
    uint64_t row0 = 0;                  // the tile's first row in the [B * L] order
    uint32_t rows() const { return b_count * t_count; }
};

// Tiles of at most max_rows rows covering batch sequences of `length` steps: whole sequences are grouped
// while they fit, longer ones are cut into near-equal runs.
inline std::vector<SequenceTile> make_tiles(uint32_t batch, uint32_t length, uint32_t max_rows) {
    if (max_rows == 0 || batch == 0 || length == 0)
        throw Error(ErrorCode::Internal, "make_tiles: batch, length and max_rows must be >= 1");
    std::vector<SequenceTile> tiles;
    if (length <= max_rows) {
        const uint32_t per_tile = max_rows / length;
        for (uint64_t b = 0; b < batch; b += per_tile) {  // 64-bit: b + per_tile may pass 2^32
            const uint32_t count = uint32_t(std::min<uint64_t>(per_tile, batch - b));
            tiles.push_back({uint32_t(b), count, 0, length, b * length});
        }
        return tiles;
    }
    // In 64 bits: for lengths near 2^32, length + max_rows - 1 would wrap to a handful of pieces (or none).
    const uint32_t pieces = uint32_t((uint64_t(length) + max_rows - 1) / max_rows);
    for (uint32_t b = 0; b < batch; ++b)
        for (uint32_t i = 0; i < pieces; ++i) {
            const uint32_t t0 = uint32_t(uint64_t(length) * i / pieces);
            const uint32_t t1 = uint32_t(uint64_t(length) * (i + 1) / pieces);
            tiles.push_back({b, 1, t0, t1 - t0, uint64_t(b) * length + t0});
        }
    return tiles;
}

inline uint32_t max_tile_rows(const std::vector<SequenceTile>& tiles) {
    uint32_t m = 0;
    for (const auto& t : tiles) m = std::max(m, t.rows());
    return m;
}

// A [B * L, cols] operand as one view per tile (views[i] is [tiles[i].rows(), cols]).
struct TiledView {
    const std::vector<SequenceTile>* tiles = nullptr;
    std::vector<View> views;

    size_t size() const { return views.size(); }
    const SequenceTile& tile(size_t i) const { return (*tiles)[i]; }
    // Columns [first, first + width) of every tile.
    TiledView columns(uint32_t first, uint32_t width) const {
        TiledView t{tiles, {}};
        for (const View& v : views) t.views.push_back(v.columns(first, width));
        return t;
    }
};

}  // namespace hyenavk::ops
