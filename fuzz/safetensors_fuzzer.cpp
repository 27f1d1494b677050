// Fuzz target: any bytes as a safetensors file. Opening validates the header; everything it accepts must
// then be readable in full and in pieces without touching memory outside the file. Only hyenavk::Error may
// escape the reader, and only from the calls that are documented to throw it.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_input_file.hpp"
#include "hyenavk/hyenavk.hpp"
#include "io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using hyenavk::io::SafetensorsFile;
    const std::string path = hyenavk::fuzz::as_file(data, size);
    std::unique_ptr<SafetensorsFile> file;
    try {
        file = std::make_unique<SafetensorsFile>(path);
    } catch (const hyenavk::Error&) {
        return 0;  // refused with a message: what malformed input should get
    }
    for (const std::string& name : file->names()) {
        const SafetensorsFile::TensorInfo& info = file->info(name);
        // An accepted header's ranges lie inside the file; checked here independently of the reader.
        if (info.begin > info.end || info.end > size) std::abort();
        const bool is_float = info.dtype == "F32" || info.dtype == "F16" || info.dtype == "BF16";
        try {
            const std::vector<float> all = file->read_f32(name);
            if (!is_float) std::abort();  // other dtypes must be refused
            if (all.size() > 1) {
                std::vector<float> tail(all.size() / 2);
                file->read_f32_chunk(name, all.size() - tail.size(), tail);
            }
        } catch (const hyenavk::Error&) {
            if (is_float) std::abort();  // an accepted float tensor must read
        }
    }
    return 0;
}
