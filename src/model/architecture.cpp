#include "model/architecture.hpp"

#include <string>

#include "core/sizes.hpp"
#include "model/forward_submission.hpp"

namespace hyenavk::model {

void check_resident_need(const detail::ContextImpl& ctx, const ResidentNeed& need, const std::string& path) {
    using detail::mib;
    const uint64_t budget = ctx.memory.budget(), held = ctx.memory.reserved();
    const uint64_t left = budget > held ? budget - held : 0;
    const std::string limit = "the memory budget is " + mib(budget) +
                              (held ? ", of which " + mib(held) + " is held already" : std::string()) +
                              " (ContextOptions::memory_budget_bytes, --memory-budget)";
    if (need.weights > left)
        throw Error(ErrorCode::OutOfMemory,
                    path + ": the weights need " + mib(need.weights) + " of device memory; " + limit);
    if (need.filters > left - need.weights)
        throw Error(ErrorCode::OutOfMemory, path + ": " + need.filters_what + " need " + mib(need.filters) +
                                                " of device memory besides the weights' " + mib(need.weights) + "; " +
                                                limit);
    const uint64_t host = gpu::host_memory_bytes();
    if (host != 0 && need.host_bytes > host)
        throw Error(ErrorCode::OutOfMemory, path + ": reading the weights needs " + mib(need.host_bytes) +
                                                " of host memory (as fp32); this host has " + mib(host));
}

void check_shape(const Architecture& net, uint32_t batch, uint32_t length) {
    const std::string shape = "B = " + std::to_string(batch) + ", L = " + std::to_string(length);
    if (batch == 0 || length == 0)
        throw Error(ErrorCode::InvalidArgument, "batch and length must be >= 1 (got " + shape + ")");
    detail::product_or_throw(ErrorCode::InvalidArgument, shape + ": the input's bytes [B, L, features] x 4",
                             {batch, length, net.input_features(), sizeof(float)});
    detail::product_or_throw(ErrorCode::InvalidArgument, shape + ": the output's bytes [B, L, features] x 4",
                             {batch, length, net.output_features(), sizeof(float)});
}

std::vector<float> Architecture::forward(std::span<const float> input, uint32_t batch, uint32_t length,
                                         bool full_sequence, bool check_finite) {
    validate_shape(batch, length);
    check_input_count(input.size(), batch, length, input_features());
    const std::shared_ptr<PreparedForward> fw = prepare(batch, length, full_sequence);
    std::vector<float> out(fw->output_values());
    ForwardRequest request;
    request.batch = batch;
    request.length = length;
    request.full_sequence = full_sequence;
    request.input = input;
    request.output = out;
    std::unique_lock<std::mutex> hold;
    const auto submission = submit_forward(context(), fw, request, input_features(), check_finite, &hold);
    submission->finish(forward_timeout_ns(context(), *submission));
    return out;
}

}  // namespace hyenavk::model
