#include "model/architecture.hpp"

#include "model/forward_submission.hpp"

namespace hyenavk::model {

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
