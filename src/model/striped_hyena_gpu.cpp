#include "model/striped_hyena_gpu.hpp"

#include <algorithm>
#include <functional>
#include <string>

#include "core/sizes.hpp"
#include "fft/long_conv.hpp"
#include "fft/vkfft_plan.hpp"
#include "model/config.hpp"
#include "model/element_transfer.hpp"
#include "ops/conv.hpp"
#include "ops/convert.hpp"
#include "ops/dense.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"

namespace hyenavk::model {
namespace {

using ops::ElementType;
using ops::SequenceTile;
using ops::TiledView;
using ops::View;
using ops::WeightLayout;
using detail::mib;

constexpr uint32_t kMaxTileRows = 32768;      // beyond this, longer tiles only grow the scratch

uint32_t hyena_block_count(const StripedHyenaConfig& c) { return (c.num_layers + 1) / 2; }
uint32_t filter_count(const StripedHyenaConfig& c) { return hyena_block_count(c) * c.order; }

// Scratch buffers of one tile, in elements of the storage type (T = tile rows, h = halo). Which step uses
// which buffer is fixed by the recording below; buffers of steps that never overlap share memory.
struct Scratch {
    uint64_t a, b, c, d, e;  // a: [T+h, H] norms; b: [T+h, 2H] gated-conv projections; c: [T, 4H] FFN up
                             // and gate; d, e: [T, H] short-lived results
    static Scratch of(const StripedHyenaConfig& cfg, uint64_t T, uint64_t h) {
        const uint64_t H = cfg.hidden_size;
        return {(T + h) * H, (T + h) * 2 * H, T * 4 * H, T * H, T * H};
    }
};

// Offsets of the scratch buffers and of the FFT region in the arena (the FFT region overlaps the tile
// buffers: the long convolutions run between tile passes).
struct ArenaLayout {
    uint64_t a, b, c, d, e, tile_end;  // bytes
    uint64_t workspace, spectrum, fft_end;
    uint64_t total() const { return std::max(tile_end, fft_end); }
};

ArenaLayout arena_layout(const Scratch& s, uint32_t element_bytes, uint64_t workspace_bytes, uint64_t spectrum_bytes,
                         uint64_t alignment) {
    auto up = [alignment](uint64_t v) { return (v + alignment - 1) / alignment * alignment; };
    ArenaLayout l{};
    uint64_t at = 0;
    for (auto [field, elems] : {std::pair{&l.a, s.a}, {&l.b, s.b}, {&l.c, s.c}, {&l.d, s.d}, {&l.e, s.e}}) {
        *field = at;
        at = up(at + elems * element_bytes);
    }
    l.tile_end = at;
    l.workspace = 0;
    l.spectrum = up(workspace_bytes);
    l.fft_end = up(l.spectrum + spectrum_bytes);
    return l;
}

// The implicit filters' MLP runs once, in fp32, whatever the storage of the rest.
ElementType storage_of(const std::string& weight, ElementType model_element) {
    return weight.find("_filter") != std::string::npos ? ElementType::F32 : model_element;
}

// The filters' tiles: [taps, H] and the MLP's [taps, F] rows cut to fit one binding each.
std::vector<SequenceTile> filter_tiles_for(const DeviceCaps& caps, const StripedHyenaConfig& c) {
    const uint64_t widest = uint64_t(std::max(c.filter_size, c.hidden_size)) * sizeof(float);
    const uint32_t rows = uint32_t(std::clamp<uint64_t>(caps.max_storage_buffer_range / widest, 1, kMaxTileRows));
    return ops::make_tiles(1, c.taps(), rows);
}

// Scratch of the filters' evaluation, in floats, for tiles of T rows: positions, two MLP layers and, for a
// model stored in fp16, the fp32 filter before conversion.
uint64_t filter_scratch_floats(const StripedHyenaConfig& c, uint32_t T, ElementType element) {
    return uint64_t(T) * (1 + 2 * uint64_t(c.filter_size) + (element != ElementType::F32 ? c.hidden_size : 0));
}

uint64_t alignment_of(const DeviceCaps& caps) {
    return std::max<uint64_t>({caps.min_storage_buffer_offset_alignment, caps.non_coherent_atom_size, 16});
}

}  // namespace

struct StripedHyenaGpu::Forward : PreparedForward {
    ForwardLayout layout;
    TiledTensor x, s, p, input;  // stream, signal (and full output), gates, a wide input
    gpu::Allocation output;      // [B, H], the last steps
    gpu::Allocation arena;
    ArenaLayout arena_at{};
    std::unique_ptr<fft::LongConv> conv;
    std::vector<gpu::Allocation> spectra;  // per (filter, channel group), where cached
};

StripedHyenaGpu::StripedHyenaGpu(detail::ContextImpl& ctx, const StripedHyenaConfig& config,
                                 const HostWeights& weights, Precision precision, uint64_t spectrum_cache_bytes)
    : ctx_(ctx), config_(config), element_(element_of(precision)),
      spectrum_cache_limit_(spectrum_cache_bytes ? spectrum_cache_bytes : UINT64_MAX) {
    config_.validate();
    if (element_ == ElementType::F16 && !ctx.device->caps().storage_buffer_16bit)
        throw Error(ErrorCode::Unsupported, "fp16 precision needs 16-bit storage buffers (storageBuffer16BitAccess), "
                                            "which " + ctx.device->info().name + " lacks");
    const uint32_t H = config_.hidden_size, N = config_.order;
    for (const auto& [name, tensor] : weights.all()) upload_weight(name, tensor.data, storage_of(name, element_));
    // Column blocks of each Hyena projection, for plans that recompute one gate at a time.
    for (uint32_t block = 1; block <= config_.num_layers; block += 2) {
        const std::string p = block_prefix(block) + "_proj";
        const auto& kernel = weights.at(p + ".kernel").data;
        const auto& b = weights.at(p + ".bias").data;
        for (uint32_t k = 0; k <= N; ++k) {
            std::vector<float> w(uint64_t(H) * H);
            for (uint32_t r = 0; r < H; ++r)
                std::copy_n(kernel.begin() + uint64_t(r) * (N + 1) * H + uint64_t(k) * H, H, w.begin() + uint64_t(r) * H);
            const std::string part = p + "#" + std::to_string(k);
            upload_weight(part + ".kernel", w, element_);
            upload_weight(part + ".bias", std::span<const float>(b).subspan(uint64_t(k) * H, H), element_);
        }
    }
    compute_filters();
    load_peak_ = ctx_.memory.stats().peak_reserved;
}

StripedHyenaGpu::~StripedHyenaGpu() = default;

ResidentNeed StripedHyenaGpu::resident_need(const detail::ContextImpl& ctx, const StripedHyenaConfig& c,
                                            Precision precision) {
    const gpu::MemoryPools& mem = ctx.memory;
    const ElementType el = element_of(precision);
    const uint64_t H = c.hidden_size, eb = ops::element_bytes(el);
    ResidentNeed need;
    for (const TensorSpec& t : striped_hyena_tensors(c)) {
        need.weights += mem.dedicated_bytes(t.elements() * ops::element_bytes(storage_of(t.name, el)));
        need.host_bytes += t.elements() * sizeof(float);
    }
    // The constructor's column blocks of each Hyena projection.
    need.weights += uint64_t(hyena_block_count(c)) * (c.order + 1) *
                    (mem.dedicated_bytes(H * H * eb) + mem.dedicated_bytes(H * eb));
    if (filter_count(c) == 0) return need;
    const std::vector<SequenceTile> tiles = filter_tiles_for(ctx.device->caps(), c);
    need.filters = filter_count(c) * TiledTensor::bytes(mem, tiles, c.hidden_size, el) +
                   mem.dedicated_bytes(filter_scratch_floats(c, ops::max_tile_rows(tiles), el) * sizeof(float));
    need.filters_what = "the filters of seq_len " + std::to_string(c.taps()) + " (" + std::to_string(filter_count(c)) +
                        " x [" + std::to_string(c.taps()) + ", " + std::to_string(H) + "])";
    return need;
}

nlohmann::json StripedHyenaGpu::config_json() const { return to_json(config_); }

void StripedHyenaGpu::upload_weight(const std::string& name, std::span<const float> data, ElementType element) {
    auto alloc = ctx_.memory.allocate(gpu::Lifetime::Weights, data.size() * ops::element_bytes(element));
    upload_elements(ctx_.transfer, alloc, data, element);
    weights_.insert_or_assign(name, std::pair{std::move(alloc), element});
}

View StripedHyenaGpu::weight(const std::string& name, uint32_t rows, uint32_t cols) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(ErrorCode::Internal, "weight '" + name + "' was not uploaded");
    return ops::matrix(it->second.first, rows, cols, it->second.second);
}

