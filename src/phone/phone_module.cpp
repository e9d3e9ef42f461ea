// The only code that links libphonenumber. It is loaded with dlopen by
// src/core/normalize.cpp when a phone number is written, so the read paths
// never pay for loading ICU, protobuf and abseil.

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/regex.h>
#include <unicode/stringpiece.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// libphonenumber's compiled-in metadata (its metadata.h, not installed, but
// the library exports both): PhoneNumberUtil reads the same bytes.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
} // namespace i18n::phonenumbers

namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
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
    {"DE", "49"}, {"AT", "43"}, {"CH", "41"},  {"FR", "33"}, {"NL", "31"},
    {"BE", "32"}, {"SE", "46"}, {"IE", "353"}, {"GB", "44"},
};

// IsValidNumber() for the plain regions without its per-call costs. For a
// number of a calling code that one region owns, libphonenumber answers
// GetNumberTypeHelper(national number, region) != UNKNOWN: the number
// matches the general description and one of the type descriptions (premium
// rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail, fixed
// line, and mobile unless its pattern is the fixed line's), each a list of
// possible lengths and an ICU regular expression that must match the whole
// number. Where several regions share the code (+44: GB, GG, IM, JE),
// libphonenumber tries the main region first, and a main region without
// leading digits is chosen exactly when that same test passes, so a number
// that passes it is valid. Every lookup there hashes the long pattern
// strings, converts the number to UTF-16 and builds a new matcher, for each
// of up to eleven descriptions; here each pattern is compiled once per
// thread and its matcher reused. A "no" here is not trusted (the caller
// then asks IsValidNumber()), so only "yes" must equal libphonenumber's
// answer; tests/unit/test_normalize.cpp holds the two paths equal.
struct Desc {
  std::vector<int> lengths; // empty: any length
  std::string pattern;      // empty: matches nothing
};

struct CodeRules {
  int calling_code = 0;
  Desc general;
  std::vector<Desc> types; // fixed line and mobile first: most numbers are one
};

Desc desc_of(const PhoneNumberDesc& d) {
  Desc out;
  out.lengths.assign(d.possible_length().begin(), d.possible_length().end());
  out.pattern = d.national_number_pattern();
  return out;
}

// The rules of each plain region's calling code, or none where the region
// does not decide alone (then IsValidNumber() is asked). Read once.
const std::vector<CodeRules>& code_rules() {
  static const std::vector<CodeRules> rules = [] {
    std::vector<CodeRules> out;
    PhoneMetadataCollection collection;
    if (!collection.ParseFromArray(i18n::phonenumbers::metadata_get(),
                                   i18n::phonenumbers::metadata_size()))
      return out;
    for (const auto& plain : k_plain) {
      const PhoneMetadata* region = nullptr;
      int sharing = 0;
      for (const auto& m : collection.metadata())
        if (m.id() == plain.region)
          region = &m;
      if (region == nullptr || std::to_string(region->country_code()) != plain.calling_code)
        continue;
      for (const auto& m : collection.metadata())
        if (m.country_code() == region->country_code() && m.id() != "001")
          ++sharing;
      if (sharing > 1 && (!region->main_country_for_code() || region->has_leading_digits()))
        continue;
      CodeRules r;
      r.calling_code = region->country_code();
      r.general = desc_of(region->general_desc());
      r.types.push_back(desc_of(region->fixed_line()));
      if (!region->same_mobile_and_fixed_line_pattern())
        r.types.push_back(desc_of(region->mobile()));
      for (const auto* d :
           {&region->premium_rate(), &region->toll_free(), &region->shared_cost(), &region->voip(),
            &region->personal_number(), &region->pager(), &region->uan(), &region->voicemail()})
        r.types.push_back(desc_of(*d));
      out.push_back(std::move(r));
    }
    return out;
  }();
  return rules;
}

// One thread's compiled patterns, built on first use.
class Validator {
public:
  // True if libphonenumber's IsValidNumber() holds the number valid; false
  // if it does not or if this cannot tell (no rules for the code).
  bool valid(int calling_code, std::string_view national) {
    const auto& rules = code_rules();
    auto it = std::find_if(rules.begin(), rules.end(),
                           [&](const CodeRules& r) { return r.calling_code == calling_code; });
    if (it == rules.end())
      return false;
    auto& compiled = m_compiled[static_cast<std::size_t>(it - rules.begin())];
    if (compiled.empty()) {
      compiled.emplace_back(it->general);
      for (const auto& d : it->types)
        compiled.emplace_back(d);
    }
    m_input = icu::UnicodeString::fromUTF8(
        icu::StringPiece(national.data(), static_cast<int32_t>(national.size())));
    auto length = static_cast<int>(national.size());
    if (!compiled.front().matches(m_input, length))
      return false;
    return std::any_of(compiled.begin() + 1, compiled.end(),
                       [&](CompiledDesc& d) { return d.matches(m_input, length); });
  }

private:
  class CompiledDesc {
  public:
    explicit CompiledDesc(const Desc& desc) : m_desc(&desc) {}
    // libphonenumber's IsNumberMatchingDesc(): a listed length, then a full
    // match of the pattern, compiled as its ICU adapter compiles it.
    bool matches(const icu::UnicodeString& input, int length) {
      if (!m_desc->lengths.empty() && std::find(m_desc->lengths.begin(), m_desc->lengths.end(),
                                                length) == m_desc->lengths.end())
        return false;
      if (m_desc->pattern.empty())
        return false;
      if (!m_tried) {
        m_tried = true;
        UParseError parse_error;
        UErrorCode status = U_ZERO_ERROR;
        m_pattern.reset(icu::RegexPattern::compile(
            icu::UnicodeString::fromUTF8(icu::StringPiece(
                m_desc->pattern.data(), static_cast<int32_t>(m_desc->pattern.size()))),
            0, parse_error, status));
        if (U_FAILURE(status))
          m_pattern.reset();
        if (m_pattern) {
          m_matcher.reset(m_pattern->matcher(status));
          if (U_FAILURE(status))
            m_matcher.reset();
        }
      }
      if (!m_matcher)
        return false;
      UErrorCode status = U_ZERO_ERROR;
      m_matcher->reset(input);
      bool matched = m_matcher->matches(0, status);
      return matched && !U_FAILURE(status);
    }

  private:
    const Desc* m_desc;
    bool m_tried = false;
    std::unique_ptr<icu::RegexPattern> m_pattern;
    std::unique_ptr<icu::RegexMatcher> m_matcher;
  };

  std::vector<std::vector<CompiledDesc>> m_compiled{std::size(k_plain)};
  icu::UnicodeString m_input;
};

// Reading the metadata and compiling the patterns costs about a millisecond,
// more than IsValidNumber() on a few numbers: a thread's first numbers (all
// of a command that writes one or two) are left to libphonenumber.
constexpr int k_warm_up = 32;

bool fast_valid(int calling_code, std::string_view national) {
  thread_local int calls = 0;
  if (calls < k_warm_up) {
    ++calls;
    return false;
  }
  thread_local Validator validator;
  return validator.valid(calling_code, national);
}

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
  if (!fast_valid(calling_code, national)) {
    PhoneNumber parsed;
    parsed.set_country_code(calling_code);
    parsed.set_national_number(value);
    if (!util.IsValidNumber(parsed))
      return false;
  }
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
crm_phone_e164_reference(const char* number, const char* region, char* out, std::size_t out_size) {
  return full_e164(*PhoneNumberUtil::GetInstance(), number, region, out, out_size);
}
