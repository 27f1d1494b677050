// The `striped_hyena` architecture (Edifice's Edifice.SSM.StripedHyena): options with Edifice's names and
// defaults, and what follows from them.
#pragma once

#include <cstdint>
#include <string>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk {

struct StripedHyenaConfig {
    uint32_t embed_dim = 0;         // E: features per time step of the input (required)
    uint32_t hidden_size = 256;     // H: internal width and output size
    uint32_t order = 2;             // N: long convolutions (and gates) per Hyena block
    uint32_t filter_size = 64;      // F: width of the implicit filter MLP
    uint32_t conv_kernel_size = 7;  // K: kernel of the gated-conv block's depthwise conv
    uint32_t num_layers = 4;        // blocks in total: 1, 3, 5, ... Hyena; 2, 4, ... gated conv
    double dropout = 0.1;           // kept for compatibility; identity at inference
    uint32_t window_size = 60;      // expected sequence length
    uint32_t seq_len = 0;           // taps of every implicit filter; 0 means window_size

    uint32_t taps() const { return seq_len ? seq_len : window_size; }
    uint32_t output_size() const { return hidden_size; }
    bool has_input_projection() const { return embed_dim != hidden_size; }
    // Learned values in the model (4,303,104 at the defaults, plus E*H + H with an input projection).
    uint64_t parameter_count() const;
    // Throws InvalidArgument naming the first bad option.
    void validate() const;

    // Edifice's recommended_defaults(): hidden 256, order 2, filter 64, kernel 7, 4 layers, window 60, dropout 0.1.
    static StripedHyenaConfig recommended_defaults(uint32_t embed_dim);
};

}  // namespace hyenavk
