// The only code that links libphonenumber. It is loaded with dlopen by
// src/core/normalize.cpp when a phone number is written, so the read paths
// never pay for loading ICU, protobuf and abseil.

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

void copy_out(const std::string& text, char* out, std::size_t out_size) {
  if (out_size == 0)
    return;
  std::size_t n = text.size() < out_size - 1 ? text.size() : out_size - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

// Regions whose numbers Parse() would read the plain way: the national
// prefix is "0" and nothing else is stripped or rewritten when parsing
// (no national_prefix_for_parsing rule, no leading zeros kept in the
// national number, one calling code). Their calling codes too; ITU calling
// codes are prefix-free, so a match on the first digits is the code.
struct PlainRegion {
  std::string_view region;
  std::string_view calling_code;
};
constexpr PlainRegion k_plain[] = {
    {"DE", "49"}, {"AT", "43"}, {"CH", "41"}, {"FR", "33"}, {"NL", "31"},
    {"BE", "32"}, {"SE", "46"}, {"IE", "353"}, {"GB", "44"},
};

// The fast path: for the common shapes (+CC digits, or national digits with
// an optional leading 0) in a plain region, the number is split here instead
// of by Parse(), whose regular expressions cost about 15 µs; libphonenumber
// still decides whether the number is valid. Anything else (letters,
// extensions, "00" prefixes, a 0 after the calling code, other regions, an
// invalid number) returns false and takes the full Parse() path, which also
// words the reason. tests/unit/test_normalize.cpp checks that both paths
// agree on generated and hand-written numbers.
bool fast_e164(const PhoneNumberUtil& util, std::string_view number, std::string_view region,
               std::string& e164) {
  std::string digits;
  digits.reserve(number.size());
  bool plus = false;
  for (std::size_t i = 0; i < number.size(); ++i) {
    char c = number[i];
    if (c >= '0' && c <= '9')
      digits.push_back(c);
    else if (c == '+' && i == 0)
      plus = true;
    else if (c != ' ' && c != '-' && c != '.' && c != '/' && c != '(' && c != ')')
      return false;
  }
  std::string_view code;
  std::string_view national;
  if (plus) {
    for (const auto& r : k_plain)
      if (std::string_view(digits).starts_with(r.calling_code)) {
        code = r.calling_code;
        national = std::string_view(digits).substr(code.size());
        break;
      }
  } else {
    for (const auto& r : k_plain)
      if (r.region == region) {
        code = r.calling_code;
        national = digits;
        if (national.starts_with('0'))
          national.remove_prefix(1);
        break;
      }
  }
  if (code.empty() || national.size() < 4 || national.size() > 15 || national.front() == '0')
    return false;
  std::uint64_t value = 0;
  for (char c : national)
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  int calling_code = 0;
  for (char c : code)
    calling_code = calling_code * 10 + (c - '0');
  PhoneNumber parsed;
  parsed.set_country_code(calling_code);
  parsed.set_national_number(value);
  if (!util.IsValidNumber(parsed))
    return false;
  e164.assign("+");
  e164.append(code);
  e164.append(national);
  return true;
}

int full_e164(const PhoneNumberUtil& util, const char* number, const char* region, char* out,
              std::size_t out_size) {
  PhoneNumber parsed;
  auto status = util.Parse(number, region, &parsed);
  if (status != PhoneNumberUtil::NO_PARSING_ERROR) {
    const char* reason = "not a phone number";
    switch (status) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      reason = "unknown country calling code";
      break;
    case PhoneNumberUtil::TOO_SHORT_NSN:
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      reason = "too short";
      break;
    case PhoneNumberUtil::TOO_LONG_NSN:
      reason = "too long";
      break;
    default:
      break;
    }
    copy_out(reason, out, out_size);
    return 1;
  }
  if (!util.IsValidNumber(parsed)) {
    copy_out("not a valid number for its region", out, out_size);
    return 1;
  }
  std::string e164;
  util.Format(parsed, PhoneNumberUtil::E164, &e164);
  copy_out(e164, out, out_size);
  return 0;
}

} // namespace

// Writes the E.164 form of `number` (parsed with `region` when it has no
// '+') to `out` and returns 0, or writes the reason it is invalid and
// returns 1.
extern "C" __attribute__((visibility("default"))) int
crm_phone_e164(const char* number, const char* region, char* out, std::size_t out_size) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::string e164;
  if (fast_e164(util, number, region, e164)) {
    copy_out(e164, out, out_size);
    return 0;
  }
  return full_e164(util, number, region, out, out_size);
}

// The same through Parse() alone, without the fast path: for the tests that
// hold the two paths equal.
extern "C" __attribute__((visibility("default"))) int
crm_phone_e164_reference(const char* number, const char* region, char* out,
                         std::size_t out_size) {
  return full_e164(*PhoneNumberUtil::GetInstance(), number, region, out, out_size);
}
