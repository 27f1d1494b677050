#include "model/striped_hyena_gpu.hpp"

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

// The activation buffers of one forward, in floats: one place lists them, for allocation and for the estimate.
struct ActivationSizes {
    uint64_t input, stream, projections, wide, output;
};

ActivationSizes activation_sizes(const StripedHyenaConfig& c, uint32_t batch, uint32_t length, bool full) {
    const uint64_t rows = uint64_t(batch) * length;
    return {rows * c.embed_dim, rows * c.hidden_size, rows * (uint64_t(c.order) + 1) * c.hidden_size,
            rows * 4ull * c.hidden_size, (full ? rows : batch) * uint64_t(c.hidden_size)};
}

uint32_t hyena_block_count(const StripedHyenaConfig& c) { return (c.num_layers + 1) / 2; }

}  // namespace

struct StripedHyenaGpu::Forward {
    uint32_t batch = 0, length = 0;
    bool full = false;
    gpu::Allocation input, x, a, t, y, p, g, u, output;
    std::unique_ptr<fft::LongConv> conv;
    std::vector<gpu::Allocation> spectra;  // per filter, at this length
    gpu::Plan plan;
};

StripedHyenaGpu::StripedHyenaGpu(detail::ContextImpl& ctx, const StripedHyenaConfig& config,
                                 const HostWeights& weights)
    : ctx_(ctx), config_(config) {
    config_.validate();
    for (const auto& [name, tensor] : weights.all()) {
        auto alloc = ctx.memory.allocate(gpu::Lifetime::Weights, tensor.data.size() * sizeof(float));
        ctx.transfer.upload(alloc, 0, tensor.data.data(), tensor.data.size() * sizeof(float));
        weight_bytes_ += alloc.size();
        weights_.emplace(name, std::move(alloc));
    }
    compute_filters();
}

StripedHyenaGpu::~StripedHyenaGpu() = default;

nlohmann::json StripedHyenaGpu::config_json() const { return to_json(config_); }

View StripedHyenaGpu::weight(const std::string& name, uint32_t rows, uint32_t cols) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(ErrorCode::Internal, "weight '" + name + "' was not uploaded");
    return ops::matrix(it->second, rows, cols);
}

const View* StripedHyenaGpu::bias(const std::string& name, View& storage) const {
    auto it = weights_.find(name);
    if (it == weights_.end()) throw Error(ErrorCode::Internal, "bias '" + name + "' was not uploaded");
    storage = ops::matrix(it->second, 1, static_cast<uint32_t>(it->second.size() / sizeof(float)));
    return &storage;
}

void StripedHyenaGpu::compute_filters() {
    // h_k = dense3(sin(dense2(sin(dense1(pos))))) over pos[s] = s / max(Ls - 1, 1): weights only, so once.
    const uint32_t Ls = config_.taps(), F = config_.filter_size, H = config_.hidden_size;
    std::vector<float> pos(Ls);
    for (uint32_t s = 0; s < Ls; ++s) pos[s] = float(double(s) / double(std::max(Ls - 1, 1u)));
    auto pos_buf = ctx_.memory.allocate(gpu::Lifetime::Activations, Ls * sizeof(float));
    ctx_.transfer.upload(pos_buf, 0, pos.data(), pos.size() * sizeof(float));
    auto f1 = ctx_.memory.allocate(gpu::Lifetime::Activations, uint64_t(Ls) * F * sizeof(float));
    auto f2 = ctx_.memory.allocate(gpu::Lifetime::Activations, uint64_t(Ls) * F * sizeof(float));

    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    View b1, b2, b3;
    for (uint32_t block = 1; block <= config_.num_layers; block += 2)
        for (uint32_t k = 0; k < config_.order; ++k) {
            const std::string f = block_prefix(block) + "_filter" + std::to_string(k);
            auto h = ctx_.memory.allocate(gpu::Lifetime::Weights, uint64_t(Ls) * H * sizeof(float));
            const View v1 = ops::matrix(f1, Ls, F), v2 = ops::matrix(f2, Ls, F);
            ops::dense(rec, v1, ops::matrix(pos_buf, Ls, 1), weight(f + "_dense1.kernel", 1, F), WeightLayout::InOut,
                       bias(f + "_dense1.bias", b1));
            ops::sin(rec, v1, v1);
            ops::dense(rec, v2, v1, weight(f + "_dense2.kernel", F, F), WeightLayout::InOut, bias(f + "_dense2.bias", b2));
            ops::sin(rec, v2, v2);
            ops::dense(rec, ops::matrix(h, Ls, H), v2, weight(f + "_dense3.kernel", F, H), WeightLayout::InOut,
                       bias(f + "_dense3.bias", b3));
            weight_bytes_ += h.size();
            filters_.push_back(std::move(h));
        }
    rec.finish().submit();
}

