// The catalogue, part 2: inputs a caller gets wrong (non-finite values, empty or mis-sized shapes, stream
// misuse, corrupt saved states, malformed .npy files, bad C arguments). Each is refused with an error naming
// the problem; the model keeps working afterwards and nothing is leaked.
#include <cmath>
#include <vector>

#include "bad_input/catalogue.hpp"
#include "hyenavk/hyenavk.h"
#include "hyenavk/npy.hpp"
#include "hyenavk/stream.hpp"
#include "support/gpu_fixture.hpp"
#include "support/temp_path.hpp"

namespace hyenavk::test {
namespace {

// .npy bytes: a v1.0 preamble, `header` padded to 64 bytes, then `data_bytes` zero bytes.
std::vector<uint8_t> npy_bytes(const std::string& header, size_t data_bytes) {
    std::string text = header;
    text.append((64 - (10 + text.size() + 1) % 64) % 64, ' ');
    text.push_back('\n');
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes.push_back(static_cast<char>(text.size() & 0xff));
    bytes.push_back(static_cast<char>(text.size() >> 8));
    bytes += text;
    bytes.append(data_bytes, '\0');
    return {bytes.begin(), bytes.end()};
}

}  // namespace

TEST_SUITE_BEGIN("bad_input");

TEST_CASE("bad forward inputs: non-finite values, empty and mis-sized shapes") {
    OwnContext ctx;
    TempPath file("inputs-model.safetensors");
    ModelParts::tiny().write(file.str());
    Model model = Model::load(*ctx, file.str());
    const uint32_t L = kTinyWindow;

    std::vector<float> x = tiny_frames(2 * L);
    x[(1 * L + 2) * kTinyFeatures + 3] = NAN;
    expect_error(ErrorCode::InvalidArgument, "NaN at [1, 2, 3]", [&] { model.forward(x, 2, L); });
    x[(1 * L + 2) * kTinyFeatures + 3] = 0.5f;
    x[(0 * L + 4) * kTinyFeatures + 0] = -INFINITY;
    expect_error(ErrorCode::InvalidArgument, "Inf at [0, 4, 0]", [&] { model.forward(x, 2, L); });

    expect_error(ErrorCode::InvalidArgument, "batch and length must be >= 1 (got B = 1, L = 0)", [&] { model.forward({}, 1, 0); });
    expect_error(ErrorCode::InvalidArgument, "batch and length must be >= 1 (got B = 0", [&] { model.forward({}, 0, L); });
    // One feature too few per step: the count no longer matches [batch, length, features].
    const std::vector<float> short_rows(2 * L * (kTinyFeatures - 1), 0.5f);
    expect_error(ErrorCode::InvalidArgument, "needs", [&] { model.forward(short_rows, 2, L); });
    expect_error(ErrorCode::InvalidArgument, "needs", [&] { model.forward(tiny_frames(2 * L + 1), 2, L); });

    ForwardRequest request;
    request.length = L;
    std::vector<float> out(kTinyOutputs);
    request.output = out;
    expect_error(ErrorCode::InvalidArgument, "input", [&] { model.submit(request); });
    const std::vector<float> one = tiny_frames(L);
    request.input = one;
    request.output = std::span<float>(out).first(kTinyOutputs - 1);
    expect_error(ErrorCode::InvalidArgument, "output", [&] { model.submit(request); });

    // The model goes on, and skipping the check lets a NaN through instead of refusing it.
    CHECK(model.forward(one, 1, L).size() == kTinyOutputs);
    LoadOptions unchecked;
    unchecked.check_finite = false;
    Model lenient = Model::load(*ctx, file.str(), unchecked);
    std::vector<float> poisoned = tiny_frames(L);
    poisoned[kTinyFeatures * (L - 1)] = NAN;
    const std::vector<float> y = lenient.forward(poisoned, 1, L);
    CHECK(std::isnan(y[0]));
}

TEST_CASE("bad stream use: sizes, indices, non-finite frames and corrupt saved states") {
    OwnContext ctx;
    TempPath file("streams-model.safetensors");
    ModelParts::tiny().write(file.str());
    Model model = Model::load(*ctx, file.str());

    StreamOptions none;
    none.streams = 0;
    expect_error(ErrorCode::InvalidArgument, "at least one stream", [&] { StreamSet::create(model, none); });
    StreamOptions two;
    two.streams = 2;
    StreamSet set = StreamSet::create(model, two);
    expect_error(ErrorCode::InvalidArgument, "a push takes [streams, features] = [2, 4] values, not 4",
                 [&] { set.push(tiny_frames(1)); });
    std::vector<float> pushed = tiny_frames(2);
    pushed[kTinyFeatures + 1] = NAN;
    expect_error(ErrorCode::InvalidArgument, "frames hold NaN at [stream 1, feature 1]", [&] { set.push(pushed); });
    expect_error(ErrorCode::InvalidArgument, "stream 2", [&] { set.reset(2); });
    expect_error(ErrorCode::InvalidArgument, "stream 7", [&] { set.save(7); });

    CHECK(set.push(tiny_frames(2)).size() == 2 * kTinyOutputs);
    const std::vector<uint8_t> state = set.save(0);
    expect_error(ErrorCode::Format, "", [&] { set.restore(1, std::span(state).first(state.size() - 1)); });
    std::vector<uint8_t> flipped = state;
    flipped[0] ^= 0xff;
    expect_error(ErrorCode::Format, "", [&] { set.restore(1, flipped); });
    expect_error(ErrorCode::InvalidArgument, "stream 2", [&] { set.restore(2, state); });

    // A state of another model's shape does not fit this one.
    TempPath other_file("streams-other.safetensors");
    write_random_model(other_file.str(),
                       R"({"arch": "striped_hyena", "embed_dim": 4, "hidden_size": 16, "num_layers": 1, "window_size": 6})", 2);
    Model other = Model::load(*ctx, other_file.str());
    StreamSet other_set = StreamSet::create(other);
    other_set.push(tiny_frames(1));
    const std::vector<uint8_t> foreign = other_set.save(0);
    expect_error(ErrorCode::Format, "", [&] { set.restore(0, foreign); });

    // Architectures and precisions streams do not cover are refused by name.
    TempPath operator_file("streams-operator.safetensors");
    write_random_model(operator_file.str(), R"({"arch": "hyena_operator", "d_model": 4, "l_max": 8})", 3);
    Model op = Model::load(*ctx, operator_file.str());
    expect_error(ErrorCode::Unsupported, "striped_hyena", [&] { StreamSet::create(op); });

    // The set still works after every refusal.
    set.restore(1, state);
    CHECK(set.steps(1) == 1);
    CHECK(set.push(tiny_frames(2)).size() == 2 * kTinyOutputs);
}

TEST_CASE("bad .npy inputs: truncated, foreign byte order or layout, unknown dtypes, huge shapes") {
    TempPath file("bad.npy");
    const std::string path = file.str();
    const auto expect_npy_error = [&](const std::vector<uint8_t>& bytes, const std::string& named) {
        write_bytes(path, bytes);
        expect_error(ErrorCode::Format, named, [&] { read_npy(path); });
    };
    const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const std::vector<uint8_t> good = npy_bytes(f4, 24);
    write_bytes(path, good);
    CHECK(read_npy(path).f32.size() == 6);

    expect_npy_error({good.begin(), good.end() - 1}, "needs 24 bytes of data, but the file holds 23");
    expect_npy_error({good.begin(), good.begin() + 7}, "preamble");
    expect_npy_error({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}, "not a .npy file");
    expect_npy_error(npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24), "big-endian");
    expect_npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), "Fortran-order");
    expect_npy_error(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", 6), "unsupported dtype '|u1'");
    expect_npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", 24),
                     "needs 4000000000000 bytes of data");
    expect_npy_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (6,), }", 24),
                     "shape");
    expect_npy_error(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", 24), "fortran_order");
    expect_error(ErrorCode::NotFound, "no-such.npy", [&] { read_npy(path + "no-such.npy"); });
}

