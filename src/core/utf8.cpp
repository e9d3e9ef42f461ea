#include "utf8.hpp"

#include <cstdint>
#include <cstring>

namespace crm {

Utf8Sequence next_utf8(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  if (lead < 0x80)
    return {1, true};
  std::size_t trailing = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    trailing = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    trailing = 2;
    if (lead == 0xE0)
      second_min = 0xA0; // overlong
    else if (lead == 0xED)
      second_max = 0x9F; // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    trailing = 3;
    if (lead == 0xF0)
      second_min = 0x90; // overlong
    else if (lead == 0xF4)
      second_max = 0x8F; // above U+10FFFF
  } else {
    return {1, false};
  }
  for (std::size_t i = 1; i <= trailing; ++i) {
    if (i >= s.size())
      return {i, false};
    const auto byte = static_cast<unsigned char>(s[i]);
    const unsigned char min = i == 1 ? second_min : 0x80;
    const unsigned char max = i == 1 ? second_max : 0xBF;
    if (byte < min || byte > max)
      return {i, false};
  }
  return {trailing + 1, true};
}

char32_t decode_utf8(std::string_view s, std::size_t length) {
  const auto lead = static_cast<unsigned char>(s[0]);
  if (length == 1)
    return lead;
  char32_t code_point = lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i)
    code_point = (code_point << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return code_point;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    while (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if (word & 0x8080808080808080ULL)
        break;
      i += 8;
    }
    if (i == n)
      break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    auto sequence = next_utf8(s.substr(i));
    if (!sequence.valid)
      return false;
    i += sequence.length;
  }
  return true;
}

TextScan scan_text(std::string_view s) {
  TextScan scan;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // Runs of printable ASCII eight bytes at a time: no byte with the high
    // bit, none below 0x20 and none equal to 0x7F.
    while (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      constexpr std::uint64_t ones = 0x0101010101010101ULL;
      constexpr std::uint64_t highs = 0x8080808080808080ULL;
      std::uint64_t del = word ^ (0x7F * ones);
      if (((word | ((word - 0x20 * ones) & ~word) | ((del - ones) & ~del)) & highs) != 0)
        break;
      i += 8;
    }
    if (i == n)
      break;
    const auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x80) {
      if ((u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u == 0x7f)
        scan.control = true;
      ++i;
      continue;
    }
    auto sequence = next_utf8(s.substr(i));
    if (!sequence.valid) {
      scan.valid_utf8 = false;
      return scan;
    }
    // A lead byte from 0xCC up starts a code point from U+0300 up.
    if (u >= 0xCC)
      scan.nfc = false;
    i += sequence.length;
  }
  return scan;
}

} // namespace crm
