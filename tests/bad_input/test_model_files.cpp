// The catalogue, part 1: model files that are truncated, corrupt or inconsistent, loaded the way users load
// them (Model::load). Each is refused with an error naming the problem, the context goes on working, and
// nothing is leaked.
#include <cmath>
#include <filesystem>
#include <vector>

#include "bad_input/catalogue.hpp"
#include "support/temp_path.hpp"

namespace hyenavk::test {
namespace {

constexpr const char* kGamma = "final_norm.gamma";

// Loads `path` on `ctx` and expects the error.
void expect_load_error(Context& ctx, const std::string& path, ErrorCode code, const std::string& named,
                       const LoadOptions& options = {}) {
    expect_error(code, named, [&] { Model::load(ctx, path, options); });
}

}  // namespace

TEST_SUITE_BEGIN("bad_input");

TEST_CASE("bad model files: truncated, corrupt and inconsistent files are refused by name") {
    OwnContext ctx;
    TempPath file("bad-model.safetensors");
    const std::string path = file.str();
    const ModelParts good = ModelParts::tiny();
    const std::string header = good.header();
    const std::vector<uint8_t> data = good.data();

    SUBCASE("missing, empty, a directory") {
        expect_load_error(*ctx, path + ".none", ErrorCode::NotFound, ".none");
        write_bytes(path, {});
        expect_load_error(*ctx, path, ErrorCode::Format, "too short to hold the 8-byte header length");
        expect_load_error(*ctx, std::filesystem::temp_directory_path().string(), ErrorCode::Io, "not a regular file");
    }
    SUBCASE("truncated: inside the length, the header and the data") {
        good.write(path);
        const std::vector<uint8_t> whole = read_bytes(path);
        write_bytes(path, {whole.begin(), whole.begin() + 5});
        expect_load_error(*ctx, path, ErrorCode::Format, "file is 5 bytes, too short");
        write_bytes(path, {whole.begin(), whole.begin() + 8 + header.size() / 2});
        expect_load_error(*ctx, path, ErrorCode::Format, "runs past the end of the file");
        write_bytes(path, {whole.begin(), whole.end() - 1});
        expect_load_error(*ctx, path, ErrorCode::Format, "run past the end of the file");
    }
    SUBCASE("a header length of terabytes is refused before anything is allocated") {
        write_safetensors_bytes(path, header, data, uint64_t(1) << 40);
        expect_load_error(*ctx, path, ErrorCode::Format, "header length 1099511627776 exceeds the limit");
    }
    SUBCASE("a tensor that declares terabytes") {
        std::string huge = replace_once(header, R"("input_projection.kernel":{"dtype":"F32","shape":[4,8])",
                                        R"("input_projection.kernel":{"dtype":"F32","shape":[1000000,1000000])");
        write_safetensors_bytes(path, huge, data);
        expect_load_error(*ctx, path, ErrorCode::Format, "shape [1000000, 1000000] of F32 needs 4000000000000 bytes");
    }
    SUBCASE("a header that is not JSON, not an object, or nested without end") {
        write_safetensors_bytes(path, "{\"a\": [1, 2", data);
        expect_load_error(*ctx, path, ErrorCode::Format, "invalid JSON");
        write_safetensors_bytes(path, "[1, 2]", data);
        expect_load_error(*ctx, path, ErrorCode::Format, "expected a JSON object at the top level, found array");
        write_safetensors_bytes(path, "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}", data);
        expect_load_error(*ctx, path, ErrorCode::Format, "nested deeper than 64 levels");
    }
    SUBCASE("duplicate keys: a tensor, a metadata entry, a config key") {
        // JSON parsers disagree on which of two equal keys wins; a file must not say two things at once.
        const std::string first = header.substr(1, header.find("},"));  // "name":{...} of the first tensor
        write_safetensors_bytes(path, "{" + first + "," + header.substr(1), data);
        expect_load_error(*ctx, path, ErrorCode::Format, "duplicate key 'final_norm.beta'");
        write_safetensors_bytes(path, replace_once(header, R"("__metadata__":{)", R"("__metadata__":{"x":"1","x":"2",)"),
                                data);
        expect_load_error(*ctx, path, ErrorCode::Format, "duplicate key 'x' in '__metadata__'");
        ModelParts twice = good;
        twice.config = replace_once(twice.config, R"("embed_dim": 4)", R"("embed_dim": 4, "embed_dim": 5)");
        twice.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "duplicate key 'embed_dim'");
    }
    SUBCASE("offsets that overlap, run backwards or past the end") {
        const std::string beta = R"("final_norm.beta":{"dtype":"F32","shape":[8],"data_offsets":[0,32]})";
        write_safetensors_bytes(
            path, replace_once(header, beta, R"("final_norm.beta":{"dtype":"F32","shape":[8],"data_offsets":[16,48]})"),
            data);
        expect_load_error(*ctx, path, ErrorCode::Format, "overlap");
        write_safetensors_bytes(
            path, replace_once(header, beta, R"("final_norm.beta":{"dtype":"F32","shape":[8],"data_offsets":[32,0]})"),
            data);
        expect_load_error(*ctx, path, ErrorCode::Format, "end before they begin");
        const std::string past_end = R"("final_norm.beta":{"dtype":"F32","shape":[8],"data_offsets":[)" +
                                     std::to_string(data.size()) + "," + std::to_string(data.size() + 32) + "]}";
        write_safetensors_bytes(path, replace_once(header, beta, past_end), data);
        expect_load_error(*ctx, path, ErrorCode::Format, "run past the end of the file");
        write_safetensors_bytes(
            path, replace_once(header, beta, R"("final_norm.beta":{"dtype":"F32","shape":[8],"data_offsets":[0,28]})"),
            data);
        expect_load_error(*ctx, path, ErrorCode::Format, "needs 32 bytes, but data_offsets [0, 28] hold 28");
    }
    SUBCASE("wrong dtypes: unknown, and known but not float") {
        const std::string dtype = R"("final_norm.beta":{"dtype":"F32")";
        write_safetensors_bytes(path, replace_once(header, dtype, R"("final_norm.beta":{"dtype":"F33")"), data);
        expect_load_error(*ctx, path, ErrorCode::Format, "unknown dtype 'F33'");
        ModelParts ints = good;
        ints.tensor("final_norm.beta").dtype = "I32";
        ints.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "'final_norm.beta' has dtype I32, which cannot be read as float");
    }
    SUBCASE("wrong shapes, missing and unexpected tensors") {
        ModelParts reshaped = good;
        reshaped.tensor(kGamma).shape = {2, 4};
        reshaped.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "expected [8]");
        ModelParts missing = good;
        missing.tensors.erase(missing.tensors.begin());
        missing.write(path);
        expect_load_error(*ctx, path, ErrorCode::NotFound, "missing tensor 'final_norm.beta'");
        ModelParts extra = good;
        extra.tensors.push_back({"stray.weight", "F32", {1}, std::vector<uint8_t>(4)});
        extra.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "unexpected tensor 'stray.weight'");
    }
    SUBCASE("configs: none, an unknown key, a bad value, an unknown arch") {
        ModelParts none = good;
        none.config.clear();
        none.write(path);
        expect_load_error(*ctx, path, ErrorCode::InvalidArgument, "has no config in its metadata");
        ModelParts edited = good;
        edited.config = replace_once(good.config, R"("embed_dim": 4)", R"("embed_dim": 4, "colour": 3)");
        edited.write(path);
        expect_load_error(*ctx, path, ErrorCode::InvalidArgument, "unknown key 'colour'");
        edited.config = replace_once(good.config, R"("num_layers": 2)", R"("num_layers": -2)");
        edited.write(path);
        expect_load_error(*ctx, path, ErrorCode::InvalidArgument, "'num_layers' must not be negative");
        edited.config = replace_once(good.config, R"("striped_hyena")", R"("transformer")");
        edited.write(path);
        expect_load_error(*ctx, path, ErrorCode::Unsupported, "arch 'transformer' is not supported");
        edited.config = "{\"embed_dim\": ";
        edited.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "invalid JSON");
        LoadOptions override_options;
        override_options.config_json = R"({"hidden_size": 0})";
        good.write(path);
        expect_load_error(*ctx, path, ErrorCode::InvalidArgument, "hidden_size must be >= 1", override_options);
    }
    SUBCASE("NaN and Inf in the weights, with the position of the first one; the check can be skipped") {
        ModelParts poisoned = good;
        poisoned.tensor(kGamma).set_f32(5, NAN);
        poisoned.tensor(kGamma).set_f32(6, INFINITY);
        poisoned.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "'final_norm.gamma' holds NaN at flat index 5");
        ModelParts infinite = good;
        infinite.tensor("input_projection.kernel").set_f32(9, -INFINITY);
        infinite.write(path);
        expect_load_error(*ctx, path, ErrorCode::Format, "'input_projection.kernel' holds Inf at flat index 9");
        LoadOptions unchecked;
        unchecked.check_finite = false;
        poisoned.write(path);
        CHECK_NOTHROW(Model::load(*ctx, path, unchecked));
    }

    // The process and the context go on: a good file loads and runs after every failure above.
    good.write(path);
    Model model = Model::load(*ctx, path);
    const std::vector<float> out = model.forward(std::vector<float>(kTinyWindow * kTinyFeatures, 0.25f), 1, kTinyWindow);
    CHECK(out.size() == kTinyOutputs);
    for (float v : out) CHECK(std::isfinite(v));
}

TEST_SUITE_END();

}  // namespace hyenavk::test
