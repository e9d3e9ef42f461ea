#include <crm/json.hpp>

namespace crm {

namespace {

struct Sequence {
  std::size_t length; // bytes to consume
  bool valid;         // false: `length` bytes are one maximal ill-formed subpart
};

// The UTF-8 sequence at s[i] (Unicode 15, table 3-7); an ill-formed one is
// as long as its longest valid prefix, at least one byte, so it becomes
// exactly one U+FFFD as the Unicode standard recommends.
Sequence utf8_sequence(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      low = 0xA0;
    else if (c == 0xED)
      high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      low = 0x90;
    else if (c == 0xF4)
      high = 0x8F;
  } else {
    return {1, false};
  }
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k >= s.size())
      return {k, false};
    auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF))
      return {k, false};
  }
  return {n, true};
}

} // namespace

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
      auto sequence = utf8_sequence(text, i);
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
