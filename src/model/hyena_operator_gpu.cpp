#include "model/hyena_operator_gpu.hpp"

#include <string>

#include "fft/long_conv.hpp"
#include "model/config.hpp"
#include "ops/conv.hpp"
#include "ops/dense.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"

namespace hyenavk::model {
namespace {

using ops::View;
using ops::WeightLayout;

std::string implicit(uint32_t layer, const char* what) {
    return "filter_fn.implicit_filter." + std::to_string(layer) + "." + what;
}

}  // namespace

struct HyenaOperatorGpu::Forward {
    gpu::Allocation input, u, uc, v, conv, skip, output;
    gpu::Allocation filter, h0, h1;  // the implicit filter at this length, [L, D(N-1)], and MLP scratch
    std::unique_ptr<fft::LongConv> long_conv;
    std::vector<gpu::Allocation> spectra;  // per chunk o
    gpu::Plan plan;
};

HyenaOperatorGpu::HyenaOperatorGpu(detail::ContextImpl& ctx, const HyenaOperatorConfig& config,
                                   const HostWeights& weights)
    : ctx_(ctx), config_(config) {
    config_.validate();
    const uint32_t C3 = (config_.order + 1) * config_.d_model;
    for (const auto& [name, tensor] : weights.all()) {
        std::vector<float> data = tensor.data;
        if (name == "short_filter.weight") {
            // PyTorch's Conv1d weight [C, 1, 3] becomes the depthwise kernel's [3, C] (tap 2 = current step).
            for (uint32_t c = 0; c < C3; ++c)
                for (uint32_t j = 0; j < 3; ++j) data[size_t(j) * C3 + c] = tensor.data[size_t(c) * 3 + j];
        }
        auto alloc = ctx.memory.allocate(gpu::Lifetime::Weights, data.size() * sizeof(float));
        ctx.transfer.upload(alloc, 0, data.data(), data.size() * sizeof(float));
        weight_bytes_ += alloc.size();
        weights_.emplace(name, std::move(alloc));
    }
}

HyenaOperatorGpu::~HyenaOperatorGpu() = default;

nlohmann::json HyenaOperatorGpu::config_json() const { return to_json(config_); }

View HyenaOperatorGpu::weight(const std::string& name, uint32_t rows, uint32_t cols) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(ErrorCode::Internal, "weight '" + name + "' was not uploaded");
    return ops::matrix(it->second, rows, cols);
}

View HyenaOperatorGpu::filter_chunk(const gpu::Allocation& buffer, uint32_t rows, uint32_t row_stride, uint32_t o) const {
    const uint32_t D = config_.d_model, chunks = config_.order - 1;
    if (config_.filter_layout == FilterLayout::Blocked) return View{buffer.slice(), rows, D, o * D, row_stride, 1};
    return View{buffer.slice(), rows, D, o, row_stride, chunks};
}

void HyenaOperatorGpu::validate_input(std::span<const float> input, uint32_t batch, uint32_t length) const {
    if (batch == 0 || length == 0)
        throw Error(ErrorCode::InvalidArgument, "batch and length must be >= 1 (got B = " + std::to_string(batch) +
                                                    ", L = " + std::to_string(length) + ")");
    if (length > config_.l_max)
        throw Error(ErrorCode::InvalidArgument, "L = " + std::to_string(length) + " is longer than the model's l_max = " +
                                                    std::to_string(config_.l_max) +
                                                    " (its positional tensors have l_max rows)");
    const uint64_t expected = uint64_t(batch) * length * config_.d_model;
    if (input.size() != expected)
        throw Error(ErrorCode::InvalidArgument, "input has " + std::to_string(input.size()) + " values; [B, L, D] = [" +
                                                    std::to_string(batch) + ", " + std::to_string(length) + ", " +
                                                    std::to_string(config_.d_model) + "] needs " +
                                                    std::to_string(expected));
}

uint64_t HyenaOperatorGpu::device_bytes(uint32_t batch, uint32_t length, bool) const {
    const uint64_t D = config_.d_model, N = config_.order, R = uint64_t(batch) * length, F = config_.filter_channels();
    const uint64_t n = fft::smooth_size(2 * uint64_t(length) - 1), rf = fft::row_floats(n);
    uint64_t floats = R * D * 2                           // input, output
                      + 2 * R * (N + 1) * D               // u, uc
                      + 3 * R * D                         // v, conv, skip
                      + uint64_t(length) * (F + 2 * config_.filter_order)  // filter and MLP scratch
                      + uint64_t(batch) * D * rf          // FFT workspace
                      + (N - 1) * D * rf;                 // spectra
    return weight_bytes_ + floats * sizeof(float);
}

