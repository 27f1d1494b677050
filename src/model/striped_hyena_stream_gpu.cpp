#include "model/striped_hyena_stream_gpu.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "core/sizes.hpp"
#include "model/striped_hyena_tensors.hpp"
#include "ops/dense.hpp"
#include "ops/elementwise.hpp"
#include "ops/gather.hpp"
#include "ops/norm.hpp"
#include "ops/ring_conv.hpp"

namespace hyenavk::model {

using ops::ElementType;
using ops::View;

StripedHyenaStreamGpu::StripedHyenaStreamGpu(StripedHyenaGpu& model, uint32_t streams, uint32_t window,
                                             const std::function<std::shared_ptr<PreparedForward>(uint32_t, uint32_t)>& prepare)
    : model_(model), ctx_(model.context()), streams_(streams), window_(window) {
    if (streams == 0) throw Error(ErrorCode::InvalidArgument, "a stream set needs at least one stream");
    if (model.element_ != ElementType::F32)
        throw Error(ErrorCode::Unsupported, "streaming needs an fp32 model; this one stores fp16");
    check_sizes();
    steps_taken_.assign(streams, 0);
    record();
    if (window_ != 0) record_window(prepare);
}

void StripedHyenaStreamGpu::record_window(
    const std::function<std::shared_ptr<PreparedForward>(uint32_t, uint32_t)>& prepare) {
    const uint32_t S = streams_, W = window_, E = model_.config_.embed_dim;
    frames_ring_ = ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, uint64_t(S) * W * E * sizeof(float));
    window_rows_ = ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, uint64_t(S) * W * sizeof(uint32_t));
    window_forward_ = prepare ? prepare(S, W) : model_.prepare(S, W, false);
    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    for (const IoPiece& piece : window_forward_->inputs) {
        const uint32_t rows = static_cast<uint32_t>(piece.count / E), first = static_cast<uint32_t>(piece.first / E);
        ops::gather_rows(rec, View{piece.allocation->slice(), rows, E, 0, E, 1, ElementType::F32},
                         ops::matrix(frames_ring_, S * W, E),  // check_sizes() holds S * W * E within a binding
                         window_rows_.slice().sub(uint64_t(first) * sizeof(uint32_t), uint64_t(rows) * sizeof(uint32_t)),
                         rows);
    }
    gather_plan_ = rec.finish();
}

std::vector<float> StripedHyenaStreamGpu::windowed_outputs() {
    const uint32_t S = streams_, W = window_;
    // Row j of stream s's window is its frame (steps - W + j), oldest first; steps counts the new frame.
    std::vector<uint32_t> rows(uint64_t(S) * W);
    for (uint32_t s = 0; s < S; ++s)
        for (uint32_t j = 0; j < W; ++j)
            rows[uint64_t(s) * W + j] = s * W + (steps_taken_[s] + 1 + j) % W;  // (steps + 1 - W + j) mod W
    ctx_.transfer.upload(window_rows_, 0, rows.data(), rows.size() * sizeof(uint32_t));
    // The forward's tensors are the model's too: no submit of that shape may come in between.
    std::lock_guard<std::mutex> lock(window_forward_->submit_mutex);
    gather_plan_.submit();
    window_forward_->plan.submit();
    std::vector<float> out(window_forward_->output_values());
    for (const IoPiece& piece : window_forward_->outputs)
        ctx_.transfer.download(*piece.allocation, 0, out.data() + piece.first, piece.count * sizeof(float));
    return out;
}

