#include "hyenavk/hyenavk.hpp"

namespace hyenavk {

Error::Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::InvalidArgument: return "invalid argument";
        case ErrorCode::NotFound: return "not found";
        case ErrorCode::Unsupported: return "unsupported";
        case ErrorCode::DeviceLimit: return "device limit";
        case ErrorCode::OutOfMemory: return "out of memory";
        case ErrorCode::DeviceLost: return "device lost";
        case ErrorCode::Timeout: return "timeout";
        case ErrorCode::Vulkan: return "vulkan error";
        case ErrorCode::Io: return "i/o error";
        case ErrorCode::Format: return "format error";
        case ErrorCode::Internal: return "internal error";
    }
    return "unknown error";
}

Version runtime_version() noexcept { return {HYENAVK_VERSION_MAJOR, HYENAVK_VERSION_MINOR, HYENAVK_VERSION_PATCH}; }

std::string version_string() {
    const Version v = runtime_version();
    return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

}  // namespace hyenavk
