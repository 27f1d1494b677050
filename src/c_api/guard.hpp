// What every C entry point shares: exceptions turned into status codes with a per-thread message, and the
// struct_size convention for versioned structs (hyenavk.h, "Conventions").
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "hyenavk/hyenavk.h"
#include "hyenavk/hyenavk.hpp"
#include "hyenavk/model.hpp"

namespace hyenavk::c_api {

// Records `message` as the calling thread's last error and returns `status`.
hyenavk_status fail(hyenavk_status status, const std::string& message) noexcept;
hyenavk_status status_of(ErrorCode code) noexcept;

// Runs `body`, returning HYENAVK_OK or the status of whatever it threw; nothing escapes.
template <class Body>
hyenavk_status guard(Body&& body) noexcept {
    try {
        body();
        return HYENAVK_OK;
    } catch (const Error& e) {
        return fail(status_of(e.code()), e.what());
    } catch (const std::bad_alloc&) {
        return fail(HYENAVK_ERROR_OUT_OF_MEMORY, "out of host memory");
    } catch (const std::exception& e) {
        return fail(HYENAVK_ERROR_INTERNAL, e.what());
    } catch (...) {
        return fail(HYENAVK_ERROR_INTERNAL, "an unknown exception");
    }
}

inline void require(bool condition, const std::string& message) {
    if (!condition) throw Error(ErrorCode::InvalidArgument, message);
}

// `handle` (a model, a stream set, ...) passed to `function` is not NULL.
inline void require_handle(const void* handle, const char* function, const char* name) {
    require(handle != nullptr, std::string(function) + ": " + name + " is NULL");
}

// The caller's struct read over `defaults`: the first struct_size bytes are the caller's, the rest keep the
// defaults (a caller built against an older, shorter struct). NULL gives the defaults.
template <class T>
T read_struct(const T* in, T defaults, const char* name) {
    if (!in) return defaults;
    require(in->struct_size >= sizeof(uint32_t), std::string(name) + ": struct_size is " +
                                                     std::to_string(in->struct_size) +
                                                     "; set it to sizeof the struct (its _init function does)");
    std::memcpy(static_cast<void*>(&defaults), in, std::min<size_t>(in->struct_size, sizeof(T)));
    defaults.struct_size = sizeof(T);
    return defaults;
}

// `value` written into the caller's struct, no further than its struct_size.
template <class T>
void write_struct(T* out, T value, const char* name) {
    require(out != nullptr, std::string(name) + " is NULL");
    require(out->struct_size >= sizeof(uint32_t), std::string(name) + ": struct_size is " +
                                                      std::to_string(out->struct_size) +
                                                      "; set it to sizeof the struct (its _init function does)");
    const uint32_t size = out->struct_size;
    value.struct_size = size;
    std::memcpy(static_cast<void*>(out), &value, std::min<size_t>(size, sizeof(T)));
}

// The integer a C enum member holds, which need not be one of the enum's values.
template <class Enum>
int raw_enum(const Enum& value) {
    static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized on the platforms hyenavk supports");
    int raw = 0;
    std::memcpy(&raw, &value, sizeof raw);
    return raw;
}

// A string copied into a fixed char array, truncated and always terminated.
template <size_t N>
void copy_string(char (&out)[N], const std::string& text) {
    const size_t n = std::min(text.size(), N - 1);
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

}  // namespace hyenavk::c_api

// The objects behind the opaque handles.
struct hyenavk_context_t {
    hyenavk::Context context;
};

struct hyenavk_model_t {
    hyenavk::Model model;
    std::string config_json;  // what hyenavk_model_config_json hands out
};

struct hyenavk_completion_t {
    hyenavk::Completion completion;
};