void StripedHyenaStreamGpu::check_sizes() const {
    const StripedHyenaConfig& c = model_.config_;
    const uint64_t S = streams_, E = c.embed_dim, H = c.hidden_size, N = c.order, Ls = c.taps();
    const std::string set = "a stream set of " + std::to_string(S) + " streams";
    for (const TiledTensor& h : model_.filters_)
        if (h.tile_count() != 1)
            throw Error(ErrorCode::Unsupported, "streaming needs each filter in one binding; " + std::to_string(Ls) +
                                                    " taps exceed the device's range");
    // The buffers record() and record_window() make: rows per stream, and fp32 (or uint32) columns.
    struct Buffer {
        std::string what;
        uint64_t rows, cols;
    };
    std::vector<Buffer> buffers = {{"the input", 1, E}, {"the output", 1, H}, {"the stream", 1, H}, {"a norm", 1, H},
                                   {"a convolution", 1, H}, {"a gate", 1, H}, {"the projections", 1, (N + 1) * H},
                                   {"the FFN", 1, 4 * H}, {"the step counts", 1, 1}};
    for (uint32_t block = 1; block <= c.num_layers; ++block) {
        if (!is_hyena_block(block)) {
            buffers.push_back({"the ring of the " + std::to_string(c.conv_kernel_size) + "-tap convolution",
                               c.conv_kernel_size, H});
            continue;
        }
        buffers.push_back({"the ring of the short convolution", 3, H});
        for (uint64_t k = 0; k < N; ++k)
            buffers.push_back({"the ring of a " + std::to_string(Ls) + "-tap filter", Ls, H});
    }
    if (window_ != 0) {
        buffers.push_back({"the window of " + std::to_string(window_) + " frames", window_, E});
        buffers.push_back({"the window's row indices", window_, 1});
    }
    const DeviceCaps& caps = ctx_.device->caps();
    const uint64_t binding = std::min(caps.max_storage_buffer_range, caps.max_memory_allocation_size);
    uint64_t total = 0;
    for (const Buffer& b : buffers) {
        const uint64_t bytes = detail::saturating_product({S, b.rows, b.cols, sizeof(float)});
        if (bytes > binding)
            throw Error(ErrorCode::DeviceLimit, set + ": " + b.what + " ([" + std::to_string(S) + " x " +
                                                    std::to_string(b.rows) + ", " + std::to_string(b.cols) +
                                                    "] floats, " + detail::mib(bytes) +
                                                    ") exceeds one buffer of the device (" + detail::mib(binding) +
                                                    ", maxStorageBufferRange and maxMemoryAllocationSize)");
        total = detail::saturating_sum(total, ctx_.memory.dedicated_bytes(bytes));
    }
    const uint64_t budget = ctx_.memory.budget(), held = ctx_.memory.reserved();
    if (total > (budget > held ? budget - held : 0))
        throw Error(ErrorCode::OutOfMemory, set + " needs at least " + detail::mib(total) + " of device memory; " +
                                                detail::mib(budget > held ? budget - held : 0) + " of the budget of " +
                                                detail::mib(budget) +
                                                " is left (ContextOptions::memory_budget_bytes, --memory-budget)");
}

