#include "hyenavk/model.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "core/sizes.hpp"
#include "io/json.hpp"
#include "io/safetensors.hpp"
#include "model/config.hpp"
#include "model/forward_submission.hpp"
#include "model/host_weights.hpp"
#include "model/hyena_operator_gpu.hpp"
#include "model/hyena_operator_tensors.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_tensors.hpp"

namespace hyenavk {
namespace detail {

// A model's device state plus what makes it usable from several threads: the build lock (one plan built at
// a time), the shapes ready to submit without it, the forwards still on the device, and a worker thread
// for prepare_async.
class ModelImpl {
public:
    using Shape = std::tuple<uint32_t, uint32_t, bool>;

    ~ModelImpl() {
        {
            std::lock_guard<std::mutex> lock(work_mutex);
            stopping = true;
        }
        work_ready.notify_all();
        if (worker.joinable()) worker.join();
        // The device must be done with every forward before the plans and tensors go.
        std::deque<std::shared_ptr<Submission>> pending;
        {
            std::lock_guard<std::mutex> lock(state_mutex);
            pending.swap(in_flight);
        }
        for (auto& s : pending) try {
                s->finish(model::forward_timeout_ns(net->context(), *s));
            } catch (const Error&) {
                // A lost device, or a forward still waiting for a host semaphore nobody signalled: what it
                // uses is left to the device's destruction rather than freed under it.
                net->context().device->abandon_work();
            }
    }

    Shape key(uint32_t batch, uint32_t length, bool full) const {
        return {batch, length, full || !net->has_last_step_output()};
    }

    // The prepared forward of a shape: from the ready map without the build lock, else built under it.
    std::shared_ptr<model::PreparedForward> prepared(uint32_t batch, uint32_t length, bool full) {
        const Shape k = key(batch, length, full);
        {
            std::lock_guard<std::mutex> lock(state_mutex);
            auto it = ready.find(k);
            if (it != ready.end()) {
                if (auto fw = it->second.lock()) {
                    fw->last_used = model::next_use_stamp();
                    return fw;
                }
                ready.erase(it);  // evicted by a later build
            }
        }
        std::lock_guard<std::mutex> build(build_mutex);
        auto fw = net->prepare(batch, length, std::get<2>(k));
        std::lock_guard<std::mutex> lock(state_mutex);
        ready[k] = fw;
        return fw;
    }

    bool is_ready(uint32_t batch, uint32_t length, bool full) {
        std::lock_guard<std::mutex> lock(state_mutex);
        auto it = ready.find(key(batch, length, full));
        return it != ready.end() && !it->second.expired();
    }

    // `hold` as for model::submit_forward.
    std::shared_ptr<Submission> submit(const ForwardRequest& request, std::unique_lock<std::mutex>* hold = nullptr) {
        net->validate_shape(request.batch, request.length);
        if (!request.input.empty())
            model::check_input_count(request.input.size(), request.batch, request.length, net->input_features());
        auto fw = prepared(request.batch, request.length, request.full_sequence);
        auto submission =
            model::submit_forward(net->context(), fw, request, net->input_features(), check_finite, hold);
        std::lock_guard<std::mutex> lock(state_mutex);
        // Finished forwards are retired in submission order; a long tail is waited for so it stays bounded.
        while (!in_flight.empty() && (in_flight.front()->ready() || in_flight.size() >= kMaxInFlight)) {
            const auto oldest = in_flight.front();
            oldest->finish(model::forward_timeout_ns(net->context(), *oldest));
            in_flight.pop_front();
        }
        in_flight.push_back(submission);
        return submission;
    }

    void wait_idle() {
        std::deque<std::shared_ptr<Submission>> pending;
        {
            std::lock_guard<std::mutex> lock(state_mutex);
            pending.swap(in_flight);
        }
        for (auto& s : pending) s->finish(model::forward_timeout_ns(net->context(), *s));
    }

    std::future<void> prepare_async(uint32_t batch, uint32_t length, bool full) {
        std::promise<void> promise;
        std::future<void> result = promise.get_future();
        {
            std::lock_guard<std::mutex> lock(work_mutex);
            tasks.push_back({key(batch, length, full), std::move(promise)});
            if (!worker.joinable()) worker = std::thread([this] { work(); });
        }
        work_ready.notify_one();
        return result;
    }

    std::string arch;
    bool check_finite = true;
    std::unique_ptr<model::Architecture> net;

private:
    static constexpr size_t kMaxInFlight = 16;

