#include "utf8.hpp"

#include <crm/error.hpp>
#include <crm/normalize.hpp>

#include <doctest/doctest.h>
#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace crm;

namespace {

// What normalize_text did before its fast path, by utf8proc alone: the
// reference the fast path must equal.
bool utf8proc_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  auto left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0)
      return false;
    p += n;
    left -= n;
  }
  return true;
}

bool has_control(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f)
      return true;
  }
  return false;
}

std::string utf8proc_nfc(std::string_view s) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                        static_cast<utf8proc_ssize_t>(s.size()), &out,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0)
    return "<error>";
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

std::string reference_normalize_text(std::string_view s) {
  while (!s.empty() && std::string_view(" \t\n\r\f\v").find(s.front()) != std::string_view::npos)
    s.remove_prefix(1);
  while (!s.empty() && std::string_view(" \t\n\r\f\v").find(s.back()) != std::string_view::npos)
    s.remove_suffix(1);
  if (!utf8proc_valid(s))
    return "error: invalid x: not valid UTF-8";
  if (has_control(s))
    return "error: invalid x: contains a control character";
  return utf8proc_nfc(s);
}

std::string fast_normalize_text(std::string_view s) {
  try {
    return normalize_text(s, "x");
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

std::string encode(char32_t cp) {
  utf8proc_uint8_t buffer[4];
  auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buffer);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
}

// The scan must say what utf8proc says: valid or not, and "already NFC"
// only where utf8proc's NFC leaves the text as it is.
void check_scan(std::string_view s) {
  auto scan = scan_text(s);
  bool valid = utf8proc_valid(s);
  CHECK(scan.valid_utf8 == valid);
  if (!valid)
    return;
  CHECK(scan.control == has_control(s));
  if (scan.nfc)
    CHECK(utf8proc_nfc(s) == s);
}

} // namespace