const View* StripedHyenaGpu::bias(const std::string& name, View& storage) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(ErrorCode::Internal, "bias '" + name + "' was not uploaded");
    const ElementType e = it->second.second;
    storage = ops::matrix(it->second.first, 1, static_cast<uint32_t>(it->second.first.size() / ops::element_bytes(e)), e);
    return &storage;
}

void StripedHyenaGpu::compute_filters() {
    // h_k = dense3(sin(dense2(sin(dense1(pos))))) over pos[s] = s / max(Ls - 1, 1): weights only, so once,
    // tile by tile in fp32, stored in the model's precision.
    const uint32_t Ls = config_.taps(), F = config_.filter_size, H = config_.hidden_size;
    if (filter_count(config_) == 0) return;
    filter_tiles_ = filter_tiles_for(ctx_.device->caps(), config_);
    const uint32_t T = ops::max_tile_rows(filter_tiles_);

    auto scratch = [&](uint64_t floats) { return ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, floats * 4); };
    auto pos_buf = scratch(T), f1 = scratch(uint64_t(T) * F), f2 = scratch(uint64_t(T) * F);
    gpu::Allocation h32;
    if (element_ != ElementType::F32) h32 = scratch(uint64_t(T) * H);
    for (uint32_t i = 0; i < filter_count(config_); ++i)
        filters_.emplace_back(ctx_, filter_tiles_, H, element_, gpu::Lifetime::Weights);

    std::vector<float> pos;
    View b1, b2, b3;
    for (const SequenceTile& tile : filter_tiles_) {
        pos.resize(tile.t_count);
        for (uint32_t s = 0; s < tile.t_count; ++s) pos[s] = float(double(tile.t0 + s) / double(std::max(Ls - 1, 1u)));
        ctx_.transfer.upload(pos_buf, 0, pos.data(), pos.size() * sizeof(float));
        gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
        const uint32_t n = tile.t_count;
        const View v1 = ops::matrix(f1, n, F), v2 = ops::matrix(f2, n, F), vp = ops::matrix(pos_buf, n, 1);
        size_t index = 0;
        for (uint32_t block = 1; block <= config_.num_layers; block += 2)
            for (uint32_t k = 0; k < config_.order; ++k, ++index) {
                const std::string f = block_prefix(block) + "_filter" + std::to_string(k);
                const size_t tile_index = size_t(&tile - filter_tiles_.data());
                const View h = filters_[index].tile_view(tile_index);
                const View h_out = element_ == ElementType::F32 ? h : ops::matrix(h32, n, H);
                ops::dense(rec, v1, vp, weight(f + "_dense1.kernel", 1, F), WeightLayout::InOut, bias(f + "_dense1.bias", b1));
                ops::sin(rec, v1, v1);
                ops::dense(rec, v2, v1, weight(f + "_dense2.kernel", F, F), WeightLayout::InOut, bias(f + "_dense2.bias", b2));
                ops::sin(rec, v2, v2);
                ops::dense(rec, h_out, v2, weight(f + "_dense3.kernel", F, H), WeightLayout::InOut,
                           bias(f + "_dense3.bias", b3));
                if (element_ != ElementType::F32) ops::convert(rec, h, h_out);
            }
        rec.finish().submit();
    }
}

