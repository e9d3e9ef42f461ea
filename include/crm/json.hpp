#pragma once

#include <string>
#include <string_view>

namespace crm {

// Appends `text` as a JSON string literal (RFC 8259): quotes, backslashes
// and control characters escaped, valid UTF-8 passed through, each invalid
// byte replaced by U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

inline std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

} // namespace crm
