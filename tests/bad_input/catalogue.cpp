#include "bad_input/catalogue.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "support/gpu_fixture.hpp"
#include "support/temp_path.hpp"

namespace hyenavk::test {

const char* const kTinyConfig =
    R"({"arch": "striped_hyena", "embed_dim": 4, "hidden_size": 8, "num_layers": 2, "window_size": 6, "filter_size": 3})";

void expect_error(ErrorCode code, const std::string& named, const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_MESSAGE(e.code() == code, "expected a " << std::string(to_string(code)) << " error, got "
                                                      << std::string(to_string(e.code()))
                                                      << ": " << message);
        CHECK_MESSAGE(message.find(named) != std::string::npos,
                      "the message does not name '" << named << "': " << message);
        return;
    }
    FAIL("no error; expected " << std::string(to_string(code)) << " naming '" << named << "'");
}

OwnContext::OwnContext(ContextOptions options) {
    options.validation = true;
    options.log = counting_log();
    options.disk_cache = false;
    context_ = std::make_unique<Context>(Context::create(options));
}

OwnContext::~OwnContext() { destroy(); }

void OwnContext::destroy() {
    if (!context_) return;
    const uint64_t before = validation_messages().load();
    context_.reset();
    CHECK_MESSAGE(validation_messages().load() == before,
                  "the validation layer reported at device destruction (leaked Vulkan objects)");
}

hyenavk_context counted_c_context() {
    hyenavk_context_options options;
    hyenavk_context_options_init(&options);
    options.validation = 1;
    options.disk_cache = 0;
    options.log = [](void*, hyenavk_log_level level, const char* message) {
        if (level >= HYENAVK_LOG_WARNING) counting_log()(LogLevel::Warning, message);
    };
    hyenavk_context context = nullptr;
    REQUIRE(hyenavk_context_create(&options, &context) == HYENAVK_OK);
    return context;
}

void destroy_counted_c_context(hyenavk_context context) {
    const uint64_t before = validation_messages().load();
    hyenavk_context_destroy(context);
    CHECK_MESSAGE(validation_messages().load() == before,
                  "the validation layer reported at device destruction (leaked Vulkan objects)");
}

void TensorPart::set_f32(uint64_t index, float value) {
    REQUIRE(dtype == "F32");
    REQUIRE((index + 1) * sizeof value <= bytes.size());
    std::memcpy(bytes.data() + index * sizeof value, &value, sizeof value);
}

ModelParts ModelParts::tiny(uint64_t seed) {
    TempPath path("tiny-parts.safetensors");
    write_random_model(path.str(), kTinyConfig, seed);
    const io::SafetensorsFile file(path.str());
    ModelParts parts;
    for (const std::string& name : file.names()) {
        TensorPart t;
        t.name = name;
        t.shape = file.info(name).shape;
        const std::vector<float> values = file.read_f32(name);
        t.bytes.resize(values.size() * sizeof(float));
        if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
        parts.tensors.push_back(std::move(t));
    }
    return parts;
}

TensorPart& ModelParts::tensor(const std::string& name) {
    for (TensorPart& t : tensors)
        if (t.name == name) return t;
    FAIL("the tiny model has no tensor " << name);
    throw;  // unreachable: FAIL throws
}

std::string ModelParts::header() const {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    uint64_t offset = 0;
    for (const TensorPart& t : tensors) {
        header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    if (!config.empty()) header["__metadata__"] = {{"config", config}};
    return header.dump();
}

std::vector<uint8_t> ModelParts::data() const {
    std::vector<uint8_t> bytes;
    for (const TensorPart& t : tensors) bytes.insert(bytes.end(), t.bytes.begin(), t.bytes.end());
    return bytes;
}

void ModelParts::write(const std::string& path) const { write_safetensors_bytes(path, header(), data()); }

void write_safetensors_bytes(const std::string& path, const std::string& header, const std::vector<uint8_t>& data,
                             std::optional<uint64_t> declared_length) {
    std::vector<uint8_t> bytes(8);
    const uint64_t length = declared_length.value_or(header.size());
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(length >> (8 * i));
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.insert(bytes.end(), data.begin(), data.end());
    write_bytes(path, bytes);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "'" << from << "' not found in " << text);
    REQUIRE_MESSAGE(text.find(from, at + 1) == std::string::npos, "'" << from << "' found twice in " << text);
    return text.replace(at, from.size(), to);
}

}  // namespace hyenavk::test
