#include "ops/dense.hpp"

#include <algorithm>

#include "gpu/device.hpp"
#include "ops/checks.hpp"
#include "ops/elementwise.hpp"

namespace hyenavk::ops {
namespace {

struct Push {
    uint32_t M, N, K, has_bias;
    PushView out, a;
    uint32_t w_offset, bias_offset, pad[2];
};
static_assert(sizeof(Push) == 64);

// Plain kernel (shaders/dense.comp).
constexpr uint32_t kBlock = 4;           // each invocation computes a kBlock x kBlock output block
constexpr uint32_t kWorkgroupSize = 64;   // local_size_x in the shader

// Subgroup kernel (shaders/dense_sg.comp), one build per subgroup size (LANES, see src/CMakeLists.txt). A
// workgroup computes a TM x (lanes * 4 * kColumnGroups) tile (TM and CG in the shader): kTileRows rows, or
// for few rows (a last step, a streaming step, a small batch) a short tile of max(8, lanes) rows, which
// computes far fewer rows that are never stored.
constexpr uint32_t kTileRows = 32;
constexpr uint32_t kShortTileMaxRows = 16;  // at most this many rows take the short tile
constexpr uint32_t kColumnGroups = 2;

uint32_t short_tile_rows(uint32_t lanes) { return std::max(8u, lanes); }

const char* subgroup_shader(uint32_t lanes, ElementType e = ElementType::F32, bool short_tile = false) {
    const bool f16 = e == ElementType::F16;
    switch (lanes) {
        case 4: return short_tile ? (f16 ? "dense_sg_l4_short_f16" : "dense_sg_l4_short") : f16 ? "dense_sg_l4_f16" : "dense_sg_l4";
        case 8: return short_tile ? (f16 ? "dense_sg_l8_short_f16" : "dense_sg_l8_short") : f16 ? "dense_sg_l8_f16" : "dense_sg_l8";
        case 16: return short_tile ? (f16 ? "dense_sg_l16_short_f16" : "dense_sg_l16_short") : f16 ? "dense_sg_l16_f16" : "dense_sg_l16";
        default: return nullptr;
    }
}

// Where a view's rows start at multiples of 4 elements and its columns are contiguous, 4 consecutive columns
// are one vec4.
bool vec4_rows(const View& v) {
    return v.col_stride == 1 && v.offset % 4 == 0 && (v.rows <= 1 || v.row_stride % 4 == 0);
}

}  // namespace

bool dense_subgroup_supported(const DeviceInfo& device) {
    const DeviceCaps& caps = device.caps;
    // The tiling pays off where loads are loops over SIMD lanes; on a GPU its 8-invocation workgroups and
    // hundreds of accumulators per invocation would be slow.
    return device.type == DeviceType::Cpu && caps.subgroup_basic && caps.subgroup_shuffle &&
           subgroup_shader(caps.subgroup_size) != nullptr;
}

DenseKernel dense_kernel_for(const DeviceInfo& device) {
    return dense_subgroup_supported(device) ? DenseKernel::Subgroup : DenseKernel::Plain;
}

void dense(gpu::Recorder& rec, const View& out, const View& a, const View& w, WeightLayout layout,
           const View* bias, DenseKernel kernel, DenseEpilogue epilogue) {
    const std::string op = "dense";
    const uint32_t M = a.rows, K = a.cols, N = out.cols;
    if (K == 0) checks::fail(op, "the input has no columns");
    checks::has_shape(a, M, K, op, "a");
    checks::has_shape(out, M, N, op, "out");
    if (layout == WeightLayout::InOut)
        checks::dense_shape(w, K, N, op, "w ([in, out])");
    else
        checks::dense_shape(w, N, K, op, "w ([out, in])");
    if (bias) checks::dense_shape(*bias, 1, N, op, "bias");
    const View& b = bias ? *bias : w;  // the shaders declare every binding
    const ElementType e = checks::element_type(rec.caps(), op, {&out, &a, &w, &b});
    const DeviceInfo& device = rec.device().info();
    if (kernel == DenseKernel::Auto) kernel = dense_kernel_for(device);
    if (kernel == DenseKernel::Subgroup && !dense_subgroup_supported(device))
        throw Error(ErrorCode::Unsupported,
                    "dense: the subgroup kernel needs a CPU device with subgroup shuffles and a subgroup size of "
                    "4, 8 or 16");
    if (M == 0 || N == 0) return;

    const Push p{M, N, K, bias ? 1u : 0u, push_view(out), push_view(a), w.offset, b.offset, {0, 0}};
    const uint64_t work = 2ull * M * N * K;  // multiply-adds, for bounding submissions
    using gpu::Access;
    const uint32_t out_in = layout == WeightLayout::OutIn ? 1u : 0u;
    const uint32_t ep = static_cast<uint32_t>(epilogue);
    const Access out_access = epilogue == DenseEpilogue::Store ? Access::Write : Access::ReadWrite;
    if (kernel == DenseKernel::Subgroup) {
        const uint32_t lanes = device.caps.subgroup_size;
        const bool short_tile = M <= kShortTileMaxRows;
        const uint32_t tile_rows = short_tile ? short_tile_rows(lanes) : kTileRows;
        const uint32_t tile_cols = lanes * 4 * kColumnGroups;
        const uint64_t tiles = uint64_t((M + tile_rows - 1) / tile_rows) * ((N + tile_cols - 1) / tile_cols);
        checks::countable(tiles, op);
        // Loads and stores of 4 consecutive elements as one vector where the views allow; a weight row (length N
        // for [in, out], K for [out, in]) must start at a multiple of 4.
        const bool w_vec4 = w.offset % 4 == 0 && (layout == WeightLayout::InOut ? N : K) % 4 == 0;
        const uint32_t spec[] = {out_in, vec4_rows(a) ? 1u : 0u, w_vec4 ? 1u : 0u,
                                 vec4_rows(out) && N % 4 == 0 ? 1u : 0u, ep};
        rec.dispatch(subgroup_shader(lanes, e, short_tile), spec,
                     {{out.slice, out_access}, {a.slice, Access::Read}, {w.slice, Access::Read},
                      {b.slice, Access::Read}},
                     p, grid_1d(rec.caps(), tiles, 1), work);
        return;
    }
    const uint64_t blocks = uint64_t((M + kBlock - 1) / kBlock) * ((N + kBlock - 1) / kBlock);
    checks::countable(blocks, op);
    const uint32_t spec[] = {out_in, ep};
    rec.dispatch(e == ElementType::F16 ? "dense_f16" : "dense", spec,
                 {{out.slice, out_access}, {a.slice, Access::Read}, {w.slice, Access::Read}, {b.slice, Access::Read}},
                 p, grid_1d(rec.caps(), blocks, kWorkgroupSize), work);
}

}  // namespace hyenavk::ops
