// File formats: safetensors, .npy and strict JSON. Round trips, the golden files the model tests rely on, and
// one malformed file per check, each of which must fail with its own message.
#include <doctest/doctest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "hyenavk/hyenavk.hpp"
#include "io/float16.hpp"
#include "io/json.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"

namespace fs = std::filesystem;
using namespace hyenavk;
using namespace hyenavk::io;

namespace {

const std::string kData = HYENAVK_TEST_DATA_DIR;

// A fresh directory under the system temp dir, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("hyenavk-test-io-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    size_t entries() const {
        return static_cast<size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
    }
};

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string le64(uint64_t value) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
    return bytes;
}

// A safetensors file from its header text and `data_bytes` zero bytes of data.
std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
    return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// A version 1.0 .npy file from its header dict and raw data.
std::string npy_bytes(const std::string& dict, const std::string& data, char major = 1) {
    std::string header = dict + "\n";
    std::string bytes = std::string("\x93NUMPY", 6) + major + '\0';
    if (major == 1) {
        bytes += static_cast<char>(header.size() & 0xff);
        bytes += static_cast<char>(header.size() >> 8);
    } else {
        for (int i = 0; i < 4; ++i) bytes += static_cast<char>(header.size() >> (8 * i));
    }
    return bytes + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& values) {
    return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Runs `action`, which must throw hyenavk::Error with `code` and a message containing `part`.
template <typename F>
void check_error(F&& action, ErrorCode code, const std::string& part) {
    try {
        action();
        FAIL("no error; expected one containing \"" << part << "\"");
    } catch (const Error& e) {
        INFO("message: " << std::string(e.what()));
        CHECK(e.code() == code);
        CHECK(std::string(e.what()).find(part) != std::string::npos);
    }
}

void check_bad_safetensors(const TempDir& dir, const std::string& bytes, const std::string& part) {
    const std::string path = dir.file("bad.safetensors");
    write_bytes(path, bytes);
    check_error([&] { SafetensorsFile file(path); }, ErrorCode::Format, part);
    check_error([&] { SafetensorsFile file(path); }, ErrorCode::Format, path + ": ");
}

void check_bad_npy(const TempDir& dir, const std::string& bytes, const std::string& part) {
    const std::string path = dir.file("bad.npy");
    write_bytes(path, bytes);
    check_error([&] { read_npy(path); }, ErrorCode::Format, part);
}

}  // namespace

TEST_SUITE_BEGIN("io");

