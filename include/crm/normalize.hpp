#pragma once

#include <string>
#include <string_view>

namespace crm {

// Normalisation of SPEC.md section 6 "contact". Each function throws
// Error(Exit::data) with the reason when the value is invalid; none drops a
// value silently.

// Trims ASCII whitespace; rejects invalid UTF-8 and control characters other
// than tab and line breaks;
// returns the text in Unicode NFC. `what` names the field in errors.
std::string normalize_text(std::string_view value, std::string_view what);

// The email as displayed: trimmed, NFC, checked (one '@', a local part and a
// domain with a dot, no spaces or control characters).
std::string normalize_email_display(std::string_view value);

// The email as matched: the display form lower-cased.
std::string email_match_key(std::string_view display);

// A phone number in E.164 (+4930123456), parsed with `region` (ISO 3166
// alpha-2) for numbers without '+'. Loads libphonenumber on first use.
std::string normalize_phone(std::string_view value, std::string_view region);
// The same by libphonenumber's Parse() alone, without the fast path that
// normalize_phone takes for common shapes: for the tests that hold both equal.
std::string normalize_phone_reference(std::string_view value, std::string_view region);

// An ISO 3166-1 alpha-2 code, upper-cased ("de" -> "DE").
std::string normalize_country(std::string_view value);

// A calendar date `YYYY-MM-DD`.
std::string normalize_date(std::string_view value, std::string_view what);

// True once libphonenumber has been loaded into this process.
bool phone_library_loaded();

} // namespace crm
