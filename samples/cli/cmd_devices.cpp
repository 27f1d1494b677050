// `hyenavk devices [--json]`: every Vulkan device with the facts that decide how hyenavk runs on it.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace hyenavk::cli {
namespace {

std::string api_string(uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
           std::to_string(VK_API_VERSION_PATCH(v));
}

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

nlohmann::json to_json(const DeviceInfo& d) {
    const DeviceCaps& c = d.caps;
    return {
        {"index", d.index},
        {"name", d.name},
        {"type", to_string(d.type)},
        {"vendor_id", d.vendor_id},
        {"device_id", d.device_id},
        {"driver_name", d.driver_name},
        {"driver_info", d.driver_info},
        {"api_version", api_string(c.api_version)},
        {"device_api_version", api_string(d.device_api_version)},
        {"limits",
         {{"max_storage_buffer_range", c.max_storage_buffer_range},
          {"max_memory_allocation_size", c.max_memory_allocation_size},
          {"device_local_memory", c.device_local_memory},
          {"max_compute_shared_memory", c.max_compute_shared_memory},
          {"max_workgroup_invocations", c.max_workgroup_invocations},
          {"max_workgroup_count", c.max_workgroup_count},
          {"max_push_constants_size", c.max_push_constants_size},
          {"min_storage_buffer_offset_alignment", c.min_storage_buffer_offset_alignment}}},
        {"subgroup",
         {{"size", c.subgroup_size},
          {"basic", c.subgroup_basic},
          {"arithmetic", c.subgroup_arithmetic},
          {"ballot", c.subgroup_ballot},
          {"shuffle", c.subgroup_shuffle}}},
        {"features",
         {{"storage_buffer_16bit", c.storage_buffer_16bit},
          {"shader_float16", c.shader_float16},
          {"storage_buffer_8bit", c.storage_buffer_8bit},
          {"shader_int8", c.shader_int8},
          {"timeline_semaphore", c.timeline_semaphore},
          {"cooperative_matrix", c.cooperative_matrix},
          {"memory_budget", c.memory_budget},
          {"timestamps", c.timestamps}}},
    };
}

const char* yes(bool b) { return b ? "yes" : "no"; }

void print_text(const DeviceInfo& d) {
    const DeviceCaps& c = d.caps;
    std::printf("%u: %s (%s)\n", d.index, d.name.c_str(), to_string(d.type));
    std::printf("   driver       %s %s\n", d.driver_name.empty() ? "(unknown)" : d.driver_name.c_str(),
                d.driver_info.c_str());
    std::printf("   vulkan       %s (device %s)\n", api_string(c.api_version).c_str(),
                api_string(d.device_api_version).c_str());
    std::printf("   memory       %s device-local, largest allocation %s, storage-buffer range %s\n",
                mib(c.device_local_memory).c_str(), mib(c.max_memory_allocation_size).c_str(),
                mib(c.max_storage_buffer_range).c_str());
    std::printf("   compute      %u invocations/workgroup, %u KiB shared memory, subgroup %u (arithmetic %s)\n",
                c.max_workgroup_invocations, c.max_compute_shared_memory / 1024, c.subgroup_size,
                yes(c.subgroup_arithmetic));
    std::printf("   features     fp16 storage %s, fp16 math %s, int8 %s, timeline semaphores %s, "
                "cooperative matrix %s, memory budget %s\n",
                yes(c.storage_buffer_16bit), yes(c.shader_float16), yes(c.shader_int8), yes(c.timeline_semaphore),
                yes(c.cooperative_matrix), yes(c.memory_budget));
}

}  // namespace

Action add_devices_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("devices", "list the Vulkan devices and what they support");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "print one JSON array instead of text");
    return [cmd, json]() -> int {
        if (!cmd->parsed()) return -1;
        const auto devices = list_devices();
        if (*json) {
            nlohmann::json all = nlohmann::json::array();
            for (const auto& d : devices) all.push_back(to_json(d));
            std::printf("%s\n", all.dump(2).c_str());
            return 0;
        }
        if (devices.empty()) {
            std::printf("no Vulkan devices found\n");
            return 1;
        }
        for (const auto& d : devices) print_text(d);
        return 0;
    };
}

}  // namespace hyenavk::cli
