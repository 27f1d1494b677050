#include "io/json.hpp"

#include <set>
#include <vector>

#include "hyenavk/hyenavk.hpp"
#include "io/mapped_file.hpp"

namespace hyenavk::io {

namespace {

// One open object while parsing: the keys seen so far and the one whose value is being read.
struct OpenObject {
    std::set<std::string> keys;
    std::string current;
};

std::string key_path(const std::vector<OpenObject>& open) {
    std::string path;
    for (size_t i = 0; i + 1 < open.size(); ++i) path += (path.empty() ? "" : ".") + open[i].current;
    return path;
}

// nlohmann's messages begin with "[json.exception.parse_error.101] "; the tag means nothing to a user.
std::string without_tag(const char* message) {
    std::string text = message;
    if (!text.empty() && text.front() == '[') {
        const auto end = text.find("] ");
        if (end != std::string::npos) text.erase(0, end + 2);
    }
    return text;
}

// Configs and safetensors headers nest two or three levels. A bound keeps hostile input from building values
// so deep that printing one in an error message (nlohmann's dump recurses) would exhaust the stack.
constexpr size_t kMaxDepth = 64;

}  // namespace

nlohmann::json parse_json_object(std::string_view text, const std::string& what) {
    std::vector<OpenObject> open;
    const nlohmann::json::parser_callback_t track_keys = [&](int depth, nlohmann::json::parse_event_t event,
                                                             nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if ((event == Event::object_start || event == Event::array_start) && static_cast<size_t>(depth) >= kMaxDepth)
            throw Error(ErrorCode::Format, what + ": JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
        if (event == Event::object_start) {
            open.emplace_back();
        } else if (event == Event::object_end) {
            open.pop_back();
        } else if (event == Event::key) {
            OpenObject& object = open.back();
            object.current = parsed.get<std::string>();
            if (!object.keys.insert(object.current).second) {
                const std::string where = key_path(open);
                throw Error(ErrorCode::Format, what + ": duplicate key '" + object.current + "'" +
                                                   (where.empty() ? "" : " in '" + where + "'"));
            }
        }
        return true;
    };

    nlohmann::json value;
    try {
        value = nlohmann::json::parse(text.begin(), text.end(), track_keys);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::Format, what + ": invalid JSON: " + without_tag(e.what()));
    }
    if (!value.is_object())
        throw Error(ErrorCode::Format,
                    what + ": expected a JSON object at the top level, found " + std::string(value.type_name()));
    return value;
}

nlohmann::json read_json_file(const std::string& path) {
    const MappedFile file(path);
    const auto* bytes = reinterpret_cast<const char*>(file.data());
    return parse_json_object(std::string_view(bytes, static_cast<size_t>(file.size())), path);
}

}  // namespace hyenavk::io
