// Shared by the bad-input catalogue: the expectation every case makes (an Error of the right code whose
// message names the problem), contexts of their own whose leaks the validation layer would report, and valid
// model files taken apart so that a case can break one thing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "hyenavk/hyenavk.h"
#include "hyenavk/hyenavk.hpp"
#include "hyenavk/model.hpp"

namespace hyenavk::test {

// `call` must throw Error with `code` and a message containing `named`.
void expect_error(ErrorCode code, const std::string& named, const std::function<void()>& call);

// A validated context for one family of cases. When it goes, the device is destroyed and the validation layer
// reports every Vulkan object still alive; the destructor fails the test if any message appeared.
class OwnContext {
public:
    explicit OwnContext(ContextOptions options = {});
    ~OwnContext();
    Context& operator*() { return *context_; }
    Context* operator->() { return context_.get(); }
    // Ends the context now, with the same check.
    void destroy();

private:
    std::unique_ptr<Context> context_;
};

// The same through the C API: a validated context whose messages are counted with the tests' own, and its
// destruction with the same check.
hyenavk_context counted_c_context();
void destroy_counted_c_context(hyenavk_context context);

// The small striped_hyena config the catalogue's files use, as JSON.
extern const char* const kTinyConfig;
constexpr uint32_t kTinyFeatures = 4, kTinyOutputs = 8, kTinyWindow = 6;
// `count` input steps of the tiny model, every value `value`.
inline std::vector<float> tiny_frames(size_t count, float value = 0.5f) {
    return std::vector<float>(count * kTinyFeatures, value);
}

struct TensorPart {
    std::string name;
    std::string dtype = "F32";
    std::vector<uint64_t> shape;
    std::vector<uint8_t> bytes;
    // Element `index` as an F32 value, for cases that poison one weight.
    void set_f32(uint64_t index, float value);
};

struct ModelParts {
    std::string config = kTinyConfig;  // the metadata's "config" entry; empty: none
    std::vector<TensorPart> tensors;

    // A valid file of kTinyConfig, from hyenavk's own writer.
    static ModelParts tiny(uint64_t seed = 1);
    TensorPart& tensor(const std::string& name);
    // The safetensors header, tensors back to back in the order held.
    std::string header() const;
    std::vector<uint8_t> data() const;
    // The whole file.
    void write(const std::string& path) const;
};

// A safetensors file from its parts; `declared_length` overrides the 8-byte header length.
void write_safetensors_bytes(const std::string& path, const std::string& header, const std::vector<uint8_t>& data,
                             std::optional<uint64_t> declared_length = std::nullopt);
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// `text` with its only occurrence of `from` replaced (fails the test when it is not found exactly once).
std::string replace_once(std::string text, const std::string& from, const std::string& to);

}  // namespace hyenavk::test
