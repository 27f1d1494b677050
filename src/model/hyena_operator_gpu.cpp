#include "model/hyena_operator_gpu.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/sizes.hpp"
#include "fft/long_conv.hpp"
#include "model/config.hpp"
#include "model/element_transfer.hpp"
#include "model/hyena_operator_tensors.hpp"
#include "ops/conv.hpp"
#include "ops/dense.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"
#include "ops/tiles.hpp"

namespace hyenavk::model {
namespace {

using ops::ElementType;
using ops::TiledView;
using ops::View;
using ops::WeightLayout;
using detail::mib;


std::string implicit(uint32_t layer, const char* what) {
    return "filter_fn.implicit_filter." + std::to_string(layer) + "." + what;
}

std::string part(const char* name, uint32_t k) { return std::string(name) + "#" + std::to_string(k); }

// The implicit filter's MLP (positions, layers, frequencies, modulation) runs in fp32 whatever the storage of
// the rest; filter_fn.bias is the skip term of the forward and is stored like the activations.
bool filter_mlp_weight(const std::string& name) { return name.rfind("filter_fn.", 0) == 0 && name != "filter_fn.bias"; }

}  // namespace

struct HyenaOperatorGpu::Forward : PreparedForward {
    OperatorLayout layout;
    gpu::Allocation workspace;             // the FFT rows, shared by every group and chunk
    std::vector<gpu::Allocation> spectra;  // per (chunk o, channel group), o-major
    std::unique_ptr<fft::LongConv> conv;
    // [B * L, D] each: the input (later the skip term), the in_proj chunk before its short conv (later the long
    // convolution's result and the output), and the N + 1 short-convolved chunks (the last one becomes v).
    gpu::Allocation input, t;
    std::vector<gpu::Allocation> uc;
};

HyenaOperatorGpu::HyenaOperatorGpu(detail::ContextImpl& ctx, const HyenaOperatorConfig& config,
                                   const HostWeights& weights, Precision precision)
    : ctx_(ctx), config_(config), element_(element_of(precision)) {
    config_.validate();
    if (element_ == ElementType::F16 && !ctx.device->caps().storage_buffer_16bit)
        throw Error(ErrorCode::Unsupported, "fp16 precision needs 16-bit storage buffers (storageBuffer16BitAccess), "
                                            "which " + ctx.device->info().name + " lacks");
    const uint32_t D = config_.d_model, N = config_.order;
    for (const auto& [name, tensor] : weights.all()) {
        const std::span<const float> data = tensor.data;
        if (name == "in_proj.weight" || name == "in_proj.bias") {
            // One [D, D] block (PyTorch's [out, in]) and [D] bias per chunk, so that no projection binds more
            // than D rows of the weight and each chunk's output is a tensor of its own.
            const bool w = name == "in_proj.weight";
            for (uint32_t k = 0; k <= N; ++k)
                upload_weight(part(name.c_str(), k), data.subspan(uint64_t(k) * D * (w ? D : 1), uint64_t(w ? D : 1) * D),
                              element_);
        } else if (name == "short_filter.weight") {
            // PyTorch's Conv1d weight [C, 1, 3] becomes the depthwise kernel's [3, D] per chunk (tap 2 = current step).
            for (uint32_t k = 0; k <= N; ++k) {
                std::vector<float> w(3 * uint64_t(D));
                for (uint32_t c = 0; c < D; ++c)
                    for (uint32_t j = 0; j < 3; ++j) w[uint64_t(j) * D + c] = data[(uint64_t(k) * D + c) * 3 + j];
                upload_weight(part("short_filter.weight", k), w, element_);
            }
        } else if (name == "short_filter.bias") {
            for (uint32_t k = 0; k <= N; ++k)
                upload_weight(part("short_filter.bias", k), data.subspan(uint64_t(k) * D, D), element_);
        } else {
            upload_weight(name, data, filter_mlp_weight(name) ? ElementType::F32 : element_);
        }
    }
}

HyenaOperatorGpu::~HyenaOperatorGpu() = default;

ResidentNeed HyenaOperatorGpu::resident_need(const detail::ContextImpl& ctx, const HyenaOperatorConfig& c,
                                             Precision precision) {
    // Tensors the constructor splits into chunks reserve at least what the whole tensor would.
    ResidentNeed need;
    for (const TensorSpec& t : hyena_operator_tensors(c)) {
        const ElementType e = filter_mlp_weight(t.name) ? ElementType::F32 : element_of(precision);
        need.weights += ctx.memory.dedicated_bytes(t.elements() * ops::element_bytes(e));
        need.host_bytes += t.elements() * sizeof(float);
    }
    return need;
}

nlohmann::json HyenaOperatorGpu::config_json() const { return to_json(config_); }

void HyenaOperatorGpu::upload_weight(const std::string& name, std::span<const float> data, ElementType element) {
    auto alloc = ctx_.memory.allocate(gpu::Lifetime::Weights, data.size() * ops::element_bytes(element));
    upload_elements(ctx_.transfer, alloc, data, element);
    weights_.insert_or_assign(name, std::pair{std::move(alloc), element});
}

View HyenaOperatorGpu::weight(const std::string& name, uint32_t rows, uint32_t cols) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(ErrorCode::Internal, "weight '" + name + "' was not uploaded");
    return ops::matrix(it->second.first, rows, cols, it->second.second);
}

