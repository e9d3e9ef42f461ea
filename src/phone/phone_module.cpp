// The only code that links libphonenumber. It is loaded with dlopen by
// src/core/normalize.cpp when a phone number is written, so the read paths
// never pay for loading ICU, protobuf and abseil.

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <string>

namespace {

void copy_out(const std::string& text, char* out, std::size_t out_size) {
  if (out_size == 0)
    return;
  std::size_t n = text.size() < out_size - 1 ? text.size() : out_size - 1;
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

} // namespace

// Writes the E.164 form of `number` (parsed with `region` when it has no
// '+') to `out` and returns 0, or writes the reason it is invalid and
// returns 1.
extern "C" __attribute__((visibility("default"))) int
crm_phone_e164(const char* number, const char* region, char* out, std::size_t out_size) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
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