TEST_CASE("bad C arguments: NULL handles and pointers, wrong counts, wrong struct sizes") {
    hyenavk_context c = counted_c_context();
    TempPath file("c-model.safetensors");
    ModelParts::tiny().write(file.str());
    const auto expect_status = [](hyenavk_status got, hyenavk_status want, const std::string& named) {
        CHECK(got == want);
        CHECK_MESSAGE(std::string(hyenavk_last_error_message()).find(named) != std::string::npos,
                      hyenavk_last_error_message());
    };
    hyenavk_model m = nullptr;
    expect_status(hyenavk_model_load(nullptr, file.str().c_str(), nullptr, &m), HYENAVK_ERROR_INVALID_ARGUMENT, "NULL");
    expect_status(hyenavk_model_load(c, nullptr, nullptr, &m), HYENAVK_ERROR_INVALID_ARGUMENT, "NULL");
    expect_status(hyenavk_model_load(c, (file.str() + ".none").c_str(), nullptr, &m), HYENAVK_ERROR_NOT_FOUND, ".none");
    hyenavk_load_options load;
    hyenavk_load_options_init(&load);
    load.struct_size = 2;
    expect_status(hyenavk_model_load(c, file.str().c_str(), &load, &m), HYENAVK_ERROR_INVALID_ARGUMENT, "struct_size");
    REQUIRE(hyenavk_model_load(c, file.str().c_str(), nullptr, &m) == HYENAVK_OK);

    const std::vector<float> x = tiny_frames(kTinyWindow);
    std::vector<float> y(kTinyOutputs);
    expect_status(hyenavk_model_forward(m, nullptr, x.size(), 1, kTinyWindow, 0, y.data(), y.size()),
                  HYENAVK_ERROR_INVALID_ARGUMENT, "input");
    expect_status(hyenavk_model_forward(m, x.data(), x.size() - 1, 1, kTinyWindow, 0, y.data(), y.size()),
                  HYENAVK_ERROR_INVALID_ARGUMENT, "needs");
    expect_status(hyenavk_model_forward(m, x.data(), x.size(), 1, kTinyWindow, 0, y.data(), y.size() - 1),
                  HYENAVK_ERROR_INVALID_ARGUMENT, "output");
    CHECK(hyenavk_model_forward(m, x.data(), x.size(), 1, kTinyWindow, 0, y.data(), y.size()) == HYENAVK_OK);
    hyenavk_model_destroy(m);
    destroy_counted_c_context(c);
}

TEST_SUITE_END();

}  // namespace hyenavk::test
