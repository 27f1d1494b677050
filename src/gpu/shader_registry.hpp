// SPIR-V compiled from shaders/*.comp at build time and embedded in the library (the table is generated).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hyenavk::gpu {

struct ShaderCode {
    std::string_view name;  // file name without .comp, or with a variant suffix
    const uint32_t* words;
    size_t word_count;
};

// nullptr when no shader of that name was built.
const ShaderCode* find_shader(std::string_view name);

}  // namespace hyenavk::gpu