HyenaOperatorGpu::Forward& HyenaOperatorGpu::prepare(uint32_t batch, uint32_t length) {
    const auto key = std::make_pair(batch, length);
    if (auto it = forwards_.find(key); it != forwards_.end()) return *it->second;

    const HyenaOperatorConfig& c = config_;
    const uint32_t D = c.d_model, N = c.order, W = c.filter_order, E = c.emb_dim, F = c.filter_channels();
    const uint32_t R = batch * length, L = length;
    auto fw = std::make_unique<Forward>();
    auto alloc = [this](uint64_t floats) { return ctx_.memory.allocate(gpu::Lifetime::Activations, floats * sizeof(float)); };
    fw->input = alloc(uint64_t(R) * D);
    fw->u = alloc(uint64_t(R) * (N + 1) * D);
    fw->uc = alloc(uint64_t(R) * (N + 1) * D);
    fw->v = alloc(uint64_t(R) * D);
    fw->conv = alloc(uint64_t(R) * D);
    fw->skip = alloc(uint64_t(R) * D);
    fw->output = alloc(uint64_t(R) * D);
    fw->filter = alloc(uint64_t(L) * F);
    fw->h0 = alloc(uint64_t(L) * W);
    fw->h1 = alloc(uint64_t(L) * W);
    fw->long_conv = std::make_unique<fft::LongConv>(ctx_, batch, length, D, length);

    // The implicit filter at this length, then its spectra: once per (batch, length).
    {
        gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
        const View z = weight("filter_fn.pos_emb.z", c.l_max, E).rows_range(0, L);
        const View t = weight("filter_fn.pos_emb.t", c.l_max, 1).rows_range(0, L);
        View h = ops::matrix(fw->h0, L, W), other = ops::matrix(fw->h1, L, W);
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
        const View filter = ops::matrix(fw->filter, L, F);
        ops::dense(rec, filter, other, weight(implicit(2 * c.num_inner_mlps + 2, "weight"), F, W), WeightLayout::OutIn);
        if (c.modulate) {
            const View t_cols{t.slice, L, F, t.offset, t.row_stride, 0};
            View deltas = weight("filter_fn.modulation.deltas", 1, F);
            deltas.rows = L;
            deltas.row_stride = 0;
            ops::exp_decay(rec, filter, filter, t_cols, deltas, static_cast<float>(c.shift));
        }
        if (c.normalized) ops::l1_normalize_rows(rec, filter, filter);
        for (uint32_t o = 0; o + 1 < N; ++o) {
            fw->spectra.push_back(fw->long_conv->make_spectrum());
            fw->long_conv->record_filter_spectrum(rec, filter_chunk(fw->filter, L, F, o), fw->spectra.back());
        }
        rec.finish().submit();
    }

    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    const View input = ops::matrix(fw->input, R, D), u = ops::matrix(fw->u, R, (N + 1) * D),
               uc = ops::matrix(fw->uc, R, (N + 1) * D), v = ops::matrix(fw->v, R, D),
               conv = ops::matrix(fw->conv, R, D), skip = ops::matrix(fw->skip, R, D);
    View in_bias = weight("in_proj.bias", 1, (N + 1) * D), out_bias = weight("out_proj.bias", 1, D),
         short_bias = weight("short_filter.bias", 1, (N + 1) * D);
    ops::dense(rec, u, input, weight("in_proj.weight", (N + 1) * D, D), WeightLayout::OutIn, &in_bias);
    ops::depthwise_causal_conv(rec, uc, u, batch, length, weight("short_filter.weight", 3, (N + 1) * D), 3, &short_bias);
    // Chunks x_0 .. x_{N-1}, then v last; gates are taken from the end.
    const View value = uc.columns(N * D, D);
    for (uint32_t o = 0; o + 1 < N; ++o) {
        ops::mul(rec, v, o == 0 ? value : v, uc.columns((N - 1 - o) * D, D));
        fw->long_conv->record(rec, conv, v, fw->spectra[o]);
        const View bias = filter_chunk(weights_.at("filter_fn.bias"), R, 0, o);  // the skip term, per channel
        ops::mul(rec, skip, v, bias);
        ops::add(rec, v, conv, skip);
    }
    ops::mul(rec, v, v, uc.columns(0, D));
    ops::dense(rec, ops::matrix(fw->output, R, D), v, weight("out_proj.weight", D, D), WeightLayout::OutIn, &out_bias);
    fw->plan = rec.finish();
    return *forwards_.emplace(key, std::move(fw)).first->second;
}

std::vector<float> HyenaOperatorGpu::forward(std::span<const float> input, uint32_t batch, uint32_t length, bool) {
    validate_input(input, batch, length);
    Forward& fw = prepare(batch, length);
    ctx_.transfer.upload(fw.input, 0, input.data(), input.size_bytes());
    fw.plan.submit();
    std::vector<float> out(uint64_t(batch) * length * config_.d_model);
    ctx_.transfer.download(fw.output, 0, out.data(), out.size() * sizeof(float));
    return out;
}

}  // namespace hyenavk::model
