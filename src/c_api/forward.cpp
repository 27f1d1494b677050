// Asynchronous forwards through the C ABI: requests, completions and prepared shapes.
#include <span>

#include "c_api/guard.hpp"
#include "hyenavk/model.hpp"

using namespace hyenavk;
using namespace hyenavk::c_api;

namespace {


ForwardRequest to_request(const hyenavk_forward_request& r) {
    require(r.input != nullptr || r.input_count == 0, "hyenavk_forward_request: input is NULL but input_count is " +
                                                           std::to_string(r.input_count));
    require(r.output != nullptr || r.output_count == 0,
            "hyenavk_forward_request: output is NULL but output_count is " + std::to_string(r.output_count));
    ForwardRequest out;
    out.batch = r.batch;
    out.length = r.length;
    out.full_sequence = r.full_sequence != 0;
    if (r.input) out.input = std::span<const float>(r.input, r.input_count);
    out.input_buffer = {r.input_buffer, r.input_offset};
    if (r.output) out.output = std::span<float>(r.output, r.output_count);
    out.output_buffer = {r.output_buffer, r.output_offset};
    out.wait = {r.wait_semaphore, r.wait_value};
    out.signal = {r.signal_semaphore, r.signal_value};
    return out;
}

}  // namespace

extern "C" {

void hyenavk_forward_request_init(hyenavk_forward_request* request) {
    if (!request) return;
    *request = hyenavk_forward_request{};
    request->struct_size = sizeof *request;
    request->batch = 1;
}

hyenavk_status hyenavk_model_submit(hyenavk_model model, const hyenavk_forward_request* request,
                                    hyenavk_completion* completion) {
    return guard([&] {
        if (completion) *completion = nullptr;
        require_handle(model, "hyenavk_model_submit", "model");
        require(request != nullptr, "hyenavk_model_submit: request is NULL");
        hyenavk_forward_request defaults;
        hyenavk_forward_request_init(&defaults);
        const hyenavk_forward_request r = read_struct(request, defaults, "hyenavk_forward_request");
        const ForwardRequest forward = to_request(r);
        require(completion != nullptr || r.output == nullptr,
                "hyenavk_model_submit: a host output is written when its completion is waited for; pass a completion");
        // The handle is made first, so that a failing allocation cannot lose a submitted forward.
        auto handle = completion ? std::make_unique<hyenavk_completion_t>() : nullptr;
        Completion submitted = model->model.submit(forward);
        if (completion) {
            handle->completion = std::move(submitted);
            *completion = handle.release();
        }
    });
}

int hyenavk_completion_ready(hyenavk_completion completion) {
    return completion && completion->completion.ready() ? 1 : 0;
}

hyenavk_status hyenavk_completion_wait(hyenavk_completion completion, uint64_t timeout_ns) {
    return guard([&] {
        require(completion != nullptr, "hyenavk_completion_wait: completion is NULL");
        completion->completion.wait(timeout_ns);
    });
}

hyenavk_status hyenavk_completion_timeline(hyenavk_completion completion, VkSemaphore* semaphore, uint64_t* value) {
    return guard([&] {
        require(completion != nullptr, "hyenavk_completion_timeline: completion is NULL");
        require(semaphore != nullptr && value != nullptr, "hyenavk_completion_timeline: semaphore or value is NULL");
        *semaphore = completion->completion.timeline_semaphore();
        *value = completion->completion.timeline_value();
    });
}

void hyenavk_completion_destroy(hyenavk_completion completion) { delete completion; }

hyenavk_status hyenavk_model_prepare(hyenavk_model model, uint32_t batch, uint32_t length, uint32_t full_sequence) {
    return guard([&] {
        require_handle(model, "hyenavk_model_prepare", "model");
        model->model.prepare(batch, length, full_sequence != 0);
    });
}

hyenavk_status hyenavk_model_prepare_async(hyenavk_model model, uint32_t batch, uint32_t length,
                                           uint32_t full_sequence) {
    return guard([&] {
        require_handle(model, "hyenavk_model_prepare_async", "model");
        // The future is dropped: a failed build is tried again, and reported, by the shape's next submit.
        (void)model->model.prepare_async(batch, length, full_sequence != 0);
    });
}

int hyenavk_model_prepared(hyenavk_model model, uint32_t batch, uint32_t length, uint32_t full_sequence) {
    if (!model) return 0;
    try {
        return model->model.prepared(batch, length, full_sequence != 0) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

hyenavk_status hyenavk_model_wait_idle(hyenavk_model model) {
    return guard([&] {
        require_handle(model, "hyenavk_model_wait_idle", "model");
        model->model.wait_idle();
    });
}

}  // extern "C"