uint64_t StripedHyenaGpu::forward_bytes(const StripedHyenaConfig& c, uint32_t batch, uint32_t length, bool full) {
    const ActivationSizes s = activation_sizes(c, batch, length, full);
    uint64_t floats = s.input + 4 * s.stream + s.projections + 2 * s.wide + s.output;
    if (hyena_block_count(c) > 0) {
        const uint64_t n = fft::smooth_size(uint64_t(length) + std::min(length, c.taps()) - 1);
        const uint64_t rf = fft::row_floats(n);
        floats += uint64_t(batch) * c.hidden_size * rf;                            // workspace
        floats += uint64_t(hyena_block_count(c)) * c.order * c.hidden_size * rf;  // spectra
    }
    return floats * sizeof(float);
}

StripedHyenaGpu::Forward& StripedHyenaGpu::prepare(uint32_t batch, uint32_t length, bool full) {
    const auto key = std::make_tuple(batch, length, full);
    if (auto it = forwards_.find(key); it != forwards_.end()) return *it->second;

    const StripedHyenaConfig& c = config_;
    const uint32_t R = batch * length, H = c.hidden_size, E = c.embed_dim, N = c.order, K = c.conv_kernel_size;
    const uint32_t Ls = c.taps();
    auto fw = std::make_unique<Forward>();
    fw->batch = batch;
    fw->length = length;
    fw->full = full;
    const ActivationSizes s = activation_sizes(c, batch, length, full);
    auto alloc = [this](uint64_t floats) { return ctx_.memory.allocate(gpu::Lifetime::Activations, floats * sizeof(float)); };
    fw->input = alloc(s.input);
    fw->x = alloc(s.stream);
    fw->a = alloc(s.stream);
    fw->t = alloc(s.stream);
    fw->y = alloc(s.stream);
    fw->p = alloc(s.projections);
    fw->g = alloc(s.wide);
    fw->u = alloc(s.wide);
    fw->output = alloc(s.output);

    if (!filters_.empty()) {
        fw->conv = std::make_unique<fft::LongConv>(ctx_, batch, length, H, Ls);
        gpu::Recorder spectra(*ctx_.device, ctx_.pipelines);
        for (const auto& h : filters_) {
            fw->spectra.push_back(fw->conv->make_spectrum());
            fw->conv->record_filter_spectrum(spectra, ops::matrix(h, Ls, H), fw->spectra.back());
        }
        spectra.finish().submit();
    }

    const View x = ops::matrix(fw->x, R, H), a = ops::matrix(fw->a, R, H), t = ops::matrix(fw->t, R, H),
               y = ops::matrix(fw->y, R, H), g = ops::matrix(fw->g, R, 4 * H), u = ops::matrix(fw->u, R, 4 * H);
    View bias_storage;
    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    auto dense = [&](const View& out, const View& in, const std::string& name, uint32_t in_dim, uint32_t out_dim) {
        ops::dense(rec, out, in, weight(name + ".kernel", in_dim, out_dim), WeightLayout::InOut,
                   bias(name + ".bias", bias_storage));
    };
    auto layer_norm = [&](const View& out, const View& in, const std::string& name) {
        ops::layer_norm(rec, out, in, weight(name + ".gamma", 1, H), weight(name + ".beta", 1, H));
    };
    auto ffn = [&](const std::string& p) {  // x += down(silu(gate(a)) * up(a)), a = norm(x)
        layer_norm(a, x, p + "_ffn_norm");
        dense(g, a, p + "_ffn_gate", H, 4 * H);
        dense(u, a, p + "_ffn_up", H, 4 * H);
        ops::silu(rec, g, g);
        ops::mul(rec, g, g, u);
        dense(t, g, p + "_ffn_down", 4 * H, H);
        ops::add(rec, x, x, t);
    };

    const View input = ops::matrix(fw->input, R, E);
    if (c.has_input_projection())
        dense(x, input, "input_projection", E, H);
    else
        ops::copy(rec, x, input);

    size_t filter = 0;
    for (uint32_t block = 1; block <= c.num_layers; ++block) {
        const std::string p = block_prefix(block);
        if (is_hyena_block(block)) {
            const View proj = ops::matrix(fw->p, R, (N + 1) * H);
            layer_norm(a, x, p + "_norm");
            View conv_bias;
            ops::depthwise_causal_conv(rec, t, a, batch, length, weight(p + "_short_dw_conv.kernel", 3, H), 3,
                                       bias(p + "_short_dw_conv.bias", conv_bias));
            dense(proj, t, p + "_proj", H, (N + 1) * H);
            View signal = proj.columns(0, H);
            for (uint32_t k = 0; k < N; ++k, ++filter) {
                fw->conv->record(rec, y, signal, fw->spectra[filter]);  // convolve, then gate
                ops::mul(rec, y, y, proj.columns((k + 1) * H, H));
                signal = y;
            }
            dense(t, y, p + "_out_proj", H, H);
            ops::add(rec, x, x, t);
        } else {
            const View proj = ops::matrix(fw->p, R, 2 * H);
            layer_norm(a, x, p + "_norm");
            dense(proj, a, p + "_proj", H, 2 * H);
            View conv_bias;
            ops::depthwise_causal_conv(rec, y, proj.columns(0, H), batch, length, weight(p + "_dw_conv_dw.kernel", K, H),
                                       K, bias(p + "_dw_conv_dw.bias", conv_bias));
            layer_norm(t, y, p + "_dw_conv_norm");
            ops::silu(rec, t, t);
            dense(a, t, p + "_dw_conv_pw", H, H);
            const View gate = proj.columns(H, H);
            ops::sigmoid(rec, gate, gate);
            ops::mul(rec, y, a, gate);
            dense(t, y, p + "_out_proj", H, H);
            ops::add(rec, x, x, t);
        }
        ffn(p);
    }
    if (full) {
        layer_norm(ops::matrix(fw->output, R, H), x, "final_norm");
    } else {
        // Only the last step of each sequence leaves the model.
        const View last{fw->x.slice(), batch, H, (length - 1) * H, length * H, 1};
        layer_norm(ops::matrix(fw->output, batch, H), last, "final_norm");
    }
    fw->plan = rec.finish();
    return *forwards_.emplace(key, std::move(fw)).first->second;
}

