// Row normalisations (shaders/norm.comp), each row over its C columns. All views of one call share one element
// type (f32, or f16 where the device has 16-bit storage); statistics are computed in fp32.
#pragma once

#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::ops {

// LayerNorm with Axon's variance clamp: r = var >= eps ? 1/sqrt(var + eps) : 1/sqrt(eps);
// out = (x - mean) * r * gamma + beta. gamma and beta are contiguous [1, C] views.
// `out` may be `x` itself (the same view): each row is read completely before it is written.
void layer_norm(gpu::Recorder& rec, const View& out, const View& x, const View& gamma, const View& beta,
                float eps = 1e-5f);

// out = x / sqrt(mean(x^2) + eps) * scale; scale is a contiguous [1, C] view. `out` may be `x` itself.
void rms_norm(gpu::Recorder& rec, const View& out, const View& x, const View& scale, float eps = 1e-5f);

// out[r, :] = x[r, :] / sum_c |x[r, c]|: safari's normalized implicit filters. out may be x.
void l1_normalize_rows(gpu::Recorder& rec, const View& out, const View& x);

}  // namespace hyenavk::ops