TEST_CASE("F16 conversions match known bit patterns") {
    CHECK(f16_to_f32(0x3c00) == 1.0f);
    CHECK(f16_to_f32(0xc100) == -2.5f);
    CHECK(f16_to_f32(0x7bff) == 65504.0f);
    CHECK(f16_to_f32(0x0001) == 0x1p-24f);                              // smallest subnormal
    CHECK(f16_to_f32(0x03ff) == 1023 * 0x1p-24f);                       // largest subnormal
    CHECK(f16_to_f32(0x0400) == 0x1p-14f);                              // smallest normal
    CHECK(std::bit_cast<uint32_t>(f16_to_f32(0x8000)) == 0x80000000u);  // -0
    CHECK(f16_to_f32(0x7c00) == std::numeric_limits<float>::infinity());
    CHECK(f16_to_f32(0xfc00) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(f16_to_f32(0x7e00)));
    CHECK(std::isnan(f16_to_f32(0x7c01)));  // signalling NaN stays NaN

    CHECK(f32_to_f16(1.0f) == 0x3c00);
    CHECK(f32_to_f16(-2.5f) == 0xc100);
    CHECK(f32_to_f16(65504.0f) == 0x7bff);
    CHECK(f32_to_f16(65519.0f) == 0x7bff);
    CHECK(f32_to_f16(65520.0f) == 0x7c00);  // halfway to 65536 rounds to even: infinity
    CHECK(f32_to_f16(0x1p-24f) == 0x0001);
    CHECK(f32_to_f16(0x1p-25f) == 0x0000);  // tie between 0 and the smallest subnormal: even
    CHECK(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
    CHECK(f32_to_f16(1.5f * 0x1p-24f) == 0x0002);      // tie, rounds up to even
    CHECK(f32_to_f16(2.5f * 0x1p-24f) == 0x0002);      // tie, rounds down to even
    CHECK(f32_to_f16(1023.5f * 0x1p-24f) == 0x0400);   // rounds up into the smallest normal
    CHECK(f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);      // tie, even
    CHECK(f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02);  // tie, even
    CHECK(f32_to_f16(-0.0f) == 0x8000);
    CHECK(f32_to_f16(1e-10f) == 0x0000);
    CHECK(f32_to_f16(std::numeric_limits<float>::infinity()) == 0x7c00);
    CHECK(f32_to_f16(-std::numeric_limits<float>::infinity()) == 0xfc00);
    CHECK((f32_to_f16(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7c00);
    CHECK((f32_to_f16(std::bit_cast<float>(0x7f800001u)) & 0x7fff) > 0x7c00);  // a payload lost in the shift stays NaN

    // Every half value survives the trip through float.
    for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
        const auto h = static_cast<uint16_t>(bits);
        const float f = f16_to_f32(h);
        if (std::isnan(f)) {
            CHECK((f32_to_f16(f) & 0x7fff) > 0x7c00);
        } else if (f32_to_f16(f) != h) {
            FAIL_CHECK("half " << bits << " does not round-trip");
        }
    }
}

TEST_CASE("BF16 conversions match known bit patterns") {
    CHECK(bf16_to_f32(0x3f80) == 1.0f);
    CHECK(bf16_to_f32(0xc020) == -2.5f);
    CHECK(bf16_to_f32(0x477f) == 65280.0f);
    CHECK(bf16_to_f32(0x0001) == 0x1p-133f);  // smallest subnormal
    CHECK(bf16_to_f32(0x7f80) == std::numeric_limits<float>::infinity());
    CHECK(std::isnan(bf16_to_f32(0x7fc0)));

    CHECK(f32_to_bf16(1.0f) == 0x3f80);
    CHECK(f32_to_bf16(-2.5f) == 0xc020);
    CHECK(f32_to_bf16(65504.0f) == 0x4780);  // 65504 is not a bfloat16: nearest is 65536
    CHECK(f32_to_bf16(0x1p-133f) == 0x0001);
    CHECK(f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80);                     // tie, even
    CHECK(f32_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);                 // tie, even
    CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds to infinity
    CHECK(f32_to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
    CHECK((f32_to_bf16(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7f80);
    CHECK((f32_to_bf16(std::bit_cast<float>(0x7f800001u)) & 0x7fff) > 0x7f80);

    for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
        const auto h = static_cast<uint16_t>(bits);
        const float f = bf16_to_f32(h);
        if (std::isnan(f)) {
            CHECK((f32_to_bf16(f) & 0x7fff) > 0x7f80);
        } else if (f32_to_bf16(f) != h) {
            FAIL_CHECK("bfloat16 " << bits << " does not round-trip");
        }
    }
}

TEST_CASE("safetensors round trip in F32, F16 and BF16 with metadata") {
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    const std::vector<float> a = {1.0f, -2.5f, 0.375f, 65504.0f, 0.1f, 3.0f};
    const std::vector<float> b = {0.5f, -0.25f, 1.0f / 3.0f};
    const std::vector<float> c = {7.0f, 0.1f};
    const std::vector<float> empty;
    const std::map<std::string, std::string> metadata = {{"config", R"({"arch": "striped_hyena"})"}, {"note", "é ü"}};
    write_safetensors(path,
                      {{"layer.z", {2, 3}, a, "F32"},
                       {"layer.a", {3}, b, "F16"},
                       {"bf", {1, 2}, c, "BF16"},
                       {"nothing", {0, 4}, empty, "F32"}},
                      metadata);
    CHECK(dir.entries() == 1);  // no temporary file left behind

    std::ifstream in(path, std::ios::binary);
    unsigned char length[8];
    in.read(reinterpret_cast<char*>(length), 8);
    CHECK(length[0] % 8 == 0);  // the header is padded so that the data is 8-byte aligned

    SafetensorsFile file(path);
    CHECK(file.path() == path);
    CHECK(file.metadata() == metadata);
    CHECK(file.names() == std::vector<std::string>{"bf", "layer.a", "layer.z", "nothing"});
    CHECK(file.contains("layer.z"));
    CHECK_FALSE(file.contains("layer"));

    // Stored in name order, back to back.
    CHECK(file.info("bf").dtype == "BF16");
    CHECK(file.info("bf").begin == 0);
    CHECK(file.info("bf").end == 4);
    CHECK(file.info("layer.a").begin == 4);
    CHECK(file.info("layer.a").end == 10);
    CHECK(file.info("layer.z").begin == 10);
    CHECK(file.info("layer.z").end == 34);
    CHECK(file.info("layer.z").shape == std::vector<uint64_t>{2, 3});
    CHECK(file.info("nothing").shape == std::vector<uint64_t>{0, 4});

    CHECK(file.read_f32("layer.z") == a);
    std::vector<float> b_half;
    for (float v : b) b_half.push_back(f16_to_f32(f32_to_f16(v)));
    CHECK(file.read_f32("layer.a") == b_half);
    CHECK(file.read_f32("layer.a")[2] != b[2]);  // 1/3 is not a half: it was rounded
    CHECK(file.read_f32("bf") == std::vector<float>{7.0f, bf16_to_f32(f32_to_bf16(0.1f))});
    CHECK(file.read_f32("nothing").empty());

    std::vector<float> chunk(2);
    file.read_f32_chunk("layer.z", 3, chunk);
    CHECK(chunk == std::vector<float>{65504.0f, 0.1f});
    file.read_f32_chunk("layer.a", 1, chunk);
    CHECK(chunk == std::vector<float>{b_half[1], b_half[2]});
    check_error([&] { file.read_f32_chunk("layer.z", 5, chunk); }, ErrorCode::InvalidArgument, "holds 6");
    check_error([&] { file.info("missing.weight"); }, ErrorCode::NotFound, "'missing.weight'");
    check_error([&] { file.read_f32("missing.weight"); }, ErrorCode::NotFound, "'missing.weight'");

    // Rewriting replaces the file as a whole.
    write_safetensors(path, {{"only", {1}, std::span<const float>(a).first(1)}}, {});
    SafetensorsFile again(path);
    CHECK(again.names() == std::vector<std::string>{"only"});
    CHECK(again.metadata().empty());
    CHECK(dir.entries() == 1);
}

TEST_CASE("write_safetensors refuses bad arguments and leaves no file behind") {
    TempDir dir;
    const std::vector<float> v = {1, 2, 3};
    const std::string path = dir.file("out.safetensors");
    check_error([&] { write_safetensors(path, {{"x", {2}, v}}, {}); }, ErrorCode::InvalidArgument, "'x': shape [2]");
    check_error([&] { write_safetensors(path, {{"x", {3}, v, "F64"}}, {}); }, ErrorCode::InvalidArgument, "'F64'");
    check_error(
        [&] {
            write_safetensors(path, {{"x", {3}, v}, {"x", {3}, v}}, {});
        },
        ErrorCode::InvalidArgument, "'x' given twice");
    check_error(
        [&] {
            write_safetensors(path, {{"__metadata__", {3}, v}}, {});
        },
        ErrorCode::InvalidArgument, "invalid tensor name");
    check_error(
        [&] {
            write_safetensors(path, {{"x", {3}, v}}, {{"k", "\xff"}});
        },
        ErrorCode::InvalidArgument, "UTF-8");
    CHECK(dir.entries() == 0);

    const std::string missing_dir = dir.file("no-such-dir") + "/out.safetensors";
    check_error([&] { write_safetensors(missing_dir, {{"x", {3}, v}}, {}); }, ErrorCode::Io, missing_dir);
    CHECK(dir.entries() == 0);

    // The temporary file is written, then the rename fails (the target is a directory): it must be removed.
    fs::create_directory(dir.file("taken.safetensors"));
    check_error(
        [&] {
            write_safetensors(dir.file("taken.safetensors"), {{"x", {3}, v}}, {});
        },
        ErrorCode::Io, "cannot rename");
    CHECK(dir.entries() == 1);
    CHECK(fs::is_directory(dir.file("taken.safetensors")));
}

TEST_CASE("safetensors golden files load") {
    SafetensorsFile tiny(kData + "/edifice-golden/tiny/model.safetensors");
    CHECK(tiny.names().size() == 80);
    REQUIRE(tiny.metadata().count("config") == 1);
    const nlohmann::json config = parse_json_object(tiny.metadata().at("config"), "config");
    CHECK(config["arch"] == "striped_hyena");
    CHECK(config["embed_dim"] == 6);
    const auto& info = tiny.info("input_projection.kernel");
    CHECK(info.dtype == "F32");
    CHECK(info.shape == std::vector<uint64_t>{6, 8});
    const std::vector<float> kernel = tiny.read_f32("input_projection.kernel");
    REQUIRE(kernel.size() == 48);
    CHECK(kernel[0] == -0.3570346236228943f);
    for (const std::string& name : tiny.names()) CHECK_NOTHROW(tiny.read_f32(name));

    SafetensorsFile safari(kData + "/safari-golden/order2/model.safetensors");
    CHECK(safari.metadata().empty());
    CHECK_FALSE(safari.names().empty());
}

TEST_CASE("malformed safetensors files are refused with specific errors") {
    TempDir dir;
    const std::string entry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

    check_bad_safetensors(dir, "", "file is 0 bytes, too short");
    check_bad_safetensors(dir, "abc", "file is 3 bytes, too short");
    check_bad_safetensors(dir, le64(100) + "{}", "header length 100 runs past the end of the file (2 bytes");
    check_bad_safetensors(dir, le64(uint64_t(1) << 60) + "{}", "exceeds the limit");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x": )", 0), "invalid JSON");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x": tru})", 0), "line 1, column");
    check_bad_safetensors(dir, safetensors_bytes("[1, 2]", 0), "expected a JSON object at the top level, found array");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":)" + entry + R"(,"x":)" + entry + "}", 8),
                          "duplicate key 'x'");
    check_bad_safetensors(dir, safetensors_bytes(R"({"__metadata__":{"a":"1","a":"2"}})", 0),
                          "duplicate key 'a' in '__metadata__'");
    check_bad_safetensors(
        dir, safetensors_bytes(R"({"x":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8),
        "duplicate key 'dtype' in 'x'");
    check_bad_safetensors(dir, safetensors_bytes(R"({"__metadata__":{"a":1}})", 0),
                          "__metadata__ entry 'a' is not a string");
    check_bad_safetensors(dir, safetensors_bytes(R"({"__metadata__":[]})", 0), "__metadata__ is not an object");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"shape":[2],"data_offsets":[0,8]}})", 8),
                          "tensor 'x': missing 'dtype'");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","data_offsets":[0,8]}})", 8),
                          "tensor 'x': missing 'shape'");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2]}})", 8),
                          "tensor 'x': missing 'data_offsets'");
    check_bad_safetensors(dir,
                          safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", 8),
                          "tensor 'x': unexpected key 'extra'");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":3})", 0), "tensor 'x': entry is not an object");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8),
                          "tensor 'x': unknown dtype 'Q4'");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                          "not a non-negative integer");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8),
                          "not a non-negative integer");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                          "tensor 'x': shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8");
    check_bad_safetensors(
        dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
        "is too large");
    check_bad_safetensors(
        dir, safetensors_bytes(R"({"x.kernel":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", 300),
        "bad.safetensors: tensor 'x.kernel': data_offsets [0, 400] run past the end of the file "
        "(300 bytes of data)");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8),
                          "data_offsets [8, 4] end before they begin");
    check_bad_safetensors(dir, safetensors_bytes(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
                          "data_offsets must be [begin, end]");
    check_bad_safetensors(dir,
                          safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                            12),
                          "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
    // A long tensor hiding a short one that starts later.
    check_bad_safetensors(dir,
                          safetensors_bytes(R"({"long":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                            R"("mid":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                                            R"("late":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                            16),
                          "tensors 'long' [0, 16] and 'mid' [4, 8] overlap");

    check_error([&] { SafetensorsFile file(dir.file("missing.safetensors")); }, ErrorCode::NotFound,
                "missing.safetensors");
}

TEST_CASE("safetensors lists tensors of other dtypes but will not read them as float") {
    TempDir dir;
    const std::string path = dir.file("ints.safetensors");
    write_bytes(path, safetensors_bytes(R"({"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
                                        R"("pos":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},)"
                                        R"("empty":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}})",
                                        24));
    SafetensorsFile file(path);
    CHECK(file.names() == std::vector<std::string>{"empty", "ids", "pos"});
    CHECK(file.info("ids").dtype == "I64");
    CHECK(file.info("pos").dtype == "F64");
    check_error([&] { file.read_f32("ids"); }, ErrorCode::Format, "tensor 'ids' has dtype I64");
    check_error([&] { file.read_f32("pos"); }, ErrorCode::Format, "tensor 'pos' has dtype F64");
    CHECK(file.read_f32("empty").empty());
}

TEST_CASE("npy round trip with shapes (), (7,) and (2, 5, 6)") {
    TempDir dir;
    const std::vector<std::vector<uint64_t>> shapes = {{}, {7}, {2, 5, 6}, {3, 0}};
    for (const auto& shape : shapes) {
        CAPTURE(shape.size());
        uint64_t count = 1;
        for (uint64_t d : shape) count *= d;
        std::vector<float> values(count);
        for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f - 3.0f;
        const std::string path = dir.file("a.npy");
        write_npy(path, shape, values);
        CHECK(dir.entries() == 1);

        std::ifstream in(path, std::ios::binary);
        std::string preamble(10, '\0');
        in.read(preamble.data(), 10);
        CHECK(preamble.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
        const size_t header = static_cast<unsigned char>(preamble[8]) | static_cast<unsigned char>(preamble[9]) << 8;
        CHECK((10 + header) % 64 == 0);
        CHECK(fs::file_size(path) == 10 + header + 4 * count);

        const NpyArray array = read_npy(path);
        CHECK(array.shape == shape);
        CHECK_FALSE(array.is_integer);
        CHECK(array.f32 == values);
        CHECK(array.i64.empty());
    }

    const std::vector<float> two = {1, 2};
    const std::vector<uint64_t> three = {3};
    check_error([&] { write_npy(dir.file("b.npy"), three, two); }, ErrorCode::InvalidArgument, "shape (3,)");
    const std::string missing_dir = dir.file("no-such-dir") + "/x.npy";
    check_error([&] { write_npy(missing_dir, std::vector<uint64_t>{2}, two); }, ErrorCode::Io, missing_dir);
    fs::create_directory(dir.file("taken.npy"));
    check_error([&] { write_npy(dir.file("taken.npy"), std::vector<uint64_t>{2}, two); }, ErrorCode::Io,
                "cannot rename");
    CHECK(dir.entries() == 2);  // a.npy and the directory; no temporary file
}

TEST_CASE("npy reads other dtypes and header versions") {
    TempDir dir;
    const std::string path = dir.file("a.npy");

    write_bytes(path, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                                raw(std::vector<double>{0.1, -1e300, 2.5})));
    NpyArray f8 = read_npy(path);
    CHECK(f8.f32 == std::vector<float>{0.1f, -std::numeric_limits<float>::infinity(), 2.5f});

    write_bytes(path, npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 1), }",
                                raw(std::vector<uint16_t>{0x3c00, 0xc100})));
    NpyArray f2 = read_npy(path);
    CHECK(f2.shape == std::vector<uint64_t>{2, 1});
    CHECK(f2.f32 == std::vector<float>{1.0f, -2.5f});

    write_bytes(path, npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
                                raw(std::vector<int32_t>{7, -1, 2147483647})));
    NpyArray i4 = read_npy(path);
    CHECK(i4.is_integer);
    CHECK(i4.f32.empty());
    CHECK(i4.i64 == std::vector<int64_t>{7, -1, 2147483647});

    write_bytes(path, npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }",
                                raw(std::vector<int64_t>{-5, int64_t(1) << 40})));
    NpyArray i8 = read_npy(path);
    CHECK(i8.is_integer);
    CHECK(i8.i64 == std::vector<int64_t>{-5, int64_t(1) << 40});

    // Version 2.0 and 3.0 headers, double quotes, other key order, no trailing comma, Python 2 longs.
    for (char major : {'\2', '\3'}) {
        write_bytes(path, npy_bytes("{\"shape\": (2L,1L), \"fortran_order\": False, \"descr\": \"<f4\"}",
                                    raw(std::vector<float>{1.5f, 2.5f}), major));
        NpyArray v = read_npy(path);
        CHECK(v.shape == std::vector<uint64_t>{2, 1});
        CHECK(v.f32 == std::vector<float>{1.5f, 2.5f});
    }
}

