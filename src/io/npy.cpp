#include "io/npy.hpp"

#include <bit>
#include <cstring>
#include <string_view>

#include "hyenavk/hyenavk.hpp"
#include "io/atomic_file.hpp"
#include "io/float16.hpp"
#include "io/mapped_file.hpp"
#include "io/npy_header.hpp"

namespace hyenavk::io {

// Element bytes are copied straight between the file and native arrays.
static_assert(std::endian::native == std::endian::little, ".npy data is read and written little-endian");

namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

enum class Kind { F2, F4, F8, I4, I8 };

struct Dtype {
    Kind kind;
    uint64_t bytes;
};

[[noreturn]] void fail(ErrorCode code, const std::string& path, const std::string& problem) {
    throw Error(code, path + ": " + problem);
}

Dtype parse_descr(const std::string& descr, const std::string& path) {
    const std::string_view type = descr.size() > 1 ? std::string_view(descr).substr(1) : std::string_view();
    const Dtype known[] = {{Kind::F2, 2}, {Kind::F4, 4}, {Kind::F8, 8}, {Kind::I4, 4}, {Kind::I8, 8}};
    const std::string_view names[] = {"f2", "f4", "f8", "i4", "i8"};
    for (size_t i = 0; i < std::size(names); ++i) {
        if (type != names[i]) continue;
        if (descr[0] == '<') return known[i];
        // '|' marks 1-byte types only, so it is as wrong here as any other byte order.
        if (descr[0] == '>')
            fail(ErrorCode::Format, path, "unsupported dtype '" + descr + "': big-endian data is not supported");
        break;
    }
    fail(ErrorCode::Format, path, "unsupported dtype '" + descr + "' (expected little-endian f2, f4, f8, i4 or i8)");
}

std::string shape_text(const std::vector<uint64_t>& shape) {
    std::string text = "(";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + (shape.size() == 1 ? ",)" : ")");
}

// Product of the dimensions times `unit`, or false when it does not fit in 64 bits.
bool product(std::span<const uint64_t> shape, uint64_t unit, uint64_t& result) {
    uint64_t total = unit;
    for (uint64_t dim : shape)
        if (__builtin_mul_overflow(total, dim, &total)) return false;
    result = total;
    return true;
}

template <typename T>
T load(const unsigned char* p) {
    T value;
    std::memcpy(&value, p, sizeof value);
    return value;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
    const MappedFile file(path);
    const unsigned char* bytes = file.data();
    const uint64_t size = file.size();
    if (size < sizeof kMagic || std::memcmp(bytes, kMagic, sizeof kMagic) != 0)
        fail(ErrorCode::Format, path, "not a .npy file (bad magic)");
    if (size < 10) fail(ErrorCode::Format, path, "file ends inside the .npy preamble");
    const unsigned major = bytes[6];
    const unsigned minor = bytes[7];
    if (major < 1 || major > 3)
        fail(ErrorCode::Format, path,
             "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
    // Version 1.0 stores the header length in 2 bytes; 2.0 and 3.0 in 4.
    const uint64_t header_start = major == 1 ? 10 : 12;
    if (size < header_start) fail(ErrorCode::Format, path, "file ends inside the .npy preamble");
    const uint64_t header_bytes = major == 1 ? uint64_t(bytes[8]) | uint64_t(bytes[9]) << 8
                                             : uint64_t(bytes[8]) | uint64_t(bytes[9]) << 8 |
                                                   uint64_t(bytes[10]) << 16 | uint64_t(bytes[11]) << 24;
    if (header_bytes > size - header_start)
        fail(ErrorCode::Format, path,
             "header length " + std::to_string(header_bytes) + " runs past the end of the file");

    const auto* text = reinterpret_cast<const char*>(bytes + header_start);
    const NpyHeader header = parse_npy_header(std::string_view(text, static_cast<size_t>(header_bytes)), path);
    if (header.fortran_order)
        fail(ErrorCode::Format, path,
             "Fortran-order arrays are not supported (save a C-order array, e.g. with "
             "numpy.ascontiguousarray)");
    const Dtype dtype = parse_descr(header.descr, path);

    uint64_t expected = 0;
    if (!product(header.shape, dtype.bytes, expected))
        fail(ErrorCode::Format, path, "shape " + shape_text(header.shape) + " is too large");
    const uint64_t data_start = header_start + header_bytes;
    const uint64_t actual = size - data_start;
    if (actual != expected)
        fail(ErrorCode::Format, path,
             "shape " + shape_text(header.shape) + " of '" + header.descr + "' needs " + std::to_string(expected) +
                 " bytes of data, but the file holds " + std::to_string(actual));

    NpyArray array;
    array.shape = header.shape;
    const size_t count = static_cast<size_t>(expected / dtype.bytes);
    const unsigned char* data = bytes + data_start;
    switch (dtype.kind) {
        case Kind::F4:
            array.f32.resize(count);
            if (count != 0) std::memcpy(array.f32.data(), data, count * sizeof(float));
            break;
        case Kind::F2:
            array.f32.resize(count);
            for (size_t i = 0; i < count; ++i) array.f32[i] = f16_to_f32(load<uint16_t>(data + 2 * i));
            break;
        case Kind::F8:
            array.f32.resize(count);
            for (size_t i = 0; i < count; ++i) array.f32[i] = static_cast<float>(load<double>(data + 8 * i));
            break;
        case Kind::I4:
            array.is_integer = true;
            array.i64.resize(count);
            for (size_t i = 0; i < count; ++i) array.i64[i] = load<int32_t>(data + 4 * i);
            break;
        case Kind::I8:
            array.is_integer = true;
            array.i64.resize(count);
            if (count != 0) std::memcpy(array.i64.data(), data, count * sizeof(int64_t));
            break;
    }
    return array;
}

void write_npy(const std::string& path, std::span<const uint64_t> shape, std::span<const float> data) {
    const std::vector<uint64_t> dims(shape.begin(), shape.end());
    uint64_t count = 0;
    if (!product(shape, 1, count) || count != data.size())
        fail(ErrorCode::InvalidArgument, path,
             "shape " + shape_text(dims) + " does not match " + std::to_string(data.size()) + " values");

    std::string header = format_npy_header("<f4", dims);
    // NumPy aligns the data to 64 bytes so that it can be mapped and read in place; the header ends in '\n'.
    const size_t used = 10 + header.size() + 1;
    header.append((64 - used % 64) % 64, ' ');
    header.push_back('\n');
    if (header.size() > 0xffff)
        fail(ErrorCode::InvalidArgument, path,
             "shape " + shape_text(dims) + " has too many dimensions for a .npy header");

    AtomicFile out(path);
    out.write(kMagic, sizeof kMagic);
    const unsigned char preamble[4] = {1, 0, static_cast<unsigned char>(header.size() & 0xff),
                                       static_cast<unsigned char>(header.size() >> 8)};
    out.write(preamble, sizeof preamble);
    out.write(header.data(), header.size());
    out.write(data.data(), data.size_bytes());
    out.commit();
}

}  // namespace hyenavk::io
