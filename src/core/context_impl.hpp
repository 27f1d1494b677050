// What a Context holds. Internal: tests, the self-test and the model code reach the GPU runtime through it.
#pragma once

#include <memory>

#include "fft/vkfft_plan.hpp"
#include "gpu/device.hpp"
#include "gpu/disk_cache.hpp"
#include "gpu/instance.hpp"
#include "gpu/memory.hpp"
#include "gpu/pipelines.hpp"
#include "gpu/transfer.hpp"
#include "hyenavk/hyenavk.hpp"

namespace hyenavk::detail {

class ContextImpl {
public:
    // Without a disk cache (null), nothing is read from or written to disk.
    ContextImpl(std::unique_ptr<gpu::Instance> own_instance, std::unique_ptr<gpu::Device> own_device,
                std::unique_ptr<gpu::DiskCache> own_disk_cache = nullptr)
        : instance(std::move(own_instance)), device(std::move(own_device)),
          disk_cache(own_disk_cache ? std::move(own_disk_cache) : std::make_unique<gpu::DiskCache>()),
          memory(*this->device), pipelines(*this->device, disk_cache.get()), transfer(*this->device, memory),
          fft_plans(*this->device, disk_cache.get()) {}

    // Declaration order is destruction order, reversed: everything made on the device goes before it.
    std::unique_ptr<gpu::Instance> instance;
    std::unique_ptr<gpu::Device> device;
    std::unique_ptr<gpu::DiskCache> disk_cache;  // never null; disabled where the options say so
    gpu::MemoryPools memory;
    gpu::Pipelines pipelines;
    gpu::Transfer transfer;
    fft::FftPlanCache fft_plans;
};

}  // namespace hyenavk::detail
