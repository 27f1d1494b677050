#include "ref/striped_hyena_stream.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "ref/reference.hpp"
#include "ref/striped_hyena.hpp"
#include "ref/striped_hyena_layers.hpp"

namespace hyenavk::ref {

using namespace striped_hyena_layers;

namespace {

// The last row of a causal convolution over the rows a history holds: the kernels treat rows before it as
// zeros, which they are for every tap that reaches past the history's start.
std::vector<double> last_row(const std::vector<double>& all, std::size_t channels) {
    return std::vector<double>(all.end() - static_cast<std::ptrdiff_t>(channels), all.end());
}

}  // namespace

void StripedHyenaStream::History::append(std::span<const double> row) {
    rows.insert(rows.end(), row.begin(), row.end());
    if (rows.size() > capacity * channels)
        rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(rows.size() - capacity * channels));
}

StripedHyenaStream::StripedHyenaStream(const StripedHyenaConfig& cfg, const Weights& weights)
    : cfg_(cfg), weights_(weights) {
    const std::size_t H = cfg.hidden_size;
    for (uint32_t i = 1; i <= cfg.num_layers; ++i) {
        if (i % 2 == 1) {
            short_conv_in_.push_back({3, H, {}});
            for (uint32_t k = 0; k < cfg.order; ++k) {
                filters_.push_back(striped_hyena_filter(cfg, weights, i, k));
                long_conv_in_.push_back({cfg.taps(), H, {}});
            }
        } else {
            gated_conv_in_.push_back({cfg.conv_kernel_size, H, {}});
        }
    }
}

void StripedHyenaStream::reset() {
    for (auto* histories : {&short_conv_in_, &long_conv_in_, &gated_conv_in_})
        for (History& h : *histories) h.rows.clear();
    steps_ = 0;
}

std::vector<double> StripedHyenaStream::push(std::span<const double> frame) {
    const uint64_t E = cfg_.embed_dim, H = cfg_.hidden_size, N = cfg_.order, K = cfg_.conv_kernel_size;
    if (frame.size() != E)
        throw std::invalid_argument("hyenavk::ref::StripedHyenaStream: a frame has " + std::to_string(E) +
                                    " values, not " + std::to_string(frame.size()));
    const Weights& w = weights_;
    std::vector<double> h = cfg_.has_input_projection() ? apply_dense(w, "input_projection", frame, 1, E, H)
                                                        : std::vector<double>(frame.begin(), frame.end());
    std::size_t hyena = 0, filter = 0, gated = 0;
    for (uint32_t i = 1; i <= cfg_.num_layers; ++i) {
        const std::string n = block_prefix(i);
        std::vector<double> y;
        if (i % 2 == 1) {
            History& a = short_conv_in_[hyena++];
            a.append(apply_norm(w, n + "_norm", h, 1, H));
            const auto conv = last_row(depthwise_causal_conv(a.rows, 1, a.count(), H,
                                                             get(w, n + "_short_dw_conv.kernel", {3, 1, H}), 3,
                                                             get(w, n + "_short_dw_conv.bias", {H})),
                                       H);
            const auto p = apply_dense(w, n + "_proj", conv, 1, H, (N + 1) * H);
            y = slice_columns(p, 1, (N + 1) * H, 0, H);
            for (uint32_t k = 0; k < N; ++k, ++filter) {
                History& v = long_conv_in_[filter];
                v.append(y);
                const std::size_t taps = std::min<std::size_t>(v.count(), cfg_.taps());
                y = last_row(long_conv_direct(v.rows, 1, v.count(), H,
                                              std::span<const double>(filters_[filter]).first(taps * H), taps),
                             H);
                y = gate_slice(y, 1, H, p, (N + 1) * H, (k + 1) * H);
            }
        } else {
            History& c = gated_conv_in_[gated++];
            const auto a = apply_norm(w, n + "_norm", h, 1, H);
            const auto p = apply_dense(w, n + "_proj", a, 1, H, 2 * H);
            c.append(slice_columns(p, 1, 2 * H, 0, H));
            auto conv = last_row(depthwise_causal_conv(c.rows, 1, c.count(), H, get(w, n + "_dw_conv_dw.kernel", {K, 1, H}),
                                                       K, get(w, n + "_dw_conv_dw.bias", {H})),
                                 H);
            conv = apply_dense(w, n + "_dw_conv_pw", silu(apply_norm(w, n + "_dw_conv_norm", conv, 1, H)), 1, H, H);
            y = mul(conv, sigmoid(slice_columns(p, 1, 2 * H, H, H)));
        }
        h = ffn_residual(w, n, add(h, apply_dense(w, n + "_out_proj", y, 1, H, H)), 1, H);
    }
    ++steps_;
    return apply_norm(w, "final_norm", h, 1, H);
}

}  // namespace hyenavk::ref
