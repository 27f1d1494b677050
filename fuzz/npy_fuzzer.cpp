// Fuzz target: any bytes as a .npy file. Accepted arrays hold exactly the elements their shape declares.
#include <cstdint>
#include <cstdlib>

#include "fuzz_input_file.hpp"
#include "hyenavk/hyenavk.hpp"
#include "io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    hyenavk::io::NpyArray array;
    try {
        array = hyenavk::io::read_npy(hyenavk::fuzz::as_file(data, size));
    } catch (const hyenavk::Error&) {
        return 0;
    }
    uint64_t elements = 1;
    for (uint64_t dim : array.shape)
        if (__builtin_mul_overflow(elements, dim, &elements)) std::abort();
    const uint64_t held = array.is_integer ? array.i64.size() : array.f32.size();
    if (held != elements || elements > size) std::abort();
    return 0;
}
