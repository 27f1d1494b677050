// The relative-error bound each kernel is held to against the double-precision reference
// (max|out - ref| / max|ref|), shared by the tests and `hyenavk selftest`.
#pragma once

namespace hyenavk::diag {

// fp32 transcendental functions (exp, sin) on the device: a few ulps.
inline constexpr double kElementwiseBound = 2e-6;
// fp32 accumulation over K terms; measured about 1e-6 at K = 300.
inline constexpr double kDenseBound = 5e-6;
// At most K fp32 products per output.
inline constexpr double kDepthwiseConvBound = 1e-6;
// Two-pass fp32 statistics per row.
inline constexpr double kNormBound = 1e-6;
// A copy: exact.
inline constexpr double kGatherBound = 0.0;
// fp32 FFTs: the error grows with log n; measured about 3e-7 at n = 2^11 and 5e-7 at 2^21.
inline constexpr double kLongConvBound = 5e-6;

}  // namespace hyenavk::diag
