#include "io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <string_view>

#include "hyenavk/hyenavk.hpp"
#include "io/atomic_file.hpp"
#include "io/float16.hpp"
#include "io/json.hpp"

namespace hyenavk::io {

// Tensor bytes are copied straight between the file and float arrays.
static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

// Large enough for any real model's header; a corrupt length must not make us trust gigabytes of "JSON".
constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;

struct DtypeSize {
    std::string_view name;
    uint64_t bytes;
};

// Every dtype the safetensors format defines, so that a file holding any of them can still be listed.
constexpr DtypeSize kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
    {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
    {"F32", 4},  {"F64", 8}, {"I64", 8}, {"U64", 8},     {"C64", 8},
};

// 0 for a dtype the format does not define.
uint64_t element_size(std::string_view dtype) {
    for (const DtypeSize& d : kDtypes)
        if (d.name == dtype) return d.bytes;
    return 0;
}

bool float_dtype(std::string_view dtype) { return dtype == "F32" || dtype == "F16" || dtype == "BF16"; }

std::string in_quotes(const std::string& name) { return "'" + name + "'"; }

std::string range(uint64_t begin, uint64_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

std::string shape_text(const std::vector<uint64_t>& shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

// Element count times element size, or false when it does not fit in 64 bits.
bool byte_count(const std::vector<uint64_t>& shape, uint64_t element_bytes, uint64_t& bytes) {
    uint64_t total = element_bytes;
    for (uint64_t dim : shape)
        if (__builtin_mul_overflow(total, dim, &total)) return false;
    bytes = total;
    return true;
}

[[noreturn]] void fail(ErrorCode code, const std::string& path, const std::string& problem) {
    throw Error(code, path + ": " + problem);
}

uint64_t read_le64(const unsigned char* p) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
    return value;
}

class HeaderParser {
public:
    HeaderParser(const std::string& path, uint64_t data_size) : path_(path), data_size_(data_size) {}

    [[noreturn]] void fail(const std::string& problem) const { io::fail(ErrorCode::Format, path_, problem); }

    std::map<std::string, std::string> metadata(const nlohmann::json& value) const {
        if (!value.is_object()) fail("__metadata__ is not an object");
        std::map<std::string, std::string> result;
        for (const auto& [key, entry] : value.items()) {
            if (!entry.is_string()) fail("__metadata__ entry " + in_quotes(key) + " is not a string");
            result.emplace(key, entry.get<std::string>());
        }
        return result;
    }

    SafetensorsFile::TensorInfo tensor(const std::string& name, const nlohmann::json& entry) const {
        const std::string where = "tensor " + in_quotes(name) + ": ";
        if (!entry.is_object()) fail(where + "entry is not an object");
        for (const auto& item : entry.items())
            if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
                fail(where + "unexpected key " + in_quotes(item.key()));
        for (const char* key : {"dtype", "shape", "data_offsets"})
            if (!entry.contains(key)) fail(where + "missing '" + key + "'");

        SafetensorsFile::TensorInfo info;
        const nlohmann::json& dtype = entry.at("dtype");
        if (!dtype.is_string()) fail(where + "dtype is not a string");
        info.dtype = dtype.get<std::string>();
        const uint64_t element_bytes = element_size(info.dtype);
        if (element_bytes == 0) fail(where + "unknown dtype " + in_quotes(info.dtype));

        const nlohmann::json& shape = entry.at("shape");
        if (!shape.is_array()) fail(where + "shape is not an array");
        for (const nlohmann::json& dim : shape) {
            if (!dim.is_number_unsigned())
                fail(where + "shape " + shape.dump() + " holds a value that is not a non-negative integer");
            info.shape.push_back(dim.get<uint64_t>());
        }

        const nlohmann::json& offsets = entry.at("data_offsets");
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned())
            fail(where + "data_offsets must be [begin, end] with non-negative integers, not " + offsets.dump());
        info.begin = offsets[0].get<uint64_t>();
        info.end = offsets[1].get<uint64_t>();
        if (info.begin > info.end)
            fail(where + "data_offsets " + range(info.begin, info.end) + " end before they begin");
        if (info.end > data_size_)
            fail(where + "data_offsets " + range(info.begin, info.end) + " run past the end of the file (" +
                 std::to_string(data_size_) + " bytes of data)");

        uint64_t bytes = 0;
        if (!byte_count(info.shape, element_bytes, bytes))
            fail(where + "shape " + shape_text(info.shape) + " is too large");
        if (bytes != info.end - info.begin)
            fail(where + "shape " + shape_text(info.shape) + " of " + info.dtype + " needs " + std::to_string(bytes) +
                 " bytes, but data_offsets " + range(info.begin, info.end) + " hold " +
                 std::to_string(info.end - info.begin));
        return info;
    }

    // Two tensors sharing bytes would alias each other's weights; empty tensors occupy nothing.
    void no_overlaps(const std::map<std::string, SafetensorsFile::TensorInfo>& tensors) const {
        using Entry = std::pair<const std::string, SafetensorsFile::TensorInfo>;
        std::vector<const Entry*> order;
        for (const Entry& entry : tensors)
            if (entry.second.begin != entry.second.end) order.push_back(&entry);
        std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
            return a->second.begin != b->second.begin ? a->second.begin < b->second.begin
                                                      : a->second.end < b->second.end;
        });
        const Entry* furthest = nullptr;  // the tensor seen so far that reaches furthest
        for (const Entry* entry : order) {
            if (furthest != nullptr && entry->second.begin < furthest->second.end)
                fail("tensors " + in_quotes(furthest->first) + " " +
                     range(furthest->second.begin, furthest->second.end) + " and " + in_quotes(entry->first) + " " +
                     range(entry->second.begin, entry->second.end) + " overlap");
            if (furthest == nullptr || entry->second.end > furthest->second.end) furthest = entry;
        }
    }

