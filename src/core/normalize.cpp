#include <crm/clock.hpp>
#include <crm/error.hpp>
#include <crm/normalize.hpp>

#include "utf8.hpp"

#include <fmt/core.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <memory>
#include <vector>

namespace crm {

namespace {

// ISO 3166-1 alpha-2: the officially assigned codes, plus XK (Kosovo),
// which is user-assigned but in common use.
constexpr std::string_view k_countries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS XK YE YT ZA ZM ZW";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Decodes UTF-8, calling `f` for each code point; false on invalid UTF-8.
template <typename F> bool for_each_code_point(std::string_view s, F&& f) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  auto left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0)
      return false;
    f(cp);
    p += n;
    left -= n;
  }
  return true;
}

std::string to_nfc(std::string_view s) {
  utf8proc_uint8_t* out = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                        static_cast<utf8proc_ssize_t>(s.size()), &out,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0)
    return {};
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

using PhoneFunction = int (*)(const char*, const char*, char*, std::size_t);

PhoneFunction g_phone = nullptr;
PhoneFunction g_phone_reference = nullptr;

PhoneFunction load_phone_module() {
  if (g_phone != nullptr)
    return g_phone;
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    candidates.push_back(exe.parent_path() / "crm_phone.so");
  candidates.emplace_back(CRM_PHONE_MODULE_INSTALLED);
  std::string reasons;
  for (const auto& path : candidates) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      reasons += fmt::format("{}{}", reasons.empty() ? "" : "; ", ::dlerror());
      continue;
    }
    g_phone = reinterpret_cast<PhoneFunction>(::dlsym(handle, "crm_phone_e164"));
    g_phone_reference =
        reinterpret_cast<PhoneFunction>(::dlsym(handle, "crm_phone_e164_reference"));
    if (g_phone != nullptr && g_phone_reference != nullptr)
      return g_phone;
  }
  throw Error(Exit::internal, fmt::format("cannot load the phone module: {}", reasons),
              "crm_phone.so belongs beside the crm binary or in the library folder of the "
              "installation; reinstall crm");
}

} // namespace

std::string normalize_text(std::string_view value, std::string_view what) {
  auto text = trim(value);
  auto scan = scan_text(text);
  if (!scan.valid_utf8)
    throw Error(Exit::data, fmt::format("invalid {}: not valid UTF-8", what));
  // Tabs and line breaks are kept (multi-line streets, notes); other control
  // characters would corrupt terminals and the separators of group_concat.
  if (scan.control)
    throw Error(Exit::data, fmt::format("invalid {}: contains a control character", what));
  // Most text is ASCII or Latin, NFC as it is (see scan_text): utf8proc
  // only sees the rest.
  if (scan.nfc)
    return std::string(text);
  return to_nfc(text);
}

std::string normalize_email_display(std::string_view value) {
  std::string email = normalize_text(value, "email");
  auto fail = [&](std::string_view why) {
    return Error(Exit::data, fmt::format("invalid email '{}': {}", email, why));
  };
  auto at = email.find('@');
  if (at == std::string::npos)
    throw fail("no '@'");
  if (email.find('@', at + 1) != std::string::npos)
    throw fail("more than one '@'");
  if (at == 0)
    throw fail("nothing before the '@'");
  std::string_view domain = std::string_view(email).substr(at + 1);
  if (domain.empty())
    throw fail("no domain after the '@'");
  if (email.find_first_of(" \t\r\n") != std::string::npos)
    throw fail("contains a space");
  auto dot = domain.find('.');
  if (dot == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos)
    throw fail("the domain needs a dot between two names, like example.com");
  return email;
}

std::string email_match_key(std::string_view display) {
  if (is_ascii(display)) {
    std::string key(display);
    for (char& c : key)
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
    return key;
  }
  std::string key;
  key.reserve(display.size());
  for_each_code_point(display, [&](utf8proc_int32_t cp) {
    utf8proc_uint8_t buffer[4];
    auto n = utf8proc_encode_char(utf8proc_tolower(cp), buffer);
    key.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
  });
  return key;
}

namespace {

std::string phone_with(PhoneFunction e164, std::string_view value, std::string_view region) {
  std::string text = normalize_text(value, "phone");
  if (text.empty())
    throw Error(Exit::data, "invalid phone '': empty");
  // libphonenumber reads "++49..." as "+49..."; a doubled or misplaced '+' is
  // more likely a typo than a number, so it is refused.
  if (auto plus = text.rfind('+'); plus != std::string::npos && plus != 0)
    throw Error(Exit::data, fmt::format("invalid phone '{}': '+' belongs only at the start", text));
  std::string region_text(region.empty() ? "ZZ" : region);
  std::array<char, 128> out{};
  if (e164(text.c_str(), region_text.c_str(), out.data(), out.size()) != 0)
    throw Error(
        Exit::data,
        fmt::format("invalid phone '{}': {}{}", text, out.data(),
                    text.front() == '+' ? "" : fmt::format(" (read with region {})", region_text)));
  return out.data();
}

} // namespace

std::string normalize_phone(std::string_view value, std::string_view region) {
  return phone_with(load_phone_module(), value, region);
}

std::string normalize_phone_reference(std::string_view value, std::string_view region) {
  load_phone_module();
  return phone_with(g_phone_reference, value, region);
}

std::string normalize_country(std::string_view value) {
  auto text = trim(value);
  std::string code;
  for (char c : text)
    code.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  bool letters = code.size() == 2 &&
                 std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!letters || k_countries.find(code) == std::string_view::npos)
    throw Error(
        Exit::data,
        fmt::format("invalid country '{}': not an ISO 3166 alpha-2 code", std::string(text)),
        "use two letters, like DE, AT, CH, FR, GB, US");
  return code;
}

std::string normalize_date(std::string_view value, std::string_view what) {
  auto text = trim(value);
  auto date = parse_date(text);
  if (!date)
    throw Error(Exit::data, fmt::format("invalid {} '{}': expected a date YYYY-MM-DD", what,
                                        std::string(text)));
  return format_date(*date);
}

bool phone_library_loaded() { return g_phone != nullptr; }

} // namespace crm
