// A forward of one shape, planned and recorded, as the submission code sees it: where its input goes, where
// its output comes from, and the plan between them. Architectures derive their per-shape state from it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "gpu/memory.hpp"
#include "gpu/recorder.hpp"
#include "ops/view.hpp"

namespace hyenavk::detail {
struct Submission;
}

namespace hyenavk::model {

// Values [first, first + count) of a row-major host array, held packed by one allocation.
struct IoPiece {
    const gpu::Allocation* allocation = nullptr;
    uint64_t first = 0;
    uint64_t count = 0;
};

struct PreparedForward {
    virtual ~PreparedForward() = default;

    uint32_t batch = 0, length = 0;
    bool full = false;
    ops::ElementType element = ops::ElementType::F32;
    std::vector<IoPiece> inputs, outputs;  // together they cover the input and the output arrays
    gpu::Plan plan;

    // For the submission code (forward_submission.cpp): one submit of this forward at a time, the latest
    // submission (what a new one must not overtake), and a use counter for evicting the least recently used
    // shape.
    std::mutex submit_mutex;
    std::weak_ptr<detail::Submission> last;
    std::atomic<uint64_t> last_used{0};

    uint64_t input_values() const { return total(inputs); }
    uint64_t output_values() const { return total(outputs); }

private:
    static uint64_t total(const std::vector<IoPiece>& pieces) {
        uint64_t n = 0;
        for (const IoPiece& p : pieces) n += p.count;
        return n;
    }
};

// A use stamp that only rises, shared by every prepared forward of the process.
inline uint64_t next_use_stamp() {
    static std::atomic<uint64_t> clock{0};
    return ++clock;
}

// Drops the least recently used prepared forward of `forwards` (a map from shape to shared_ptr). A forward
// still running on the device stays alive through its submission until that ends.
template <class Map>
void evict_least_recent(Map& forwards) {
    auto oldest = forwards.begin();
    for (auto it = forwards.begin(); it != forwards.end(); ++it)
        if (it->second->last_used < oldest->second->last_used) oldest = it;
    if (oldest != forwards.end()) forwards.erase(oldest);
}

}  // namespace hyenavk::model
