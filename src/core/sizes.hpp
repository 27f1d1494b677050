// Sizes computed from counts a caller or a file gives (batch x length x features, streams x taps, elements x
// bytes): in 64 bits, and a product or sum that does not fit is reported (or saturates where the size is only
// compared with a limit), never wrapped into a small number that later checks would wave through. And how
// sizes are written in messages.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "hyenavk/hyenavk.hpp"

namespace hyenavk::detail {

// The product of `factors`, or nothing where it exceeds 2^64 - 1.
inline std::optional<uint64_t> checked_product(std::span<const uint64_t> factors) {
    uint64_t total = 1;
    for (uint64_t f : factors)
        if (__builtin_mul_overflow(total, f, &total)) return std::nullopt;
    return total;
}
inline std::optional<uint64_t> checked_product(std::initializer_list<uint64_t> factors) {
    return checked_product(std::span<const uint64_t>(factors.begin(), factors.size()));
}

// The product of `factors`, or 2^64 - 1 where it does not fit: for sizes compared with a limit, which such
// a size never passes.
inline uint64_t saturating_product(std::initializer_list<uint64_t> factors) {
    return checked_product(factors).value_or(std::numeric_limits<uint64_t>::max());
}

// a + b, or 2^64 - 1 where it does not fit.
inline uint64_t saturating_sum(uint64_t a, uint64_t b) {
    uint64_t total = 0;
    return __builtin_add_overflow(a, b, &total) ? std::numeric_limits<uint64_t>::max() : total;
}

// "4294967295 x 4294967295 x 8": the factors of a size, for messages.
inline std::string factors_text(std::span<const uint64_t> factors) {
    std::string text;
    for (uint64_t f : factors) text += (text.empty() ? "" : " x ") + std::to_string(f);
    return text;
}

// The product of `factors`; where it exceeds 64 bits, throws `code` with "<what> (<factors>) overflows 64 bits".
inline uint64_t product_or_throw(ErrorCode code, const std::string& what, std::span<const uint64_t> factors) {
    if (const auto total = checked_product(factors)) return *total;
    throw Error(code, what + " (" + factors_text(factors) + ") overflows 64 bits");
}
inline uint64_t product_or_throw(ErrorCode code, const std::string& what, std::initializer_list<uint64_t> factors) {
    return product_or_throw(code, what, std::span<const uint64_t>(factors.begin(), factors.size()));
}

// Bytes for messages: rounded up to MiB, exact below one MiB (where rounding would make a small budget read as
// a larger one).
inline std::string mib(uint64_t bytes) {
    if (bytes < (uint64_t(1) << 20)) return std::to_string(bytes) + " bytes";
    return std::to_string((bytes >> 20) + ((bytes & ((uint64_t(1) << 20) - 1)) != 0)) + " MiB";
}

}  // namespace hyenavk::detail
