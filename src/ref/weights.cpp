#include "ref/weights.hpp"

#include <stdexcept>

namespace hyenavk::ref {

std::string shape_string(const std::vector<uint64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::span<const double> tensor(const Weights& weights, const std::string& name, const std::vector<uint64_t>& shape,
                               const std::string& who) {
    auto fail = [&who](const std::string& what) { throw std::invalid_argument(who + ": " + what); };
    const auto it = weights.find(name);
    if (it == weights.end()) fail("missing tensor " + name + ", expected shape " + shape_string(shape));
    const Tensor& t = it->second;
    uint64_t count = 1;
    for (uint64_t d : shape) count *= d;
    if (t.shape != shape)
        fail("tensor " + name + " has shape " + shape_string(t.shape) + ", expected " + shape_string(shape));
    if (t.data.size() != count)
        fail("tensor " + name + " holds " + std::to_string(t.data.size()) + " values, expected " +
             std::to_string(count) + " for shape " + shape_string(shape));
    return t.data;
}

}  // namespace hyenavk::ref
