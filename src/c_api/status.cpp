// Status codes, the per-thread last error, and versions.
#include <string>

#include "c_api/guard.hpp"

namespace hyenavk::c_api {
namespace {
thread_local std::string last_error;
}

hyenavk_status fail(hyenavk_status status, const std::string& message) noexcept {
    try {
        last_error = message;
    } catch (...) {
        last_error.clear();  // no memory for the message: the status alone must do
    }
    return status;
}

hyenavk_status status_of(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::InvalidArgument: return HYENAVK_ERROR_INVALID_ARGUMENT;
        case ErrorCode::NotFound: return HYENAVK_ERROR_NOT_FOUND;
        case ErrorCode::Unsupported: return HYENAVK_ERROR_UNSUPPORTED;
        case ErrorCode::DeviceLimit: return HYENAVK_ERROR_DEVICE_LIMIT;
        case ErrorCode::OutOfMemory: return HYENAVK_ERROR_OUT_OF_MEMORY;
        case ErrorCode::DeviceLost: return HYENAVK_ERROR_DEVICE_LOST;
        case ErrorCode::Timeout: return HYENAVK_ERROR_TIMEOUT;
        case ErrorCode::Vulkan: return HYENAVK_ERROR_VULKAN;
        case ErrorCode::Io: return HYENAVK_ERROR_IO;
        case ErrorCode::Format: return HYENAVK_ERROR_FORMAT;
        case ErrorCode::Internal: return HYENAVK_ERROR_INTERNAL;
    }
    return HYENAVK_ERROR_INTERNAL;
}

}  // namespace hyenavk::c_api

extern "C" {

uint32_t hyenavk_version(void) {
    const hyenavk::Version v = hyenavk::runtime_version();
    return HYENAVK_MAKE_VERSION(v.major, v.minor, v.patch);
}

const char* hyenavk_version_string(void) {
    // Built from the same numbers as hyenavk_version(), once; static storage, valid forever.
    static const std::string text = [] {
        try {
            return hyenavk::version_string();
        } catch (...) {
            return std::string();
        }
    }();
    return text.c_str();
}

const char* hyenavk_status_name(hyenavk_status status) {
    switch (hyenavk::c_api::raw_enum(status)) {  // any integer a C caller passes
        case HYENAVK_OK: return "HYENAVK_OK";
        case HYENAVK_ERROR_INVALID_ARGUMENT: return "HYENAVK_ERROR_INVALID_ARGUMENT";
        case HYENAVK_ERROR_NOT_FOUND: return "HYENAVK_ERROR_NOT_FOUND";
        case HYENAVK_ERROR_UNSUPPORTED: return "HYENAVK_ERROR_UNSUPPORTED";
        case HYENAVK_ERROR_DEVICE_LIMIT: return "HYENAVK_ERROR_DEVICE_LIMIT";
        case HYENAVK_ERROR_OUT_OF_MEMORY: return "HYENAVK_ERROR_OUT_OF_MEMORY";
        case HYENAVK_ERROR_DEVICE_LOST: return "HYENAVK_ERROR_DEVICE_LOST";
        case HYENAVK_ERROR_TIMEOUT: return "HYENAVK_ERROR_TIMEOUT";
        case HYENAVK_ERROR_VULKAN: return "HYENAVK_ERROR_VULKAN";
        case HYENAVK_ERROR_IO: return "HYENAVK_ERROR_IO";
        case HYENAVK_ERROR_FORMAT: return "HYENAVK_ERROR_FORMAT";
        case HYENAVK_ERROR_INTERNAL: return "HYENAVK_ERROR_INTERNAL";
    }
    return "HYENAVK_ERROR_UNKNOWN";
}

const char* hyenavk_last_error_message(void) { return hyenavk::c_api::last_error.c_str(); }

}  // extern "C"
