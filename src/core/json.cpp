#include <crm/json.hpp>

#include "utf8.hpp"

namespace crm {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out.push_back('"');
  // Plain characters are copied in runs, not one by one.
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      auto sequence = next_utf8(text.substr(i));
      if (!sequence.valid) {
        out.append(text, run, i - run);
        out.append("\xEF\xBF\xBD");
        run = i + sequence.length;
      }
      i += sequence.length;
      continue;
    }
    out.append(text, run, i - run);
    switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    case '\b':
      out.append("\\b");
      break;
    case '\f':
      out.append("\\f");
      break;
    default:
      out.append("\\u00");
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0xF]);
    }
    run = ++i;
  }
  out.append(text, run, text.size() - run);
  out.push_back('"');
}

} // namespace crm