private:
    const std::string& path_;
    uint64_t data_size_;
};

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
    const uint64_t size = file_.size();
    if (size < 8)
        fail(ErrorCode::Format, path,
             "file is " + std::to_string(size) + " bytes, too short to hold the 8-byte header length");
    const uint64_t header_bytes = read_le64(file_.data());
    if (header_bytes > kMaxHeaderBytes)
        fail(ErrorCode::Format, path,
             "header length " + std::to_string(header_bytes) + " exceeds the limit of " +
                 std::to_string(kMaxHeaderBytes) + " bytes (100 MiB)");
    if (header_bytes > size - 8)
        fail(ErrorCode::Format, path,
             "header length " + std::to_string(header_bytes) + " runs past the end of the file (" +
                 std::to_string(size - 8) + " bytes follow the length)");
    data_start_ = 8 + header_bytes;

    const auto* text = reinterpret_cast<const char*>(file_.data() + 8);
    const nlohmann::json header = parse_json_object(std::string_view(text, static_cast<size_t>(header_bytes)), path);
    const HeaderParser parser(path, size - data_start_);
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__")
            metadata_ = parser.metadata(entry);
        else
            tensors_.emplace(name, parser.tensor(name, entry));
    }
    parser.no_overlaps(tensors_);
}

std::vector<std::string> SafetensorsFile::names() const {
    std::vector<std::string> result;
    result.reserve(tensors_.size());
    for (const auto& entry : tensors_) result.push_back(entry.first);
    return result;
}

const SafetensorsFile::TensorInfo& SafetensorsFile::info(const std::string& name) const {
    const auto found = tensors_.find(name);
    if (found == tensors_.end()) throw Error(ErrorCode::NotFound, path() + ": no tensor " + in_quotes(name));
    return found->second;
}

std::vector<float> SafetensorsFile::read_f32(const std::string& name) const {
    const TensorInfo& t = info(name);
    std::vector<float> out((t.end - t.begin) / element_size(t.dtype));
    read_f32_chunk(name, 0, out);
    return out;
}