void StripedHyenaGpu::validate_input(std::span<const float> input, uint32_t batch, uint32_t length) const {
    if (batch == 0 || length == 0)
        throw Error(ErrorCode::InvalidArgument, "batch and length must be >= 1 (got B = " + std::to_string(batch) +
                                                    ", L = " + std::to_string(length) + ")");
    if (input.size() != uint64_t(batch) * length * config_.embed_dim)
        throw Error(ErrorCode::InvalidArgument,
                    "input has " + std::to_string(input.size()) + " values; [B, L, E] = [" + std::to_string(batch) +
                        ", " + std::to_string(length) + ", " + std::to_string(config_.embed_dim) + "] needs " +
                        std::to_string(uint64_t(batch) * length * config_.embed_dim));
}

std::vector<float> StripedHyenaGpu::forward(std::span<const float> input, uint32_t batch, uint32_t length,
                                            bool full_sequence) {
    validate_input(input, batch, length);
    Forward& fw = prepare(batch, length, full_sequence);
    ctx_.transfer.upload(fw.input, 0, input.data(), input.size_bytes());
    fw.plan.submit();
    std::vector<float> out((full_sequence ? uint64_t(batch) * length : batch) * config_.hidden_size);
    ctx_.transfer.download(fw.output, 0, out.data(), out.size() * sizeof(float));
    return out;
}

}  // namespace hyenavk::model
