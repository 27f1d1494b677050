// The public StreamSet over the device's incremental stream (model/striped_hyena_stream_gpu).
#include "hyenavk/stream.hpp"


#include "model/architecture.hpp"
#include "model/non_finite.hpp"
#include "model/striped_hyena_gpu.hpp"
#include "model/striped_hyena_stream_gpu.hpp"

namespace hyenavk {
namespace detail {

class StreamSetImpl {
public:
    StreamSetImpl(model::StripedHyenaGpu& net, uint32_t streams, uint32_t window, bool refuse_non_finite,
                  const std::function<std::shared_ptr<model::PreparedForward>(uint32_t, uint32_t)>& prepare)
        : stream(net, streams, window, prepare), check_finite(refuse_non_finite) {}
    model::StripedHyenaStreamGpu stream;
    bool check_finite;
};

}  // namespace detail

StreamSet::StreamSet(std::unique_ptr<detail::StreamSetImpl> impl) : impl_(std::move(impl)) {}
StreamSet::StreamSet(StreamSet&&) noexcept = default;
StreamSet& StreamSet::operator=(StreamSet&&) noexcept = default;
StreamSet::~StreamSet() = default;

StreamSet StreamSet::create(Model& model, const StreamOptions& options) {
    auto* net = dynamic_cast<model::StripedHyenaGpu*>(&model::architecture_of(model));
    if (!net)
        throw Error(ErrorCode::Unsupported, "streaming is for striped_hyena models; this one is " + model.arch());
    if (options.mode != StreamMode::Incremental && options.mode != StreamMode::Windowed)
        throw Error(ErrorCode::InvalidArgument, "unknown stream mode " + std::to_string(int(options.mode)));
    const uint32_t window =
        options.mode == StreamMode::Windowed ? (options.window ? options.window : model.default_length()) : 0;
    auto prepare = [&model](uint32_t batch, uint32_t length) {
        return model::prepared_forward_of(model, batch, length, false);
    };
    return StreamSet(std::make_unique<detail::StreamSetImpl>(*net, options.streams, window,
                                                             model::checks_finite_inputs(model), prepare));
}

uint32_t StreamSet::streams() const { return impl_->stream.streams(); }
uint64_t StreamSet::steps(uint32_t stream) const { return impl_->stream.steps(stream); }
std::vector<float> StreamSet::push(std::span<const float> frames) {
    // As for a forward's input: one NaN would poison the stream's caches for good.
    const uint32_t features = impl_->stream.input_features();
    if (impl_->check_finite && frames.size() == uint64_t(streams()) * features)
        if (const auto bad = model::first_non_finite(frames))
            throw Error(ErrorCode::InvalidArgument, std::string("frames hold ") + bad->kind + " at [stream " +
                                                        std::to_string(bad->index / features) + ", feature " +
                                                        std::to_string(bad->index % features) +
                                                        "] (LoadOptions::check_finite = false skips this check)");
    return impl_->stream.push(frames);
}
void StreamSet::reset(uint32_t stream) { impl_->stream.reset(stream); }
void StreamSet::reset_all() { impl_->stream.reset(); }
std::vector<uint8_t> StreamSet::save(uint32_t stream) const { return impl_->stream.save(stream); }
void StreamSet::restore(uint32_t stream, std::span<const uint8_t> state) { impl_->stream.restore(stream, state); }

}  // namespace hyenavk
