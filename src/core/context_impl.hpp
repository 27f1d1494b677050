// What a Context holds. Internal: tests, the self-test and the model code reach the GPU runtime through it.
#pragma once

#include <memory>

#include "fft/vkfft_plan.hpp"
#include "gpu/device.hpp"
#include "gpu/instance.hpp"
#include "gpu/memory.hpp"
#include "gpu/pipelines.hpp"
#include "gpu/transfer.hpp"
#include "hyenavk/hyenavk.hpp"

namespace hyenavk::detail {

class ContextImpl {
public:
    ContextImpl(std::unique_ptr<gpu::Instance> own_instance, std::unique_ptr<gpu::Device> own_device)
        : instance(std::move(own_instance)), device(std::move(own_device)), memory(*this->device),
          pipelines(*this->device), transfer(*this->device, memory), fft_plans(*this->device) {}

    // Declaration order is destruction order, reversed: everything made on the device goes before it.
    std::unique_ptr<gpu::Instance> instance;
    std::unique_ptr<gpu::Device> device;
    gpu::MemoryPools memory;
    gpu::Pipelines pipelines;
    gpu::Transfer transfer;
    fft::FftPlanCache fft_plans;
};

}  // namespace hyenavk::detail