void StripedHyenaStreamGpu::record() {
    const StripedHyenaConfig& c = model_.config_;
    const uint32_t S = streams_, E = c.embed_dim, H = c.hidden_size, N = c.order, K = c.conv_kernel_size,
                   Ls = c.taps();
    auto allocate = [&](uint32_t rows, uint32_t cols) {
        return ctx_.memory.allocate_dedicated(gpu::Lifetime::Activations, uint64_t(rows) * cols * sizeof(float));
    };
    input_ = allocate(S, E);
    output_ = allocate(S, H);
    x_ = allocate(S, H);
    a_ = allocate(S, H);
    t_ = allocate(S, H);
    p_ = allocate(S, (N + 1) * H);
    y_ = allocate(S, H);
    u_ = allocate(S, 4 * H);
    steps_ = allocate(1, S);

    const View X = ops::matrix(x_, S, H), A = ops::matrix(a_, S, H), T = ops::matrix(t_, S, H),
               Y = ops::matrix(y_, S, H), U = ops::matrix(u_, S, 4 * H), steps = ops::matrix(steps_, 1, S);
    gpu::Recorder rec(*ctx_.device, ctx_.pipelines);
    View bias_storage;
    auto dense = [&](const View& out, const View& in, const std::string& name, uint32_t in_dim, uint32_t out_dim,
                     ops::DenseEpilogue epilogue = ops::DenseEpilogue::Store) {
        ops::dense(rec, out, in, model_.weight(name + ".kernel", in_dim, out_dim), ops::WeightLayout::InOut,
                   model_.bias(name + ".bias", bias_storage), ops::DenseKernel::Auto, epilogue);
    };
    auto layer_norm = [&](const View& out, const View& in, const std::string& name) {
        ops::layer_norm(rec, out, in, model_.weight(name + ".gamma", 1, H), model_.weight(name + ".beta", 1, H));
    };
    // A ring of `taps` past rows per stream for the next convolution, and the convolution itself.
    auto ring_conv = [&](const View& out, const View& in, const View& w, uint32_t taps, ops::TapOrder order,
                         const View* bias) {
        // check_sizes() holds S * taps rows within one binding, so within 32 bits.
        const uint32_t rows = uint32_t(uint64_t(S) * taps);
        rings_.push_back({allocate(rows, H), taps});
        ops::ring_causal_conv(rec, out, in, ops::matrix(rings_.back().rows, rows, H), taps, steps, w, taps, order,
                              bias);
    };
    auto ffn = [&](const std::string& p) {
        layer_norm(A, X, p + "_ffn_norm");
        dense(U, A, p + "_ffn_up", H, 4 * H);
        dense(U, A, p + "_ffn_gate", H, 4 * H, ops::DenseEpilogue::SiluGate);
        dense(X, U, p + "_ffn_down", 4 * H, H, ops::DenseEpilogue::Accumulate);
    };

    if (c.has_input_projection())
        dense(X, ops::matrix(input_, S, E), "input_projection", E, H);
    else
        ops::copy(rec, X, ops::matrix(input_, S, E));
    size_t filter = 0;
    for (uint32_t block = 1; block <= c.num_layers; ++block) {
        const std::string p = block_prefix(block);
        View conv_bias;
        if (is_hyena_block(block)) {
            const View P = ops::matrix(p_, S, (N + 1) * H);
            layer_norm(A, X, p + "_norm");
            ring_conv(T, A, model_.weight(p + "_short_dw_conv.kernel", 3, H), 3, ops::TapOrder::Tap,
                      model_.bias(p + "_short_dw_conv.bias", conv_bias));
            dense(P, T, p + "_proj", H, (N + 1) * H);
            ops::copy(rec, Y, P.columns(0, H));
            for (uint32_t k = 0; k < N; ++k, ++filter) {
                ring_conv(T, Y, model_.filters_[filter].tile_view(0), Ls, ops::TapOrder::Lag, nullptr);
                ops::mul(rec, Y, T, P.columns((k + 1) * H, H));
            }
            dense(X, Y, p + "_out_proj", H, H, ops::DenseEpilogue::Accumulate);
        } else {
            const View P = ops::matrix(p_, S, 2 * H);
            layer_norm(A, X, p + "_norm");
            dense(P, A, p + "_proj", H, 2 * H);
            ring_conv(T, P.columns(0, H), model_.weight(p + "_dw_conv_dw.kernel", K, H), K, ops::TapOrder::Tap,
                      model_.bias(p + "_dw_conv_dw.bias", conv_bias));
            layer_norm(A, T, p + "_dw_conv_norm");
            ops::silu(rec, A, A);
            // pw(a) * sigmoid(gate) lands on the gate's own columns, which nothing reads afterwards.
            const View gated = P.columns(H, H);
            dense(gated, A, p + "_dw_conv_pw", H, H, ops::DenseEpilogue::SigmoidGated);
            dense(X, gated, p + "_out_proj", H, H, ops::DenseEpilogue::Accumulate);
        }
        ffn(p);
    }
    layer_norm(ops::matrix(output_, S, H), X, "final_norm");
    plan_ = rec.finish();
}

void StripedHyenaStreamGpu::check_stream(uint32_t stream, const char* what) const {
    if (stream >= streams_)
        throw Error(ErrorCode::InvalidArgument, std::string(what) + ": stream " + std::to_string(stream) +
                                                    " of a set of " + std::to_string(streams_));
}

void StripedHyenaStreamGpu::reset() { std::fill(steps_taken_.begin(), steps_taken_.end(), 0u); }

void StripedHyenaStreamGpu::reset(uint32_t stream) {
    check_stream(stream, "reset");
    steps_taken_[stream] = 0;  // its rings are never read before they are written again
}

uint64_t StripedHyenaStreamGpu::steps(uint32_t stream) const {
    check_stream(stream, "steps");
    return steps_taken_[stream];
}

namespace {

constexpr uint32_t kStateMagic = 0x53564b48;  // "HKVS"
constexpr uint32_t kStateVersion = 1;

}  // namespace