TEST_CASE("npy golden files load") {
    const NpyArray x = read_npy(kData + "/edifice-golden/tiny/x.npy");
    CHECK(x.shape == std::vector<uint64_t>{2, 5, 6});
    CHECK_FALSE(x.is_integer);
    REQUIRE(x.f32.size() == 60);
    CHECK(x.f32.front() == 0.0341927669942379f);
    CHECK(x.f32.back() == 0.3470301032066345f);

    const NpyArray ref = read_npy(kData + "/safari-golden/order2/ref.npy");
    CHECK(ref.shape == std::vector<uint64_t>{2, 100, 64});
    REQUIRE(ref.f32.size() == 12800);
    CHECK(ref.f32.front() == static_cast<float>(0.10618733562664441));
    CHECK(ref.f32.back() == static_cast<float>(0.15956092893131651));
}

TEST_CASE("malformed npy files are refused with specific errors") {
    TempDir dir;
    const std::string f4_3 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    const std::string three_floats = raw(std::vector<float>{1, 2, 3});

    check_bad_npy(dir, "", "not a .npy file (bad magic)");
    check_bad_npy(dir, "PK\x03\x04 this is a zip", "not a .npy file (bad magic)");
    check_bad_npy(dir, std::string("\x93NUMPY\x01", 7), "preamble");
    check_bad_npy(dir, npy_bytes(f4_3, three_floats, '\4'), "unsupported .npy version 4.0");
    check_bad_npy(dir, npy_bytes(f4_3, three_floats).substr(0, 20), "header length 58 runs past the end of the file");
    check_bad_npy(dir, npy_bytes(f4_3, three_floats.substr(0, 10)), "needs 12 bytes of data, but the file holds 10");
    check_bad_npy(dir, npy_bytes(f4_3, three_floats + "xx"), "needs 12 bytes of data, but the file holds 14");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", three_floats),
                  "Fortran-order arrays are not supported");
    check_bad_npy(dir,
                  npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", three_floats + three_floats),
                  "unsupported dtype '<c8'");
    check_bad_npy(dir, npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", three_floats),
                  "unsupported dtype '>f4': big-endian");
    check_bad_npy(dir, npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", "abc"),
                  "unsupported dtype '|u1'");
    check_bad_npy(dir, npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", three_floats),
                  "structured dtypes are not supported");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'shape': (3,), }", three_floats), "missing key 'fortran_order'");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", three_floats),
                  "unexpected key 'x'");
    check_bad_npy(dir,
                  npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", three_floats),
                  "key 'descr' appears twice");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", three_floats),
                  "trailing comma");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", three_floats),
                  "expected a non-negative integer");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", three_floats),
                  "expected True or False");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,) ", three_floats),
                  "expected '}'");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", ""),
                  "dimension too large");
    check_bad_npy(dir, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""),
                  "is too large");

    check_error([&] { read_npy(dir.file("missing.npy")); }, ErrorCode::NotFound, "missing.npy");
}

