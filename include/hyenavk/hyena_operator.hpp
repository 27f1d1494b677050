// The `hyena_operator` architecture: HazyResearch safari's HyenaOperator (one head, inner factor 1, no outer
// mixing, no post-order FFN), with safari's option names and defaults.
#pragma once

#include <cstdint>
#include <string>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk {

enum class FilterLayout {
    Blocked,      // safari's standalone_hyena.py: chunk o holds filter channels o*D .. (o+1)*D-1
    Interleaved,  // safari's src/models/sequence/hyena.py: chunk o, channel d is filter channel d*(N-1) + o
};

struct HyenaOperatorConfig {
    uint32_t d_model = 0;         // D (required)
    uint32_t l_max = 0;           // longest sequence; the positional tensors hold l_max rows (required)
    uint32_t order = 2;           // N >= 2
    uint32_t filter_order = 64;   // W: width of the implicit filter MLP
    uint32_t emb_dim = 3;         // positional features (odd, >= 3)
    uint32_t num_inner_mlps = 2;  // hidden layers of the filter MLP after the first
    double w = 1.0;               // sine frequency at initialisation
    bool modulate = true;         // exponential decay window
    double fast_decay_pct = 0.3;  // initialisation of the decay rates
    double slow_decay_pct = 1.5;
    double target = 0.01;
    double shift = 0.0;           // added to the decay window
    bool normalized = false;      // L1-normalise the filter over channels at each step
    FilterLayout filter_layout = FilterLayout::Blocked;

    uint32_t filter_channels() const { return d_model * (order - 1); }
    uint64_t parameter_count() const;
    // Throws InvalidArgument naming the first bad option.
    void validate() const;
};

}  // namespace hyenavk