std::vector<uint8_t> StripedHyenaStreamGpu::save(uint32_t stream) const {
    check_stream(stream, "save");
    const uint32_t H = model_.config_.hidden_size;
    const uint32_t header[] = {kStateMagic, kStateVersion, steps_taken_[stream], static_cast<uint32_t>(rings_.size())};
    std::vector<uint8_t> out(reinterpret_cast<const uint8_t*>(header), reinterpret_cast<const uint8_t*>(header + 4));
    for (const Ring& r : rings_) {
        const uint64_t bytes = uint64_t(r.taps) * H * sizeof(float);
        const size_t at = out.size();
        out.resize(at + bytes);
        ctx_.transfer.download(r.rows, stream * bytes, out.data() + at, bytes);
    }
    if (window_ != 0) {  // the stream's last W frames
        const uint64_t bytes = uint64_t(window_) * model_.config_.embed_dim * sizeof(float);
        const size_t at = out.size();
        out.resize(at + bytes);
        ctx_.transfer.download(frames_ring_, stream * bytes, out.data() + at, bytes);
    }
    return out;
}

void StripedHyenaStreamGpu::restore(uint32_t stream, std::span<const uint8_t> state) {
    check_stream(stream, "restore");
    const uint32_t H = model_.config_.hidden_size;
    uint64_t expected = 4 * sizeof(uint32_t);
    for (const Ring& r : rings_) expected += uint64_t(r.taps) * H * sizeof(float);
    const uint64_t window_bytes = uint64_t(window_) * model_.config_.embed_dim * sizeof(float);
    expected += window_bytes;
    uint32_t header[4] = {};
    if (state.size() >= sizeof header) std::memcpy(header, state.data(), sizeof header);
    if (state.size() != expected || header[0] != kStateMagic || header[1] != kStateVersion ||
        header[3] != rings_.size())
        throw Error(ErrorCode::Format, "restore: the state is not one saved from a stream of this model (" +
                                           std::to_string(state.size()) + " bytes; " + std::to_string(expected) +
                                           " expected)");
    uint64_t at = sizeof header;
    for (const Ring& r : rings_) {
        const uint64_t bytes = uint64_t(r.taps) * H * sizeof(float);
        ctx_.transfer.upload(r.rows, stream * bytes, state.data() + at, bytes);
        at += bytes;
    }
    if (window_bytes) ctx_.transfer.upload(frames_ring_, stream * window_bytes, state.data() + at, window_bytes);
    steps_taken_[stream] = header[2];
}

uint32_t StripedHyenaStreamGpu::input_features() const { return model_.config_.embed_dim; }

std::vector<float> StripedHyenaStreamGpu::push(std::span<const float> frames) {
    const uint32_t E = model_.config_.embed_dim, H = model_.config_.hidden_size;
    if (frames.size() != uint64_t(streams_) * E)
        throw Error(ErrorCode::InvalidArgument, "a push takes [streams, features] = [" + std::to_string(streams_) +
                                                    ", " + std::to_string(E) + "] values, not " +
                                                    std::to_string(frames.size()));
    for (uint32_t s = 0; s < streams_; ++s)
        if (steps_taken_[s] == std::numeric_limits<uint32_t>::max())
            throw Error(ErrorCode::InvalidArgument, "stream " + std::to_string(s) + " has taken 2^32 - 1 steps: reset it");
    ctx_.transfer.upload(input_, 0, frames.data(), frames.size_bytes());
    ctx_.transfer.upload(steps_, 0, steps_taken_.data(), steps_taken_.size() * sizeof(uint32_t));
    plan_.submit();
    std::vector<float> out(uint64_t(streams_) * H);
    ctx_.transfer.download(output_, 0, out.data(), out.size() * sizeof(float));
    if (window_ != 0) {
        bool past_window = false;
        for (uint32_t s = 0; s < streams_; ++s) {
            const uint64_t row = uint64_t(s) * window_ + steps_taken_[s] % window_;
            ctx_.transfer.upload(frames_ring_, row * E * sizeof(float), frames.data() + uint64_t(s) * E, E * sizeof(float));
            past_window |= steps_taken_[s] + 1 > window_;
        }
        // A stream with at most W frames has the incremental output; the others the window's forward.
        if (past_window) {
            const std::vector<float> windowed = windowed_outputs();
            for (uint32_t s = 0; s < streams_; ++s)
                if (steps_taken_[s] + 1 > window_)
                    std::copy_n(windowed.begin() + uint64_t(s) * H, H, out.begin() + uint64_t(s) * H);
        }
    }
    for (uint32_t& s : steps_taken_) ++s;
    return out;
}

}  // namespace hyenavk::model