TEST_CASE("strict JSON objects") {
    const nlohmann::json ok = parse_json_object(R"({"a": {"b": [1, {"c": 2}]}, "d": "e"})", "ok.json");
    CHECK(ok["a"]["b"][1]["c"] == 2);
    // The same key in different objects is fine.
    CHECK_NOTHROW(parse_json_object(R"({"a": {"x": 1}, "b": {"x": 2}})", "ok.json"));

    check_error([] { parse_json_object(R"({"a": 1, "a": 2})", "c.json"); }, ErrorCode::Format,
                "c.json: duplicate key 'a'");
    check_error([] { parse_json_object(R"({"a": {"b": [{"c": 1, "c": 2}]}})", "c.json"); }, ErrorCode::Format,
                "duplicate key 'c' in 'a.b'");
    check_error([] { parse_json_object("[1, 2]", "c.json"); }, ErrorCode::Format, "c.json: expected a JSON object");
    check_error([] { parse_json_object("3", "c.json"); }, ErrorCode::Format, "found number");
    check_error([] { parse_json_object("", "c.json"); }, ErrorCode::Format, "c.json: invalid JSON");
    check_error([] { parse_json_object("{\"a\": 1,\n \"b\" 2}", "c.json"); }, ErrorCode::Format, "line 2, column");
    check_error([] { parse_json_object("{\"a\": 1} x", "c.json"); }, ErrorCode::Format, "invalid JSON");

    const nlohmann::json config = read_json_file(kData + "/safari-golden/order2/config.json");
    CHECK(config["arch"] == "hyena_operator");
    CHECK(config["d_model"] == 64);
    check_error([] { read_json_file("/nonexistent-dir/config.json"); }, ErrorCode::NotFound,
                "/nonexistent-dir/config.json");

    TempDir dir;
    write_bytes(dir.file("dup.json"), "{\"k\": 1, \"k\": 1}");
    check_error([&] { read_json_file(dir.file("dup.json")); }, ErrorCode::Format,
                dir.file("dup.json") + ": duplicate key 'k'");
}

TEST_SUITE_END();