TEST_CASE("the text scan agrees with utf8proc on every sequence of up to three bytes") {
  // Exhaustive: 16.8 million strings; failures are counted, not reported one by one.
  int mismatches = 0;
  std::string s;
  for (unsigned a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    mismatches += scan_text(s).valid_utf8 != utf8proc_valid(s) ? 1 : 0;
    for (unsigned b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      mismatches += scan_text(s).valid_utf8 != utf8proc_valid(s) ? 1 : 0;
      for (unsigned c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        auto scan = scan_text(s);
        bool valid = utf8proc_valid(s);
        mismatches += scan.valid_utf8 != valid ? 1 : 0;
        if (valid && scan.control != has_control(s))
          ++mismatches;
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the text scan agrees with utf8proc on four-byte sequences at every boundary") {
  const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90,
                                 0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
  int mismatches = 0;
  for (unsigned lead = 0x80; lead < 256; ++lead)
    for (unsigned char b : edges)
      for (unsigned char c : edges)
        for (unsigned char d : edges) {
          std::string s{static_cast<char>(lead), static_cast<char>(b), static_cast<char>(c),
                        static_cast<char>(d)};
          mismatches += scan_text(s).valid_utf8 != utf8proc_valid(s) ? 1 : 0;
          s.insert(0, "ab");
          mismatches += scan_text(s).valid_utf8 != utf8proc_valid(s) ? 1 : 0;
        }
  CHECK(mismatches == 0);
}

TEST_CASE("the text scan finds every byte at every position of longer text") {
  // Long runs are scanned eight bytes at a time: each byte value, and each
  // kind of sequence, at each position of printable ASCII text.
  const std::string base = "Lindenallee 102, Haus B";
  std::vector<std::string> inserts;
  for (unsigned b = 0; b < 256; ++b)
    inserts.emplace_back(1, static_cast<char>(b));
  for (const char* seq : {"\xC3\xA4", "\xCC\x88", "\xE2\x84\xAB", "\xF0\x9F\x98\x80",
                          "\xED\xA0\x80", "\xC0\x80", "\t\x01", "\x7F\x7F"})
    inserts.emplace_back(seq);
  for (const auto& insert : inserts)
    for (std::size_t at = 0; at <= base.size(); ++at) {
      std::string s = base;
      s.insert(at, insert);
      CAPTURE(s);
      check_scan(s);
      CHECK(fast_normalize_text(s) == reference_normalize_text(s));
    }
}

TEST_CASE("text below U+0300 is NFC already: every code point and every pair of them") {
  int changed = 0;
  for (char32_t a = 1; a < 0x300; ++a) {
    auto one = encode(a);
    changed += utf8proc_nfc(one) != one ? 1 : 0;
    for (char32_t b = 1; b < 0x300; ++b) {
      auto two = one + encode(b);
      changed += utf8proc_nfc(two) != two ? 1 : 0;
    }
  }
  CHECK(changed == 0);
  // And the scan says "not known to be NFC" from U+0300 on.
  CHECK(scan_text(encode(0x2FF)).nfc);
  CHECK_FALSE(scan_text(encode(0x300)).nfc);
  CHECK_FALSE(scan_text("A" + encode(0x30A)).nfc);
  CHECK_FALSE(scan_text(encode(0x212B)).nfc);
  CHECK_FALSE(scan_text(encode(0xAC00)).nfc);
  CHECK_FALSE(scan_text(encode(0x1F600)).nfc);
}

TEST_CASE("normalize_text gives what utf8proc alone gives") {
  std::vector<std::string> cases = {
      "",
      "   ",
      "Anna",
      "  Lindenallee 102 ",
      "Weber & S\xC3\xB6hne",                     // precomposed
      "Dvo\xC5\x99\xC3\xA1k",                     // Latin Extended-A
      "Jo\xCC\x88rg",                             // NFD: o + U+0308
      "A\xCC\x8A",                                // A + ring: U+00C5
      "\xE2\x84\xAB",                             // ANGSTROM SIGN: a singleton to U+00C5
      "\xEA\xB0\x80",                             // Hangul syllable
      "\xE1\x84\x80\xE1\x85\xA1",                 // Hangul jamo: compose
      "q\xCC\xA3\xCC\x87",                        // marks in canonical order
      "q\xCC\x87\xCC\xA3",                        // marks to reorder
      "\xCE\x91\xCE\xB8\xCE\xAE\xCE\xBD\xCE\xB1", // Greek
      "\xF0\x9F\x98\x80 smile",
      "line\none\ttab\r",
      "a\x01z",
      "a\x7Fz",
      "a\x1B[31m",
      "\t\x01",
      "ab\xFF",
      "\xC3",
      "\xC0\x80",         // overlong NUL
      "\xED\xA0\x80",     // surrogate
      "\xF4\x90\x80\x80", // past U+10FFFF
      "\xE2\x82"
      "A",
      "\x01\xFF", // control and invalid: UTF-8 first
      "\xCC\x88 leading mark",
      "S\xC3\xB6hne\xCC\x88",
      "caf\xC3\xA9\x01",
  };
  // Generated: random mixes of ASCII, Latin, combining marks, controls and bad bytes.
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           " ",
                                           "0",
                                           "\t",
                                           "\n",
                                           "\x01",
                                           "\x7F",
                                           "\xC3\xA4",
                                           "\xC3\x9F",
                                           "\xC5\x99",
                                           "\xCC\x88",
                                           "\xCC\x81",
                                           "\xCC\xA3",
                                           "\xE2\x84\xAB",
                                           "\xEA\xB0\x80",
                                           "\xE1\x85\xA1",
                                           "\xFF",
                                           "\xC3",
                                           "\xE2\x82",
                                           "\xF0\x9F\x98\x80",
                                           "\xEF\xBF\xBD"};
  std::uint64_t state = 7;
  auto next = [&](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    auto length = next(8);
    for (std::uint64_t k = 0; k < length; ++k)
      s += pieces[next(pieces.size())];
    cases.push_back(s);
  }
  for (const auto& s : cases) {
    CAPTURE(s);
    CHECK(fast_normalize_text(s) == reference_normalize_text(s));
    check_scan(s);
  }
}
