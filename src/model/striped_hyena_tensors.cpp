#include "model/striped_hyena_tensors.hpp"

namespace hyenavk::model {

std::string block_prefix(uint32_t block) {
    return (is_hyena_block(block) ? "hyena_block_" : "gated_conv_block_") + std::to_string(block);
}

std::vector<TensorSpec> striped_hyena_tensors(const StripedHyenaConfig& c) {
    const uint64_t E = c.embed_dim, H = c.hidden_size, N = c.order, F = c.filter_size, K = c.conv_kernel_size;
    std::vector<TensorSpec> t;
    // Axon initialises LayerNorm gamma with glorot_uniform as well (SPEC.md): kept for fidelity.
    auto dense = [&t](const std::string& n, uint64_t in, uint64_t out) {
        t.push_back({n + ".kernel", {in, out}, Init::GlorotUniform});
        t.push_back({n + ".bias", {out}, Init::Zeros});
    };
    auto norm = [&t, H](const std::string& n) {
        t.push_back({n + ".gamma", {H}, Init::GlorotUniform});
        t.push_back({n + ".beta", {H}, Init::Zeros});
    };
    auto dwconv = [&t, H](const std::string& n, uint64_t taps) {
        t.push_back({n + ".kernel", {taps, 1, H}, Init::GlorotUniform});
        t.push_back({n + ".bias", {H}, Init::Zeros});
    };
    auto ffn = [&](const std::string& p) {
        norm(p + "_ffn_norm");
        dense(p + "_ffn_gate", H, 4 * H);
        dense(p + "_ffn_up", H, 4 * H);
        dense(p + "_ffn_down", 4 * H, H);
    };
    if (c.has_input_projection()) dense("input_projection", E, H);
    for (uint32_t i = 1; i <= c.num_layers; ++i) {
        const std::string p = block_prefix(i);
        if (is_hyena_block(i)) {
            norm(p + "_norm");
            dwconv(p + "_short_dw_conv", 3);
            dense(p + "_proj", H, (N + 1) * H);
            for (uint64_t k = 0; k < N; ++k) {
                const std::string f = p + "_filter" + std::to_string(k);
                dense(f + "_dense1", 1, F);
                dense(f + "_dense2", F, F);
                dense(f + "_dense3", F, H);
            }
            dense(p + "_out_proj", H, H);
        } else {
            norm(p + "_norm");
            dense(p + "_proj", H, 2 * H);
            dwconv(p + "_dw_conv_dw", K);
            norm(p + "_dw_conv_norm");
            dense(p + "_dw_conv_pw", H, H);
            dense(p + "_out_proj", H, H);
        }
        ffn(p);
    }
    norm("final_norm");
    return t;
}

}  // namespace hyenavk::model
