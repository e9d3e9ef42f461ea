#include <crm/error.hpp>
#include <crm/normalize.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

// normalize_phone splits common shapes itself and asks libphonenumber only
// whether the number is valid; the result must be what Parse() gives, for
// valid and invalid numbers alike (value or reason).
std::string phone_result(bool reference, const std::string& number, const std::string& region) {
  try {
    return reference ? normalize_phone_reference(number, region) : normalize_phone(number, region);
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

TEST_CASE("the fast phone path agrees with libphonenumber's Parse") {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"030 1234567", "DE"},      {"+49 30 1234567", "DE"},   {"+49 (0)30 1234567", "DE"},
      {"0049 30 1234567", "DE"},  {"49 30 1234567", "DE"},    {"4930 1234567", "DE"},
      {"030 1234567", "AT"},      {"+44 20 7946 0958", "DE"}, {"020 7946 0958", "GB"},
      {"07700 900123", "GB"},     {"+44 7700 900123", "US"},  {"+41 44 668 18 00", "CH"},
      {"044 668 18 00", "CH"},    {"+33 6 12 34 56 78", "FR"}, {"06 12 34 56 78", "FR"},
      {"+31 20 123 4567", "NL"},  {"+32 2 123 45 67", "BE"},  {"+46 8 123 456 78", "SE"},
      {"+353 1 234 5678", "IE"},  {"01 234 5678", "IE"},      {"+39 06 1234 5678", "IT"},
      {"06 1234 5678", "IT"},     {"(212) 555-0123", "US"},   {"+1 212 555 0123", "DE"},
      {"1 212 555 0123", "US"},   {"+49 30 1234567 ext 12", "DE"}, {"030 CALL ME", "DE"},
      {"+49", "DE"},              {"0", "DE"},                {"+49 1", "DE"},
      {"+49 30 12345678901234567", "DE"}, {"+999 123 4567", "DE"}, {"0301234567", "ZZ"},
      {"030.123.4567", "DE"},     {"+4930/123-4567", "DE"},   {"00 49 30 1234567", "CH"},
  };
  // Generated numbers of every shape the fast path takes, valid or not.
  const std::pair<const char*, const char*> regions[] = {
      {"DE", "49"}, {"AT", "43"}, {"CH", "41"}, {"FR", "33"}, {"NL", "31"}, {"BE", "32"},
      {"SE", "46"}, {"IE", "353"}, {"GB", "44"}, {"US", "1"}, {"IT", "39"}, {"ES", "34"}};
  const char* separators[] = {" ", "", "-", "/", ".", " "};
  std::uint64_t state = 12345;
  auto next = [&](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  for (int i = 0; i < 3000; ++i) {
    const auto& [region, code] = regions[next(std::size(regions))];
    std::string digits;
    auto length = 3 + next(11);
    for (std::uint64_t d = 0; d < length; ++d)
      digits.push_back(static_cast<char>('0' + (d == 0 ? 1 + next(9) : next(10))));
    std::string sep = separators[next(std::size(separators))];
    std::string grouped = digits.substr(0, 2 + next(2)) + sep + digits.substr(std::min<std::size_t>(digits.size(), 2 + next(2)));
    switch (next(3)) {
    case 0:
      cases.emplace_back("+" + std::string(code) + " " + grouped, region);
      break;
    case 1:
      cases.emplace_back("0" + grouped, region);
      break;
    default:
      cases.emplace_back(grouped, region);
      break;
    }
  }
  int valid = 0;
  for (const auto& [number, region] : cases) {
    CAPTURE(number);
    CAPTURE(region);
    auto fast = phone_result(false, number, region);
    CHECK(fast == phone_result(true, number, region));
    valid += fast.starts_with("+") ? 1 : 0;
  }
  // Both valid and invalid numbers were compared.
  CHECK(valid > 300);
  CHECK(valid < static_cast<int>(cases.size()) - 300);
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

// The fast path decides validity itself from libphonenumber's metadata (the
// same patterns, compiled once); a wrong "valid" would let a bad number in.
// Numbers of every type (premium rate, toll free, shared cost, VoIP,
// personal, pager, UAN, mobile, fixed line) and of the regions that share
// +44, at and around the lengths each type allows.
TEST_CASE("the fast phone path agrees with Parse on every number type and length") {
  const std::vector<std::pair<std::string, std::string>> stems = {
      {"+49 30 ", "DE"},   {"+49 89 ", "DE"},   {"+49 151 ", "DE"},   {"+49 1761 ", "DE"},
      {"+49 900 ", "DE"},  {"+49 800 ", "DE"},  {"+49 180 ", "DE"},   {"+49 700 ", "DE"},
      {"+49 32 ", "DE"},   {"+49 16 ", "DE"},   {"+49 1 ", "DE"},     {"+49 9 ", "DE"},
      {"+44 20 ", "GB"},   {"+44 121 ", "GB"},  {"+44 7700 ", "GB"},  {"+44 7911 ", "GB"},
      {"+44 1481 ", "GB"}, {"+44 7781 ", "GB"}, {"+44 1624 ", "GB"},  {"+44 7624 ", "GB"},
      {"+44 1534 ", "GB"}, {"+44 7797 ", "GB"}, {"+44 800 ", "GB"},   {"+44 90 ", "GB"},
      {"+44 845 ", "GB"},  {"+44 56 ", "GB"},   {"+44 70 ", "GB"},    {"+44 76 ", "GB"},
      {"+44 55 ", "GB"},   {"+44 3 ", "GB"},    {"+43 1 ", "AT"},     {"+43 664 ", "AT"},
      {"+43 900 ", "AT"},  {"+43 800 ", "AT"},  {"+43 720 ", "AT"},   {"+41 44 ", "CH"},
      {"+41 79 ", "CH"},   {"+41 800 ", "CH"},  {"+41 900 ", "CH"},   {"+41 840 ", "CH"},
      {"+41 878 ", "CH"},  {"+41 74 ", "CH"},   {"+33 1 ", "FR"},     {"+33 6 ", "FR"},
      {"+33 7 ", "FR"},    {"+33 8 ", "FR"},    {"+33 9 ", "FR"},     {"+31 20 ", "NL"},
      {"+31 6 ", "NL"},    {"+31 800 ", "NL"},  {"+31 900 ", "NL"},   {"+31 85 ", "NL"},
      {"+31 66 ", "NL"},   {"+32 2 ", "BE"},    {"+32 470 ", "BE"},   {"+32 800 ", "BE"},
      {"+32 90 ", "BE"},   {"+32 78 ", "BE"},   {"+46 8 ", "SE"},     {"+46 70 ", "SE"},
      {"+46 20 ", "SE"},   {"+46 900 ", "SE"},  {"+46 77 ", "SE"},    {"+46 74 ", "SE"},
      {"+353 1 ", "IE"},   {"+353 85 ", "IE"},  {"+353 1800 ", "IE"}, {"+353 1850 ", "IE"},
      {"+353 76 ", "IE"},  {"+353 818 ", "IE"}, {"+353 15 ", "IE"},   {"+353 82 ", "IE"},
  };
  std::uint64_t state = 424242;
  auto next = [&](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  int valid = 0;
  int count = 0;
  for (const auto& [stem, region] : stems) {
    for (int length = 1; length <= 11; ++length) {
      for (int k = 0; k < 12; ++k) {
        std::string number = stem;
        for (int d = 0; d < length; ++d)
          number.push_back(static_cast<char>('0' + next(10)));
        // The national form too, in the region that owns the code.
        std::string national = "0" + number.substr(number.find(' ') + 1);
        for (const auto& [n, r] : {std::pair{number, region}, std::pair{national, region}}) {
          CAPTURE(n);
          CAPTURE(r);
          auto fast = phone_result(false, n, r);
          CHECK(fast == phone_result(true, n, r));
          valid += fast.starts_with("+") ? 1 : 0;
          ++count;
        }
      }
    }
  }
  CHECK(valid > count / 10);
  CHECK(valid < count - count / 10);
}

// Each thread compiles its own patterns (an import reads on a second
// thread): two threads at once give what one thread gives.
TEST_CASE("the fast phone path gives the same on several threads at once") {
  std::vector<std::string> numbers;
  std::uint64_t state = 99;
  auto next = [&](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  const char* stems[] = {"+49 30 ", "+49 151 ", "+44 20 ", "+44 7700 ", "+33 6 ", "+43 1 "};
  for (int i = 0; i < 2000; ++i) {
    std::string n = stems[next(std::size(stems))];
    auto length = 5 + next(5);
    for (std::uint64_t d = 0; d < length; ++d)
      n.push_back(static_cast<char>('0' + next(10)));
    numbers.push_back(n);
  }
  std::vector<std::string> expected;
  for (const auto& n : numbers)
    expected.push_back(phone_result(true, n, "DE"));
  std::vector<std::string> results[2];
  std::vector<std::thread> threads;
  for (auto& out : results)
    threads.emplace_back([&numbers, &out] {
      for (const auto& n : numbers)
        out.push_back(phone_result(false, n, "DE"));
    });
  for (auto& t : threads)
    t.join();
  CHECK(results[0] == expected);
  CHECK(results[1] == expected);
}