void SafetensorsFile::read_f32_chunk(const std::string& name, uint64_t first_element, std::span<float> out) const {
    const TensorInfo& t = info(name);
    if (!float_dtype(t.dtype))
        throw Error(ErrorCode::Format, path() + ": tensor " + in_quotes(name) + " has dtype " + t.dtype +
                                           ", which cannot be read as float (F32, F16 or BF16 expected)");
    const uint64_t element_bytes = element_size(t.dtype);
    const uint64_t count = (t.end - t.begin) / element_bytes;
    if (first_element > count || out.size() > count - first_element)
        throw Error(ErrorCode::InvalidArgument, path() + ": tensor " + in_quotes(name) + ": elements [" +
                                                    std::to_string(first_element) + ", " +
                                                    std::to_string(first_element + out.size()) +
                                                    ") requested, but it holds " + std::to_string(count));

    const unsigned char* src = file_.data() + data_start_ + t.begin + first_element * element_bytes;
    if (t.dtype == "F32") {
        if (!out.empty()) std::memcpy(out.data(), src, out.size_bytes());
        return;
    }
    const bool half = t.dtype == "F16";
    for (size_t i = 0; i < out.size(); ++i) {
        uint16_t bits = 0;
        std::memcpy(&bits, src + 2 * i, 2);
        out[i] = half ? f16_to_f32(bits) : bf16_to_f32(bits);
    }
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const auto invalid = [&](const std::string& problem) { fail(ErrorCode::InvalidArgument, path, problem); };
    std::vector<const TensorToWrite*> order;
    std::set<std::string> seen;
    for (const TensorToWrite& t : tensors) {
        if (t.name.empty() || t.name == "__metadata__") invalid("invalid tensor name " + in_quotes(t.name));
        if (!seen.insert(t.name).second) invalid("tensor " + in_quotes(t.name) + " given twice");
        if (!float_dtype(t.dtype))
            invalid("tensor " + in_quotes(t.name) + ": cannot write dtype " + in_quotes(t.dtype) +
                    " (F32, F16 or BF16)");
        uint64_t elements = 0;
        if (!byte_count(t.shape, 1, elements) || elements != t.data.size())
            invalid("tensor " + in_quotes(t.name) + ": shape " + shape_text(t.shape) + " does not match its " +
                    std::to_string(t.data.size()) + " values");
        order.push_back(&t);
    }
    std::sort(order.begin(), order.end(),
              [](const TensorToWrite* a, const TensorToWrite* b) { return a->name < b->name; });

    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const TensorToWrite* t : order) {
        const uint64_t bytes = t->data.size() * element_size(t->dtype);
        header[t->name] = {{"dtype", t->dtype},
                           {"shape", t->shape},
                           {"data_offsets", nlohmann::json::array({offset, offset + bytes})}};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::exception& e) {
        fail(ErrorCode::InvalidArgument, path,
             std::string("cannot encode the header (names and metadata must be UTF-8): ") + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned in the file

    AtomicFile out(path);
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(uint64_t(text.size()) >> (8 * i));
    out.write(length, sizeof length);
    out.write(text.data(), text.size());

    constexpr size_t kChunk = size_t(1) << 16;
    std::vector<uint16_t> buffer;
    for (const TensorToWrite* t : order) {
        if (t->dtype == "F32") {
            out.write(t->data.data(), t->data.size_bytes());
            continue;
        }
        const bool half = t->dtype == "F16";
        for (size_t first = 0; first < t->data.size(); first += kChunk) {
            const size_t n = std::min(kChunk, t->data.size() - first);
            buffer.resize(n);
            for (size_t i = 0; i < n; ++i)
                buffer[i] = half ? f32_to_f16(t->data[first + i]) : f32_to_bf16(t->data[first + i]);
            out.write(buffer.data(), n * sizeof(uint16_t));
        }
    }
    out.commit();
}

}  // namespace hyenavk::io
