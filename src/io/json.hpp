// Strict JSON for configuration files and safetensors headers: nlohmann::json silently keeps the last of
// two equal keys, which would let a file say two things at once, so duplicates are refused here.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hyenavk::io {

// Parses `text`, which must hold one JSON object. Format errors start with `what` (a file name, say) and name
// the duplicate key or the syntax error's position.
nlohmann::json parse_json_object(std::string_view text, const std::string& what);

// Reads and parses a file with parse_json_object; NotFound or Io when it cannot be read.
nlohmann::json read_json_file(const std::string& path);

}  // namespace hyenavk::io