ForwardLayout StripedHyenaGpu::layout(uint32_t batch, uint32_t length, bool full, uint64_t available) const {
    const StripedHyenaConfig& c = config_;
    const DeviceCaps& caps = ctx_.device->caps();
    const gpu::MemoryPools& mem = ctx_.memory;
    const uint32_t H = c.hidden_size, E = c.embed_dim, N = c.order, eb = ops::element_bytes(element_);
    const uint64_t binding_limit = std::min(caps.max_storage_buffer_range, caps.max_memory_allocation_size);
    ForwardLayout l;
    l.halo = std::max(2u, c.conv_kernel_size - 1);
    l.separate_input = E > H;

    // Tiles: every per-tile buffer within one binding (the widest is [T + halo, 4H]).
    const uint64_t widest = uint64_t(std::max({4 * H, (N + 1) * H, E})) * eb;
    if (binding_limit / widest <= uint64_t(2 * l.halo))
        throw Error(ErrorCode::DeviceLimit, "one row of " + std::to_string(widest) + " bytes leaves no room for a tile "
                                            "within the device's storage-buffer range (" + mib(binding_limit) + ")");
    uint64_t workspace = 0, spectrum = 0;
    if (filter_count(c) > 0) {
        const uint64_t most = std::min(binding_limit, fft::LongConv::kMaxWorkspaceBytes);
        l.group_channels = fft::LongConv::fit_group_channels(batch, length, H, c.taps(), most);
        if (l.group_channels == 0)
            throw Error(ErrorCode::DeviceLimit, "a long convolution of B = " + std::to_string(batch) + ", L = " + std::to_string(length) + " needs " +
                                                    mib(fft::LongConv::workspace_bytes_for(batch, length, c.taps(), 1)) +
                                                    " per channel, beyond the device's storage-buffer range (" +
                                                    mib(binding_limit) + ")");
        workspace = fft::LongConv::workspace_bytes_for(batch, length, c.taps(), l.group_channels);
        spectrum = fft::LongConv::spectrum_bytes_for(length, c.taps(), l.group_channels);
    }
    uint64_t cached_spectra = 0;
    for (uint32_t i = 0; i < filter_count(c) * (l.group_channels ? H / l.group_channels : 0); ++i)
        cached_spectra += mem.dedicated_bytes(spectrum);

    // The longest tiles whose leanest plan fits: shorter tiles mean more dispatches, but less scratch.
    const uint64_t arena_limit = caps.max_memory_allocation_size;
    uint64_t gates = 0;
    std::function<uint64_t(bool)> scratch_bytes;
    for (uint32_t max_rows = uint32_t(std::min<uint64_t>(binding_limit / widest - l.halo, kMaxTileRows));;
         max_rows = std::max(max_rows / 2, 2 * l.halo)) {
        l.tiles = ops::make_tiles(batch, length, max_rows);
        l.tile_rows = ops::max_tile_rows(l.tiles);
        l.stream_bytes = TiledTensor::bytes(mem, l.tiles, H, element_);
        l.signal_bytes = l.stream_bytes;
        l.input_bytes = l.separate_input ? TiledTensor::bytes(mem, l.tiles, E, element_) : 0;
        l.output_bytes = full ? 0 : mem.dedicated_bytes(uint64_t(batch) * H * eb);
        const Scratch s = Scratch::of(c, l.tile_rows, l.halo);
        scratch_bytes = [&, s](bool spectra_cached) {
            return mem.dedicated_bytes(
                arena_layout(s, eb, workspace, spectra_cached ? 0 : spectrum, alignment_of(caps)).total());
        };
        gates = TiledTensor::bytes(mem, l.tiles, (N + 1) * H, element_);
        l.scratch_bytes = scratch_bytes(false);
        const bool fits = l.total() <= available && l.scratch_bytes <= arena_limit;
        if (fits) break;
        if (max_rows <= 2 * l.halo || l.tile_rows < max_rows / 2 + 1) {
            // Shorter tiles would not help (or cannot be made): say what the leanest plan needs.
            if (l.scratch_bytes > arena_limit)
                throw Error(ErrorCode::DeviceLimit, "the scratch of one tile (" + mib(l.scratch_bytes) +
                                                        ") exceeds the device's maximum allocation size (" +
                                                        mib(arena_limit) + ")");
            throw Error(ErrorCode::OutOfMemory,
                        "a forward of B = " + std::to_string(batch) + ", L = " + std::to_string(length) +
                            " needs at least " + mib(l.total()) + " of device memory beyond the weights; " +
                            mib(available) + " of the budget is left (ContextOptions::memory_budget_bytes, --memory-budget)");
        }
    }
    if (lean_) return l;
    if (l.total() + gates <= available) {
        l.store_gates = true;
        l.gates_bytes = gates;
    }
    if (filter_count(c) > 0 && cached_spectra <= spectrum_cache_limit_ &&
        l.total() - l.scratch_bytes + scratch_bytes(true) + cached_spectra <= available) {
        l.cache_spectra = true;
        l.scratch_bytes = scratch_bytes(true);
        l.spectra_bytes = cached_spectra;
    }
    return l;
}

