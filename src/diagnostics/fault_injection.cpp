#include "core/context_impl.hpp"
#include "hyenavk/diagnostics.hpp"

namespace hyenavk {

void inject_fault(Context& context, InjectedFault fault) {
    if (fault != InjectedFault::DeviceLost && fault != InjectedFault::OutOfDeviceMemory)
        throw Error(ErrorCode::InvalidArgument, "inject_fault: unknown fault " + std::to_string(static_cast<int>(fault)));
    context.impl().device->arm_fault(fault);
}

}  // namespace hyenavk