View HyenaOperatorGpu::filter_chunk(const View& whole, uint32_t rows, uint32_t row_stride, uint32_t o) const {
    const uint32_t D = config_.d_model, chunks = config_.order - 1;
    if (config_.filter_layout == FilterLayout::Blocked)
        return View{whole.slice, rows, D, whole.offset + o * D, row_stride, 1, whole.element};
    return View{whole.slice, rows, D, whole.offset + o, row_stride, chunks, whole.element};
}

void HyenaOperatorGpu::validate_shape(uint32_t batch, uint32_t length) const {
    check_shape(*this, batch, length);
    if (length > config_.l_max)
        throw Error(ErrorCode::InvalidArgument, "L = " + std::to_string(length) + " is longer than the model's l_max = " +
                                                    std::to_string(config_.l_max) +
                                                    " (its positional tensors have l_max rows)");
}

OperatorLayout HyenaOperatorGpu::layout_for(uint32_t batch, uint32_t length, uint32_t group) const {
    const gpu::MemoryPools& mem = ctx_.memory;
    const uint64_t D = config_.d_model, N = config_.order, W = config_.filter_order, F = config_.filter_channels();
    const uint64_t L = length, R = uint64_t(batch) * length;
    OperatorLayout l;
    l.group_channels = group;
    l.groups = uint32_t(D / group);
    l.workspace_bytes = mem.dedicated_bytes(fft::LongConv::workspace_bytes_for(batch, length, length, group));
    l.spectra_bytes = (N - 1) * l.groups * mem.dedicated_bytes(fft::LongConv::spectrum_bytes_for(length, length, group));
    l.filter_bytes = mem.dedicated_bytes(L * F * sizeof(float)) + 2 * mem.dedicated_bytes(L * W * sizeof(float));
    l.activation_bytes = (N + 3) * mem.dedicated_bytes(R * D * ops::element_bytes(element_));
    return l;
}

OperatorLayout HyenaOperatorGpu::layout(uint32_t batch, uint32_t length, uint64_t available) const {
    const DeviceCaps& caps = ctx_.device->caps();
    const uint64_t binding_limit = std::min(caps.max_storage_buffer_range, caps.max_memory_allocation_size);
    const char* limit_name =
        binding_limit == caps.max_storage_buffer_range ? "maxStorageBufferRange" : "maxMemoryAllocationSize";
    const uint32_t D = config_.d_model;
    const uint64_t R = uint64_t(batch) * length, F = config_.filter_channels(), W = config_.filter_order;
    const std::string shape = "B = " + std::to_string(batch) + ", L = " + std::to_string(length);
    // Position-wise work sees whole tensors: each must fit one binding.
    auto check = [&](const std::string& what, uint64_t bytes) {
        if (bytes > binding_limit)
            throw Error(ErrorCode::DeviceLimit, "hyena_operator: a forward of " + shape + " needs " + what + " of " +
                                                    mib(bytes) + ", beyond the device's " + limit_name + " (" +
                                                    mib(binding_limit) + "); use a shorter sequence or a smaller batch");
    };
    check("[B * L, D] = [" + std::to_string(R) + ", " + std::to_string(D) + "] tensors",
          detail::saturating_product({R, D, ops::element_bytes(element_)}));
    check("an implicit filter [L, D(N-1)] = [" + std::to_string(length) + ", " + std::to_string(F) + "]",
          uint64_t(length) * F * sizeof(float));
    check("filter MLP activations [L, filter_order] = [" + std::to_string(length) + ", " + std::to_string(W) + "]",
          uint64_t(length) * W * sizeof(float));
    // The FFT sees whole sequences for a group of channels at a time, its workspace within one binding.
    const uint64_t most = std::min(binding_limit, fft::LongConv::kMaxWorkspaceBytes);
    const uint32_t widest = fft::LongConv::fit_group_channels(batch, length, D, length, most);
    if (widest == 0)
        throw Error(ErrorCode::DeviceLimit,
                    "hyena_operator: a forward of " + shape + " needs an FFT workspace of " +
                        mib(fft::LongConv::workspace_bytes_for(batch, length, length, 1)) +
                        " for even one channel, beyond the device's " + limit_name + " (" + mib(binding_limit) + ")");
    // The widest group whose plan fits what is available; narrower groups shrink only the workspace.
    uint64_t least = ~0ull;
    for (uint32_t g = widest; g >= 1; --g) {
        if (D % g != 0) continue;
        const OperatorLayout l = layout_for(batch, length, g);
        if (l.total() <= available) return l;
        least = std::min(least, l.total());
    }
    throw Error(ErrorCode::OutOfMemory,
                "hyena_operator: a forward of " + shape + " needs at least " + mib(least) +
                    " of device memory beyond the weights; " + mib(available) + " of the budget of " +
                    mib(ctx_.memory.budget()) + " is left (ContextOptions::memory_budget_bytes, --memory-budget)");
}