uint64_t StripedHyenaGpu::resident_bytes() const {
    const gpu::MemoryStats st = ctx_.memory.stats();
    return st.reserved[int(gpu::Lifetime::Weights)] + st.reserved[int(gpu::Lifetime::Staging)];
}

MemoryPlan StripedHyenaGpu::memory_plan(uint32_t batch, uint32_t length, bool full) const {
    validate_shape(batch, length);
    // Staging for transfers was reserved by the weights' upload (a host-visible device needs none).
    const uint64_t resident = resident_bytes();
    const uint64_t budget = ctx_.memory.budget();
    const ForwardLayout l = layout(batch, length, full, budget > resident ? budget - resident : 0);
    MemoryPlan plan;
    plan.total_bytes = std::max(load_peak_, resident + l.total());
    plan.resident_bytes = resident;
    plan.budget_bytes = budget;
    plan.tiles = uint32_t(l.tiles.size());
    plan.tile_rows = l.tile_rows;
    plan.fft_channel_group = l.group_channels;
    plan.gates_kept = l.store_gates;
    plan.spectra_cached = l.cache_spectra || l.group_channels == 0;
    if (!filters_.empty())
        plan.long_conv_bytes = filters_.size() * fft::LongConv::traffic_bytes_for(batch, length, config_.hidden_size,
                                                                                  config_.taps(),
                                                                                  ops::element_bytes(element_), true);
    return plan;
}

