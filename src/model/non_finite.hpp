// The scan behind every NaN/Inf check (weights, forward inputs, stream frames): each caller names the position
// in its own terms.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <span>

namespace hyenavk::model {

struct NonFinite {
    size_t index;      // flat
    const char* kind;  // "NaN" or "Inf"
};

inline std::optional<NonFinite> first_non_finite(std::span<const float> values) {
    for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i])) return NonFinite{i, std::isnan(values[i]) ? "NaN" : "Inf"};
    return std::nullopt;
}

}  // namespace hyenavk::model
