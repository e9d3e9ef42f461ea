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

} // namespace crm