    void work() {
        for (;;) {
            std::pair<Shape, std::promise<void>> task;
            {
                std::unique_lock<std::mutex> lock(work_mutex);
                work_ready.wait(lock, [this] { return stopping || !tasks.empty(); });
                if (stopping) {
                    for (auto& t : tasks)
                        t.second.set_exception(std::make_exception_ptr(
                            Error(ErrorCode::InvalidArgument, "the model was destroyed before the shape was prepared")));
                    tasks.clear();
                    return;
                }
                task = std::move(tasks.front());
                tasks.pop_front();
            }
            try {
                const auto& [b, l, f] = task.first;
                prepared(b, l, f);
                task.second.set_value();
            } catch (...) {
                task.second.set_exception(std::current_exception());
            }
        }
    }

    std::mutex build_mutex;
    std::mutex state_mutex;
    std::map<Shape, std::weak_ptr<model::PreparedForward>> ready;
    std::deque<std::shared_ptr<Submission>> in_flight;

    std::mutex work_mutex;
    std::condition_variable work_ready;
    std::deque<std::pair<Shape, std::promise<void>>> tasks;
    bool stopping = false;
    std::thread worker;
};

}  // namespace detail

namespace {

nlohmann::json file_config(const io::SafetensorsFile& file) {
    auto it = file.metadata().find("config");
    if (it == file.metadata().end()) return nlohmann::json::object();
    return io::parse_json_object(it->second, file.path() + " metadata 'config'");
}

}  // namespace

const char* to_string(Precision precision) noexcept { return precision == Precision::Fp16 ? "fp16" : "fp32"; }

Completion::Completion() = default;
Completion::Completion(std::shared_ptr<detail::Submission> submission) : submission_(std::move(submission)) {}
Completion::Completion(Completion&&) noexcept = default;
Completion& Completion::operator=(Completion&& other) noexcept {
    if (this != &other) {
        if (submission_) submission_->forget_host_output();
        submission_ = std::move(other.submission_);
    }
    return *this;
}
Completion::~Completion() {
    // Nobody will read the host output any more, and its memory may go with the handle.
    if (submission_) submission_->forget_host_output();
}

bool Completion::ready() const { return submission_ && submission_->ready(); }

void Completion::wait(uint64_t timeout_ns) {
    if (!submission_) throw Error(ErrorCode::InvalidArgument, "wait on an empty Completion");
    submission_->finish(timeout_ns);
}

VkSemaphore Completion::timeline_semaphore() const {
    return submission_ && submission_->timeline_value ? submission_->ctx.device->timeline_semaphore() : VK_NULL_HANDLE;
}

uint64_t Completion::timeline_value() const { return submission_ ? submission_->timeline_value : 0; }

Model::Model(std::unique_ptr<detail::ModelImpl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(Context& context, const std::string& path, const LoadOptions& options) {
    io::SafetensorsFile file(path);
    nlohmann::json config = file_config(file);
    if (!options.config_json.empty())
        config = model::merge_config(config, io::parse_json_object(options.config_json, "--config"));
    if (config.empty())
        throw Error(ErrorCode::InvalidArgument,
                    path + " has no config in its metadata; give one with --config (LoadOptions::config_json)");
    auto impl = std::make_unique<detail::ModelImpl>();
    impl->arch = model::config_arch(config);
    impl->check_finite = options.check_finite;
    // What the model will hold is known from its config: checked against the budget and the host before the
    // weights are read.
    if (impl->arch == "hyena_operator") {
        const HyenaOperatorConfig c = model::hyena_operator_from_json(config);
        model::check_resident_need(context.impl(),
                                   model::HyenaOperatorGpu::resident_need(context.impl(), c, options.precision), path);
        const auto weights = model::HostWeights::from_file(file, model::hyena_operator_tensors(c), options.check_finite);
        impl->net = std::make_unique<model::HyenaOperatorGpu>(context.impl(), c, weights, options.precision);
    } else {
        const StripedHyenaConfig c = model::striped_hyena_from_json(config);
        model::check_resident_need(context.impl(),
                                   model::StripedHyenaGpu::resident_need(context.impl(), c, options.precision), path);
        const auto weights = model::HostWeights::from_file(file, model::striped_hyena_tensors(c), options.check_finite);
        impl->net = std::make_unique<model::StripedHyenaGpu>(context.impl(), c, weights, options.precision,
                                                             options.spectrum_cache_bytes);
    }
    return Model(std::move(impl));
}

const std::string& Model::arch() const { return impl_->arch; }
std::string Model::config_json() const { return impl_->net->config_json().dump(); }
uint64_t Model::parameter_count() const { return impl_->net->parameter_count(); }
uint32_t Model::input_features() const { return impl_->net->input_features(); }
uint32_t Model::output_features() const { return impl_->net->output_features(); }
uint32_t Model::default_length() const { return impl_->net->default_length(); }

std::vector<uint64_t> Model::output_shape(uint32_t batch, uint32_t length, bool full_sequence) const {
    if (full_sequence || !impl_->net->has_last_step_output()) return {batch, length, output_features()};
    return {batch, output_features()};
}

std::vector<float> Model::forward(std::span<const float> input, uint32_t batch, uint32_t length, bool full_sequence) {
    uint64_t count = 1;
    for (uint64_t d : output_shape(batch, length, full_sequence)) count *= d;
    std::vector<float> out(count);
    ForwardRequest request;
    request.batch = batch;
    request.length = length;
    request.full_sequence = full_sequence;
    request.input = input;
    request.output = out;
    // The shape is held until the output is read, which lets it come straight from the forward's tensors.
    std::unique_lock<std::mutex> hold;
    const auto submission = impl_->submit(request, &hold);
    submission->finish(model::forward_timeout_ns(impl_->net->context(), *submission));
    return out;
}

Completion Model::submit(const ForwardRequest& request) { return Completion(impl_->submit(request)); }

void Model::prepare(uint32_t batch, uint32_t length, bool full_sequence) {
    impl_->net->validate_shape(batch, length);
    impl_->prepared(batch, length, full_sequence);
}

std::future<void> Model::prepare_async(uint32_t batch, uint32_t length, bool full_sequence) {
    impl_->net->validate_shape(batch, length);
    return impl_->prepare_async(batch, length, full_sequence);
}

bool Model::prepared(uint32_t batch, uint32_t length, bool full_sequence) const {
    return impl_->is_ready(batch, length, full_sequence);
}

void Model::wait_idle() { impl_->wait_idle(); }

MemoryPlan Model::memory_plan(uint32_t batch, uint32_t length, bool full_sequence) const {
    return impl_->net->memory_plan(batch, length, full_sequence);
}

uint64_t Model::device_memory_bytes(uint32_t batch, uint32_t length, bool full_sequence) const {
    return impl_->net->device_bytes(batch, length, full_sequence);
}

namespace model {
Architecture& architecture_of(Model& m) { return *m.impl().net; }
bool checks_finite_inputs(const Model& m) { return m.impl().check_finite; }
std::shared_ptr<PreparedForward> prepared_forward_of(Model& m, uint32_t batch, uint32_t length, bool full) {
    m.impl().net->validate_shape(batch, length);
    return m.impl().prepared(batch, length, full);
}
}  // namespace model

namespace {

// The weights are made in host memory as fp32 before they are written: refused at once where they could
// not be held.
void check_host_room(uint64_t parameters, const std::string& path) {
    const uint64_t bytes = parameters * sizeof(float), host = gpu::host_memory_bytes();
    if (host != 0 && bytes > host)
        throw Error(ErrorCode::OutOfMemory, path + ": a model of " + std::to_string(parameters) + " parameters needs " +
                                                detail::mib(bytes) + " of host memory to generate; this host has " +
                                                detail::mib(host));
}

}  // namespace

void write_random_model(const std::string& path, const std::string& config_json, uint64_t seed) {
    const nlohmann::json config = io::parse_json_object(config_json, "config");
    const std::string arch = model::config_arch(config);
    model::HostWeights weights;
    nlohmann::json effective;
    if (arch == "hyena_operator") {
        const HyenaOperatorConfig c = model::hyena_operator_from_json(config);
        check_host_room(c.parameter_count(), path);
        weights = model::hyena_operator_random_weights(c, seed);
        effective = model::to_json(c);
    } else {
        const StripedHyenaConfig c = model::striped_hyena_from_json(config);
        check_host_room(c.parameter_count(), path);
        weights = model::HostWeights::random(model::striped_hyena_tensors(c), seed);
        effective = model::to_json(c);
    }
    std::vector<io::TensorToWrite> tensors;
    for (const auto& [name, t] : weights.all()) tensors.push_back({name, t.shape, t.data});
    io::write_safetensors(path, tensors, {{"config", effective.dump()}});
}

}  // namespace hyenavk