uint64_t StripedHyenaGpu::device_bytes(uint32_t batch, uint32_t length, bool full) const {
    return memory_plan(batch, length, full).total_bytes;
}

std::shared_ptr<PreparedForward> StripedHyenaGpu::prepare(uint32_t batch, uint32_t length, bool full) {
    validate_shape(batch, length);
    const Shape key{batch, length, full};
    if (auto it = forwards_.find(key); it != forwards_.end()) {
        it->second->last_used = next_use_stamp();
        return it->second;
    }
    // Plans of other shapes give their memory back when this one needs it, oldest first.
    auto available = [&] {
        const gpu::MemoryStats st = ctx_.memory.stats();
        uint64_t total = 0;
        for (auto r : st.reserved) total += r;
        const uint64_t budget = ctx_.memory.budget();
        return budget > total ? budget - total : 0;
    };
    ForwardLayout l;
    for (;;) {
        try {
            l = layout(batch, length, full, available());
            if (forwards_.size() < kMaxCachedShapes) break;
        } catch (const Error& e) {
            if (e.code() != ErrorCode::OutOfMemory || forwards_.empty()) throw;
        }
        evict_least_recent(forwards_);
    }

    const StripedHyenaConfig& c = config_;
    const uint32_t H = c.hidden_size, E = c.embed_dim, N = c.order, K = c.conv_kernel_size, Ls = c.taps();
    const ElementType el = element_;
    const uint32_t eb = ops::element_bytes(el);
    auto fw = std::make_shared<Forward>();
    fw->layout = std::move(l);
    ForwardLayout& lay = fw->layout;
    fw->batch = batch;
    fw->length = length;
    fw->full = full;
    const auto& tiles = lay.tiles;
    fw->x = TiledTensor(ctx_, tiles, H, el);
    fw->s = TiledTensor(ctx_, tiles, H, el);
    if (lay.store_gates) fw->p = TiledTensor(ctx_, tiles, (N + 1) * H, el);
    if (lay.separate_input) fw->input = TiledTensor(ctx_, tiles, E, el);
    if (!full) fw->output = ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, uint64_t(batch) * H * eb);

    const Scratch sc = Scratch::of(c, lay.tile_rows, lay.halo);
    uint64_t ws_bytes = 0, spec_bytes = 0;
    if (!filters_.empty()) {
        ws_bytes = fft::LongConv::workspace_bytes_for(batch, length, Ls, lay.group_channels);
        spec_bytes = fft::LongConv::spectrum_bytes_for(length, Ls, lay.group_channels);
    }
    const ArenaLayout at = arena_layout(sc, eb, ws_bytes, lay.cache_spectra ? 0 : spec_bytes, alignment_of(ctx_.device->caps()));
    fw->arena_at = at;
    fw->arena = ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, at.total());
    const gpu::BufferSlice arena = fw->arena.slice();
    auto scratch = [&](uint64_t offset, uint32_t rows, uint32_t cols) {
        // Each buffer binds only its own range, however large the arena.
        return View{arena.sub(offset, uint64_t(rows) * cols * eb), rows, cols, 0, cols, 1, el};
    };

    if (!filters_.empty()) {
        fw->conv = std::make_unique<fft::LongConv>(ctx_, batch, length, H, Ls, lay.group_channels, el,
                                                   arena.sub(at.workspace, ws_bytes));
        if (lay.cache_spectra) {
            for (const TiledTensor& h : filters_)
                for (uint32_t g = 0; g < fw->conv->group_count(); ++g) {
                    fw->spectra.push_back(ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, spec_bytes));
                    gpu::Recorder spectra(*ctx_.device, ctx_.pipelines);
                    fw->conv->record_filter_spectrum(spectra, h.view(), g, fw->spectra.back().slice());
                    spectra.finish().submit();
                }
        }
    }

    View bias_storage;
    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    auto dense = [&](const View& out, const View& in, const std::string& name, uint32_t in_dim, uint32_t out_dim,
                     ops::DenseEpilogue epilogue = ops::DenseEpilogue::Store) {
        ops::dense(rec, out, in, weight(name + ".kernel", in_dim, out_dim), WeightLayout::InOut,
                   bias(name + ".bias", bias_storage), ops::DenseKernel::Auto, epilogue);
    };
    auto layer_norm = [&](const View& out, const View& in, const std::string& name) {
        ops::layer_norm(rec, out, in, weight(name + ".gamma", 1, H), weight(name + ".beta", 1, H));
    };
    const TiledView& X = fw->x.view();
    const TiledView& S = fw->s.view();
    // Layer norm of tile i's stream rows, preceded by `halo` rows of the tile before it in the same sequence
    // (the short convolutions read them). Returns the [halo + rows, H] result in scratch a.
    auto norm_with_halo = [&](size_t i, uint32_t halo, const std::string& name) {
        const uint32_t rows = tiles[i].rows();
        const View a = scratch(at.a, halo + rows, H);
        if (halo) {
            const View prev = X.views[i - 1];
            layer_norm(a.rows_range(0, halo), prev.rows_range(prev.rows - halo, halo), name);
        }
        layer_norm(a.rows_range(halo, rows), X.views[i], name);
        return a;
    };
    auto halo_of = [&](size_t i, uint32_t taps) { return std::min(taps - 1, tiles[i].t0); };
    // Scratch d = short_conv(norm(x)) for tile i: the input of a Hyena block's projection.
    auto hyena_conv_input = [&](size_t i, const std::string& p) {
        const uint32_t halo = halo_of(i, 3), rows = tiles[i].rows();
        const View a = norm_with_halo(i, halo, p + "_norm");
        const View t = scratch(at.d, rows, H);
        View conv_bias;
        ops::depthwise_causal_conv(rec, t, a.rows_range(halo, rows), tiles[i].b_count, length,
                                   weight(p + "_short_dw_conv.kernel", 3, H), 3, bias(p + "_short_dw_conv.bias", conv_bias),
                                   tiles[i].t0);
        return t;
    };
    // x += down(silu(gate(a)) * up(a)), a = norm(x); the gate and the residual are the dense kernels' epilogues.
    // x is a tile's stream or its last steps.
    auto ffn = [&](const View& x, const std::string& p) {
        const View a = scratch(at.a, x.rows, H), u = scratch(at.c, x.rows, 4 * H);
        layer_norm(a, x, p + "_ffn_norm");
        dense(u, a, p + "_ffn_up", H, 4 * H);
        dense(u, a, p + "_ffn_gate", H, 4 * H, ops::DenseEpilogue::SiluGate);
        dense(x, u, p + "_ffn_down", 4 * H, H, ops::DenseEpilogue::Accumulate);
    };
    // Only the last step of each sequence leaves the model, so the final block's per-step work is done for
    // those rows alone: the tiles that end their sequences and, in them, the last step of each.
    const bool last_steps_only = !full;
    auto ends_sequences = [&](size_t i) { return tiles[i].t0 + tiles[i].t_count == length; };
    auto last_step_rows = [&](const View& tile_view, size_t i) {  // [b_count, cols], one row per sequence
        const SequenceTile& tile = tiles[i];
        View v = tile_view.rows_range(tile.t_count - 1, 1);
        v.rows = tile.b_count;
        v.row_stride = tile_view.row_stride * tile.t_count;
        return v;
    };
    // Copies the last `steps` stream rows of each sequence that tile i ends into dst [b_count * steps, H],
    // reaching back into earlier tiles where a split sequence's last tile is shorter than that.
    auto copy_last_steps = [&](size_t i, uint32_t steps, const View& dst) {
        const SequenceTile& tile = tiles[i];
        if (tile.t_count >= steps) {
            const View& x = X.views[i];
            const View src{x.slice, tile.b_count, steps * H, (tile.t_count - steps) * H, tile.t_count * H, 1, el};
            ops::copy(rec, View{dst.slice, tile.b_count, steps * H, dst.offset, steps * H, 1, el}, src);
            return;
        }
        uint32_t left = steps;  // a split sequence: one per tile
        for (size_t j = i + 1; j-- > 0 && left > 0;) {
            const uint32_t take = std::min(left, tiles[j].t_count);
            left -= take;
            ops::copy(rec, dst.rows_range(left, take), X.views[j].rows_range(tiles[j].t_count - take, take));
            if (tiles[j].t0 == 0) break;
        }
        if (left != 0) throw Error(ErrorCode::Internal, "the last steps of a sequence span more tiles than it has");
    };
    auto long_conv = [&](size_t filter, const TiledView& out, const TiledView& in, const TiledView* gate) {
        for (uint32_t g = 0; g < fw->conv->group_count(); ++g) {
            gpu::BufferSlice spectrum;
            if (lay.cache_spectra) {
                spectrum = fw->spectra[filter * fw->conv->group_count() + g].slice();
            } else {
                spectrum = arena.sub(at.spectrum, spec_bytes);
                fw->conv->record_filter_spectrum(rec, filters_[filter].view(), g, spectrum);
            }
            fw->conv->record(rec, out, in, gate, g, spectrum);
        }
    };

    // The input enters the stream: straight in, or through the input projection (from S or its own buffers).
    TiledView input_view;
    if (c.has_input_projection()) {
        input_view.tiles = &tiles;
        for (size_t i = 0; i < tiles.size(); ++i)
            input_view.views.push_back(lay.separate_input ? fw->input.tile_view(i)
                                                          : View{S.views[i].slice, tiles[i].rows(), E, 0, E, 1, el});
        for (size_t i = 0; i < tiles.size(); ++i) dense(X.views[i], input_view.views[i], "input_projection", E, H);
    }

    size_t filter = 0;
    for (uint32_t block = 1; block <= c.num_layers; ++block) {
        const std::string p = block_prefix(block);
        if (is_hyena_block(block)) {
            // Projections: all N + 1 where the gates are kept, else the signal alone (gates come later).
            for (size_t i = 0; i < tiles.size(); ++i) {
                const View t = hyena_conv_input(i, p);
                if (lay.store_gates)
                    dense(fw->p.tile_view(i), t, p + "_proj", H, (N + 1) * H);
                else
                    dense(S.views[i], t, p + "_proj#0", H, H);
            }
            for (uint32_t k = 0; k < N; ++k) {
                if (lay.store_gates) {
                    const TiledView P = fw->p.view();
                    const TiledView gate = P.columns((k + 1) * H, H);
                    long_conv(filter + k, S, k == 0 ? P.columns(0, H) : S, &gate);
                    continue;
                }
                long_conv(filter + k, S, S, nullptr);
                if (k + 1 == N) break;
                // Recompute gate k + 1 from the stream, tile by tile, and apply it.
                for (size_t i = 0; i < tiles.size(); ++i) {
                    const View t = hyena_conv_input(i, p);
                    const View g = scratch(at.e, tiles[i].rows(), H);
                    dense(g, t, p + "_proj#" + std::to_string(k + 1), H, H);
                    ops::mul(rec, S.views[i], S.views[i], g);
                }
            }
            filter += N;
            // The last gate (recomputed where not kept), out_proj, the residual and the FFN, tile by tile from
            // the end: a tile's halo rows belong to the tile before it, whose stream must not have moved yet.
            const bool last_only = last_steps_only && block == c.num_layers;
            for (size_t i = tiles.size(); i-- > 0;) {
                const uint32_t rows = tiles[i].rows();
                if (last_only && !ends_sequences(i)) continue;
                if (!lay.store_gates) {
                    const View t = hyena_conv_input(i, p);
                    const View g = scratch(at.e, rows, H);
                    dense(g, t, p + "_proj#" + std::to_string(N), H, H);
                    ops::mul(rec, S.views[i], S.views[i], g);
                }
                const View x = last_only ? last_step_rows(X.views[i], i) : X.views[i];
                dense(x, last_only ? last_step_rows(S.views[i], i) : S.views[i], p + "_out_proj", H, H,
                      ops::DenseEpilogue::Accumulate);
                ffn(x, p);
            }
        } else if (last_steps_only && block == c.num_layers) {
            // The last step's short convolution reads the K steps before it: the block runs on those alone,
            // as b_count sequences of `steps` rows, and only their last rows go on to the gate and the FFN.
            const uint32_t steps = std::min(K, length);
            for (size_t i = 0; i < tiles.size(); ++i) {
                if (!ends_sequences(i)) continue;
                const uint32_t b = tiles[i].b_count, rows = b * steps;
                const View a = scratch(at.a, rows, H), proj = scratch(at.b, rows, 2 * H), t = scratch(at.d, b, H);
                copy_last_steps(i, steps, a);
                layer_norm(a, a, p + "_norm");
                dense(proj, a, p + "_proj", H, 2 * H);
                View conv_bias;
                ops::depthwise_causal_conv(rec, a, proj.columns(0, H), b, steps, weight(p + "_dw_conv_dw.kernel", K, H),
                                           K, bias(p + "_dw_conv_dw.bias", conv_bias), 0);
                auto last_of_each = [&](const View& v) {
                    View r = v.rows_range(steps - 1, 1);
                    r.rows = b;
                    r.row_stride = v.row_stride * steps;
                    return r;
                };
                layer_norm(t, last_of_each(a), p + "_dw_conv_norm");
                ops::silu(rec, t, t);
                const View gated = last_of_each(proj).columns(H, H);
                dense(gated, t, p + "_dw_conv_pw", H, H, ops::DenseEpilogue::SigmoidGated);
                const View x = last_step_rows(X.views[i], i);
                dense(x, gated, p + "_out_proj", H, H, ops::DenseEpilogue::Accumulate);
                ffn(x, p);
            }
        } else {
            for (size_t i = tiles.size(); i-- > 0;) {
                const uint32_t halo = halo_of(i, K), rows = tiles[i].rows();
                const View a = norm_with_halo(i, halo, p + "_norm");
                const View proj = scratch(at.b, halo + rows, 2 * H);
                dense(proj, a, p + "_proj", H, 2 * H);
                const View y = scratch(at.e, rows, H), t = scratch(at.d, rows, H);
                View conv_bias;
                ops::depthwise_causal_conv(rec, y, proj.rows_range(halo, rows).columns(0, H), tiles[i].b_count, length,
                                           weight(p + "_dw_conv_dw.kernel", K, H), K,
                                           bias(p + "_dw_conv_dw.bias", conv_bias), tiles[i].t0);
                layer_norm(t, y, p + "_dw_conv_norm");
                ops::silu(rec, t, t);
                // pw(t) * sigmoid(gate) lands on the gate's own columns, which nothing reads afterwards.
                const View gated = proj.rows_range(halo, rows).columns(H, H);
                dense(gated, t, p + "_dw_conv_pw", H, H, ops::DenseEpilogue::SigmoidGated);
                dense(X.views[i], gated, p + "_out_proj", H, H, ops::DenseEpilogue::Accumulate);
                ffn(X.views[i], p);
            }
        }
    }
    if (full) {
        for (size_t i = 0; i < tiles.size(); ++i) layer_norm(S.views[i], X.views[i], "final_norm");
    } else {
        // Only the last step of each sequence leaves the model.
        for (size_t i = 0; i < tiles.size(); ++i) {
            const SequenceTile& tile = tiles[i];
            if (tile.t0 + tile.t_count != length) continue;
            const View& xv = X.views[i];
            const View last{xv.slice, tile.b_count, H, (tile.t_count - 1) * H, tile.t_count * H, 1, el};
            layer_norm(ops::matrix(fw->output, batch, H, el).rows_range(tile.b_first, tile.b_count), last, "final_norm");
        }
    }
    fw->plan = rec.finish();
    fw->element = el;
    // Where the host's values go in and come out (SPEC.md: the input feeds the stream directly where there
    // is no input projection).
    const TiledTensor& in = !c.has_input_projection() ? fw->x : lay.separate_input ? fw->input : fw->s;
    fw->inputs = in.pieces(E);
    if (full)
        fw->outputs = fw->s.pieces(H);
    else
        fw->outputs = {IoPiece{&fw->output, 0, uint64_t(batch) * H}};
    fw->last_used = next_use_stamp();
    forwards_.emplace(key, fw);
    return fw;
}

void StripedHyenaGpu::validate_shape(uint32_t batch, uint32_t length) const {
    check_shape(*this, batch, length);
}

}  // namespace hyenavk::model
