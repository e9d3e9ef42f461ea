#pragma once

#include <cstddef>
#include <string_view>

namespace crm {

// A UTF-8 sequence at the start of a string: a well-formed code point, or
// the maximal ill-formed subpart that one U+FFFD replaces (Unicode 15,
// section 3.9, table 3-7: no overlong forms, surrogates or values past
// U+10FFFF), so "\xE2\x82A" becomes "\uFFFDA".
struct Utf8Sequence {
  std::size_t length = 1;
  bool valid = false;
};

// The sequence at the start of non-empty `s`.
Utf8Sequence next_utf8(std::string_view s);

// The code point of a well-formed sequence of `length` bytes at the start of `s`.
char32_t decode_utf8(std::string_view s, std::size_t length);

// True if all of `s` is well-formed UTF-8; ASCII runs are checked eight bytes
// at a time, since most text is ASCII.
bool valid_utf8(std::string_view s);

// What normalize_text needs to know of a text, found in one pass.
struct TextScan {
  // Well-formed UTF-8 (the rules of next_utf8, which are utf8proc's too).
  bool valid_utf8 = true;
  // An ASCII control character other than tab, line feed and carriage return.
  bool control = false;
  // Surely NFC already: every code point is below U+0300, the first
  // combining mark (ASCII, Latin-1, Latin Extended A and B). False only says
  // that NFC must be computed, not that the text changes.
  bool nfc = true;
};

// Scans `s`; stops at the first invalid sequence (valid_utf8 false, the
// other fields then undefined).
TextScan scan_text(std::string_view s);

} // namespace crm
