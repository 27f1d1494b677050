// Safetensors model files: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw data. Every header field is checked when the file is opened, so that
// later reads can trust the ranges.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "io/mapped_file.hpp"

namespace hyenavk::io {

class SafetensorsFile {
public:
    struct TensorInfo {
        std::string dtype;  // as in the file: "F32", "F16", "BF16", "I64", ...
        std::vector<uint64_t> shape;
        uint64_t begin = 0;  // byte range relative to the start of the data (the end of the header)
        uint64_t end = 0;
    };

    // Maps the file and validates its header: NotFound or Io when it cannot be read, Format when malformed.
    explicit SafetensorsFile(const std::string& path);

    const std::string& path() const { return file_.path(); }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    std::vector<std::string> names() const;  // sorted
    bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const;  // NotFound naming the tensor

    // The whole tensor as floats, converting F16 and BF16. Any other dtype is a Format error naming it.
    std::vector<float> read_f32(const std::string& name) const;
    // out.size() elements starting at element `first_element` (flat, C order), for uploads in pieces.
    void read_f32_chunk(const std::string& name, uint64_t first_element, std::span<float> out) const;

private:
    MappedFile file_;
    uint64_t data_start_ = 0;  // file offset of the first data byte
    std::map<std::string, std::string> metadata_;
    std::map<std::string, TensorInfo> tensors_;
};

struct TensorToWrite {
    std::string name;
    std::vector<uint64_t> shape;
    std::span<const float> data;
    std::string dtype = "F32";  // "F32", "F16" or "BF16"; narrower types round to nearest even
};

// Writes tensors sorted by name and stored back to back, metadata in "__metadata__" (omitted when empty).
// The file appears complete or not at all. InvalidArgument for a bad name, dtype or data size; Io on failure.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace hyenavk::io