uint64_t HyenaOperatorGpu::resident_bytes() const {
    // The weights, and the staging buffer their upload reserved (none on a host-visible device).
    const gpu::MemoryStats st = ctx_.memory.stats();
    return st.reserved[int(gpu::Lifetime::Weights)] + st.reserved[int(gpu::Lifetime::Staging)];
}

MemoryPlan HyenaOperatorGpu::memory_plan(uint32_t batch, uint32_t length, bool) const {
    validate_shape(batch, length);
    const uint64_t resident = resident_bytes(), budget = ctx_.memory.budget();
    const OperatorLayout l = layout(batch, length, budget > resident ? budget - resident : 0);
    MemoryPlan plan;
    plan.total_bytes = resident + l.total();
    plan.resident_bytes = resident;
    plan.budget_bytes = budget;
    plan.tiles = 1;
    plan.tile_rows = uint32_t(uint64_t(batch) * length);  // layout() holds [B * L, D] within one binding
    plan.fft_channel_group = l.group_channels;
    plan.gates_kept = true;
    plan.spectra_cached = true;
    // order - 1 convolutions over v, ungated (the gates are separate element-wise passes).
    plan.long_conv_bytes = uint64_t(config_.order - 1) *
                           fft::LongConv::traffic_bytes_for(batch, length, config_.d_model, length,
                                                            ops::element_bytes(element_), false);
    return plan;
}

uint64_t HyenaOperatorGpu::device_bytes(uint32_t batch, uint32_t length, bool full) const {
    return memory_plan(batch, length, full).total_bytes;
}

void HyenaOperatorGpu::compute_spectra(Forward& fw, uint32_t length) {
    const HyenaOperatorConfig& c = config_;
    const uint32_t N = c.order, W = c.filter_order, E = c.emb_dim, F = c.filter_channels(), L = length;
    auto scratch = [this](uint64_t floats) {
        return ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, floats * sizeof(float));
    };
    gpu::Allocation filter_buf = scratch(uint64_t(L) * F), h0 = scratch(uint64_t(L) * W), h1 = scratch(uint64_t(L) * W);
    // The filter stays fp32 (the MLP's output, unrounded) and goes through an fp32 LongConv of one sequence
    // whose FFT rows are the first rows of the forward's workspace: its spectra have the forward's layout
    // (one row per channel of the group), and an fp16 forward's spectra lose nothing to 16-bit storage.
    const uint32_t group = fw.layout.group_channels;
    fft::LongConv filter_conv(ctx_, 1, L, c.d_model, L, group, ElementType::F32, fw.workspace.slice());

    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    const View z = weight("filter_fn.pos_emb.z", c.l_max, E).rows_range(0, L);
    const View t = weight("filter_fn.pos_emb.t", c.l_max, 1).rows_range(0, L);
    View h = ops::matrix(h0, L, W), other = ops::matrix(h1, L, W);
    for (uint32_t j = 0; j <= c.num_inner_mlps; ++j) {
        const uint32_t in_dim = j == 0 ? E : W;
        const View in = j == 0 ? z : other;
        View bias = weight(implicit(2 * j, "bias"), 1, W);
        ops::dense(rec, h, in, weight(implicit(2 * j, "weight"), W, in_dim), WeightLayout::OutIn, &bias);
        View freq = weight(implicit(2 * j + 1, "freq"), 1, W);
        freq.rows = L;
        freq.row_stride = 0;
        ops::sin_freq(rec, h, h, freq);
        std::swap(h, other);
    }
    const View filter = ops::matrix(filter_buf, L, F);
    ops::dense(rec, filter, other, weight(implicit(2 * c.num_inner_mlps + 2, "weight"), F, W), WeightLayout::OutIn);
    if (c.modulate) {
        const View t_cols{t.slice, L, F, t.offset, t.row_stride, 0, ElementType::F32};
        View deltas = weight("filter_fn.modulation.deltas", 1, F);
        deltas.rows = L;
        deltas.row_stride = 0;
        ops::exp_decay(rec, filter, filter, t_cols, deltas, static_cast<float>(c.shift));
    }
    if (c.normalized) ops::l1_normalize_rows(rec, filter, filter);
    const std::vector<ops::SequenceTile> steps{{0, 1, 0, L, 0}};
    for (uint32_t o = 0; o + 1 < N; ++o) {
        const TiledView chunk{&steps, {filter_chunk(filter, L, F, o)}};
        for (uint32_t g = 0; g < fw.layout.groups; ++g)
            filter_conv.record_filter_spectrum(rec, chunk, g, fw.spectra[size_t(o) * fw.layout.groups + g].slice());
    }
    rec.finish().submit();
}

