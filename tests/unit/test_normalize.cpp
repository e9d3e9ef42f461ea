#include <crm/error.hpp>
#include <crm/normalize.hpp>

#include <doctest/doctest.h>

#include <functional>

using namespace crm;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("email keeps its display form, trimmed, and matches lower-cased") {
  CHECK(normalize_email_display("  Anna.Mueller@Example.COM ") == "Anna.Mueller@Example.COM");
  CHECK(email_match_key("Anna.Mueller@Example.COM") == "anna.mueller@example.com");
  CHECK(email_match_key("ÄRGER@Example.de") == "ärger@example.de");
}

TEST_CASE("invalid emails are rejected with the reason") {
  CHECK(error_of([] { normalize_email_display("not-an-email"); }) ==
        "invalid email 'not-an-email': no '@'");
  CHECK(error_of([] { normalize_email_display("anna@"); }) ==
        "invalid email 'anna@': no domain after the '@'");
  CHECK(error_of([] { normalize_email_display("@example.com"); }) ==
        "invalid email '@example.com': nothing before the '@'");
  CHECK(error_of([] { normalize_email_display("a b@example.com"); }) ==
        "invalid email 'a b@example.com': contains a space");
  CHECK(error_of([] { normalize_email_display("x@@y.de"); }) ==
        "invalid email 'x@@y.de': more than one '@'");
  CHECK(error_of([] { normalize_email_display("x@localhost"); }) ==
        "invalid email 'x@localhost': the domain needs a dot between two names, like example.com");
}

TEST_CASE("text is trimmed and put in NFC; invalid UTF-8 and control characters are rejected") {
  CHECK(normalize_text("  Jo\xCC\x88rg ", "first_name") == "J\xC3\xB6rg");
  CHECK(normalize_text("Zoë", "first_name") == "Zoë");
  CHECK(error_of([] { normalize_text("ab\xFF", "city"); }) == "invalid city: not valid UTF-8");
  CHECK(error_of([] { normalize_text("a\x01z", "city"); }) ==
        "invalid city: contains a control character");
}

TEST_CASE("phones become E.164 with the given region") {
  CHECK(normalize_phone("030 1234567", "DE") == "+49301234567");
  CHECK(normalize_phone("030/123-4567", "DE") == "+49301234567");
  CHECK(normalize_phone("+33 1 42 68 53 00", "DE") == "+33142685300");
  CHECK(normalize_phone("01 42 68 53 00", "FR") == "+33142685300");
  CHECK(phone_library_loaded());
}

TEST_CASE("invalid phones are rejected with the reason") {
  CHECK(error_of([] { normalize_phone("12", "DE"); }) ==
        "invalid phone '12': not a valid number for its region (read with region DE)");
  CHECK(error_of([] { normalize_phone("phone?", "DE"); }) ==
        "invalid phone 'phone?': not a phone number (read with region DE)");
  CHECK(
      error_of([] { normalize_phone("+49 0000", "DE"); }).starts_with("invalid phone '+49 0000'"));
  CHECK(error_of([] { normalize_phone("++49301234567", "DE"); }).starts_with("invalid phone"));
}

TEST_CASE("countries are ISO 3166 alpha-2, upper-cased") {
  CHECK(normalize_country("de") == "DE");
  CHECK(normalize_country(" GB ") == "GB");
  CHECK(error_of([] { normalize_country("XX"); }) ==
        "invalid country 'XX': not an ISO 3166 alpha-2 code");
  CHECK(error_of([] { normalize_country("DEU"); }) ==
        "invalid country 'DEU': not an ISO 3166 alpha-2 code");
  CHECK(error_of([] { normalize_country("D "); }) ==
        "invalid country 'D': not an ISO 3166 alpha-2 code");
}

TEST_CASE("dates are YYYY-MM-DD calendar dates") {
  CHECK(normalize_date("1969-08-18", "birthdate") == "1969-08-18");
  CHECK(error_of([] { normalize_date("2026-02-30", "birthdate"); }) ==
        "invalid birthdate '2026-02-30': expected a date YYYY-MM-DD");
  CHECK(error_of([] { normalize_date("18.08.1969", "birthdate"); }) ==
        "invalid birthdate '18.08.1969': expected a date YYYY-MM-DD");
}