std::shared_ptr<PreparedForward> HyenaOperatorGpu::prepare(uint32_t batch, uint32_t length, bool) {
    validate_shape(batch, length);
    const Shape key{batch, length};
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
    OperatorLayout l;
    for (;;) {
        try {
            l = layout(batch, length, available());
            if (forwards_.size() < kMaxCachedShapes) break;
        } catch (const Error& e) {
            if (e.code() != ErrorCode::OutOfMemory || forwards_.empty()) throw;
        }
        evict_least_recent(forwards_);
    }

    const HyenaOperatorConfig& c = config_;
    const uint32_t D = c.d_model, N = c.order, F = c.filter_channels();
    const uint32_t R = uint32_t(uint64_t(batch) * length);  // layout() holds [B * L, D] within one binding
    const ElementType el = element_;
    auto fw = std::make_shared<Forward>();
    fw->layout = l;
    auto dedicated = [this](uint64_t bytes) { return ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, bytes); };

    // First the spectra, through the workspace, while the filter exists; then the activations.
    fw->workspace = dedicated(fft::LongConv::workspace_bytes_for(batch, length, length, l.group_channels));
    const uint64_t spectrum_bytes = fft::LongConv::spectrum_bytes_for(length, length, l.group_channels);
    for (uint32_t i = 0; i < (N - 1) * l.groups; ++i) fw->spectra.push_back(dedicated(spectrum_bytes));
    compute_spectra(*fw, length);
    fw->conv = std::make_unique<fft::LongConv>(ctx_, batch, length, D, length, l.group_channels, el,
                                               fw->workspace.slice());

    const uint64_t tensor_bytes = uint64_t(R) * D * ops::element_bytes(el);
    fw->input = dedicated(tensor_bytes);
    fw->t = dedicated(tensor_bytes);
    for (uint32_t k = 0; k <= N; ++k) fw->uc.push_back(dedicated(tensor_bytes));

    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    const View input = ops::matrix(fw->input, R, D, el), t = ops::matrix(fw->t, R, D, el);
    std::vector<View> uc;
    for (const gpu::Allocation& a : fw->uc) uc.push_back(ops::matrix(a, R, D, el));
    // Chunk k of in_proj, then its short convolution: x_0 .. x_{N-1}, then v last.
    for (uint32_t k = 0; k <= N; ++k) {
        const View in_bias = weight(part("in_proj.bias", k), 1, D), conv_bias = weight(part("short_filter.bias", k), 1, D);
        ops::dense(rec, t, input, weight(part("in_proj.weight", k), D, D), WeightLayout::OutIn, &in_bias);
        ops::depthwise_causal_conv(rec, uc[k], t, batch, length, weight(part("short_filter.weight", k), 3, D), 3,
                                   &conv_bias);
    }
    // Gates are taken from the end. v lives in the value chunk's buffer, the long convolution's result in t and
    // the skip term in the input's buffer (the input is uploaded again before every run).
    const std::vector<ops::SequenceTile> whole{{0, batch, 0, length, 0}};
    const View v = uc[N], skip = input, skip_bias = weight("filter_fn.bias", 1, F);
    const TiledView tv{&whole, {t}}, vv{&whole, {v}};
    for (uint32_t o = 0; o + 1 < N; ++o) {
        ops::mul(rec, v, v, uc[N - 1 - o]);
        for (uint32_t g = 0; g < l.groups; ++g)
            fw->conv->record(rec, tv, vv, nullptr, g, fw->spectra[size_t(o) * l.groups + g].slice());
        ops::mul(rec, skip, v, filter_chunk(skip_bias, R, 0, o));  // the skip term, per channel
        ops::add(rec, v, t, skip);
    }
    ops::mul(rec, v, v, uc[0]);
    const View out_bias = weight("out_proj.bias", 1, D);
    ops::dense(rec, t, v, weight("out_proj.weight", D, D), WeightLayout::OutIn, &out_bias);
    fw->plan = rec.finish();
    fw->batch = batch;
    fw->length = length;
    fw->full = true;
    fw->element = el;
    fw->inputs = {IoPiece{&fw->input, 0, uint64_t(R) * D}};
    fw->outputs = {IoPiece{&fw->t, 0, uint64_t(R) * D}};
    fw->last_used = next_use_stamp();
    forwards_.emplace(key, fw);
    return fw;
}

}  // namespace hyenavk::model
