#include <crm/clock.hpp>
#include <crm/error.hpp>

#include <doctest/doctest.h>

#include <string>

using crm::Duration;
using crm::format_time;
using crm::parse_time;
using crm::Rate;

namespace {

std::string round_trip(std::string_view text) {
  auto t = parse_time(text);
  return t ? format_time(*t) : "nullopt";
}

std::string shifted(std::string_view from, std::string_view duration, int sign) {
  return format_time(crm::shift(*parse_time(from), *crm::parse_duration(duration), sign));
}

} // namespace

TEST_CASE("parse_time reads RFC 3339 in UTC") {
  CHECK(round_trip("2026-11-22T09:30:00Z") == "2026-11-22T09:30:00Z");
  CHECK(round_trip("2026-11-22t09:30:00z") == "2026-11-22T09:30:00Z");
  CHECK(round_trip("2026-11-22T00:00:00Z") == "2026-11-22T00:00:00Z");
  CHECK(round_trip("2026-11-22T23:59:59Z") == "2026-11-22T23:59:59Z");
}

TEST_CASE("parse_time converts an offset to UTC") {
  CHECK(round_trip("2026-11-22T09:30:00+01:00") == "2026-11-22T08:30:00Z");
  CHECK(round_trip("2026-11-22T20:00:00-05:30") == "2026-11-23T01:30:00Z");
  CHECK(round_trip("2026-01-01T00:30:00+01:00") == "2025-12-31T23:30:00Z");
  CHECK(round_trip("2026-11-22T09:30:00-00:00") == "2026-11-22T09:30:00Z");
}

TEST_CASE("parse_time drops fractional seconds") {
  CHECK(round_trip("2026-11-22T09:30:00.999Z") == "2026-11-22T09:30:00Z");
  CHECK(round_trip("2026-11-22T09:30:05.1+02:00") == "2026-11-22T07:30:05Z");
}

TEST_CASE("parse_time reads a date as midnight UTC") {
  CHECK(round_trip("2026-11-22") == "2026-11-22T00:00:00Z");
  CHECK(round_trip("2028-02-29") == "2028-02-29T00:00:00Z");
}

TEST_CASE("parse_time rejects malformed and impossible times") {
  for (const char* bad : {"",
                          "2026-11-22 09:30:00Z",
                          "2026-11-22T09:30:00",
                          "2026-11-22T09:30Z",
                          "2026-11-22T9:30:00Z",
                          "2026-11-22T24:00:00Z",
                          "2026-11-22T23:60:00Z",
                          "2026-11-22T23:59:60Z",
                          "2026-11-22T09:30:00+0100",
                          "2026-11-22T09:30:00+24:00",
                          "2026-11-22T09:30:00+01:60",
                          "2026-11-22T09:30:00.Z",
                          "2026-11-22T09:30:00ZZ",
                          "2026-11-22T09:30:00Z ",
                          " 2026-11-22",
                          "2026-02-30",
                          "2025-02-29",
                          "2026-13-01",
                          "2026-00-10",
                          "2026-1-05",
                          "26-11-22",
                          "2026/11/22",
                          "tomorrow"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_time(bad));
  }
}

TEST_CASE("parse_time_or_throw names the input and the expected forms") {
  CHECK(format_time(crm::parse_time_or_throw("2026-11-22", "--now")) == "2026-11-22T00:00:00Z");
  try {
    crm::parse_time_or_throw("2026-02-30", "--now");
    FAIL("no exception");
  } catch (const crm::Error& e) {
    CHECK(e.code() == crm::Exit::data);
    CHECK(std::string(e.what()) ==
          "invalid --now '2026-02-30': expected RFC 3339 (2026-11-22T09:30:00Z) or YYYY-MM-DD");
  }
}

TEST_CASE("parse_date accepts only a valid YYYY-MM-DD") {
  CHECK(crm::format_date(*crm::parse_date("2026-11-22")) == "2026-11-22");
  CHECK(crm::format_date(*crm::parse_date("0001-01-01")) == "0001-01-01");
  CHECK_FALSE(crm::parse_date("2026-02-29"));
  CHECK_FALSE(crm::parse_date("2026-04-31"));
  CHECK_FALSE(crm::parse_date("2026-11-22T00:00:00Z"));
  CHECK_FALSE(crm::parse_date("2026-11-2"));
  CHECK_FALSE(crm::parse_date("+026-11-22"));
}

TEST_CASE("parse_duration reads every unit") {
  CHECK(crm::parse_duration("12h") == Duration{12, Duration::Unit::hours});
  CHECK(crm::parse_duration("30d") == Duration{30, Duration::Unit::days});
  CHECK(crm::parse_duration("8w") == Duration{8, Duration::Unit::weeks});
  CHECK(crm::parse_duration("24mo") == Duration{24, Duration::Unit::months});
  CHECK(crm::parse_duration("1y") == Duration{1, Duration::Unit::years});
  CHECK(crm::parse_duration("0d") == Duration{0, Duration::Unit::days});
  CHECK(crm::parse_duration("10000y") == Duration{10000, Duration::Unit::years});
}

TEST_CASE("parse_duration rejects malformed and absurdly large durations") {
  for (const char* bad : {"", "d", "30", "30x", "30m", "30D", "-30d", "+30d", "30 d", " 30d",
                          "3.5d", "1mo2d", "10001y", "120001mo", "99999999999999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(crm::parse_duration(bad));
  }
}

TEST_CASE("format_duration writes what parse_duration reads") {
  for (const char* text : {"12h", "30d", "8w", "24mo", "1y"}) {
    CHECK(crm::format_duration(*crm::parse_duration(text)) == text);
  }
}

TEST_CASE("shift moves by hours, days and weeks exactly") {
  CHECK(shifted("2026-11-22T09:30:00Z", "12h", 1) == "2026-11-22T21:30:00Z");
  CHECK(shifted("2026-11-22T09:30:00Z", "30d", -1) == "2026-10-23T09:30:00Z");
  CHECK(shifted("2026-11-22T09:30:00Z", "2w", 1) == "2026-12-06T09:30:00Z");
  CHECK(shifted("2026-11-22T09:30:00Z", "0d", 1) == "2026-11-22T09:30:00Z");
}

TEST_CASE("shift by months clamps to the end of a shorter month") {
  CHECK(shifted("2026-01-31T10:00:00Z", "1mo", 1) == "2026-02-28T10:00:00Z");
  CHECK(shifted("2028-01-31T10:00:00Z", "1mo", 1) == "2028-02-29T10:00:00Z");
  CHECK(shifted("2026-03-31T10:00:00Z", "1mo", -1) == "2026-02-28T10:00:00Z");
  CHECK(shifted("2026-05-31T00:00:00Z", "1mo", 1) == "2026-06-30T00:00:00Z");
  CHECK(shifted("2026-11-15T00:00:00Z", "3mo", 1) == "2027-02-15T00:00:00Z");
  CHECK(shifted("2026-01-15T00:00:00Z", "13mo", -1) == "2024-12-15T00:00:00Z");
}

TEST_CASE("shift by years keeps the date, clamping 29 February") {
  CHECK(shifted("2028-02-29T12:00:00Z", "1y", 1) == "2029-02-28T12:00:00Z");
  CHECK(shifted("2028-02-29T12:00:00Z", "4y", -1) == "2024-02-29T12:00:00Z");
  CHECK(shifted("2026-11-22T09:30:00Z", "10y", 1) == "2036-11-22T09:30:00Z");
}

TEST_CASE("parse_rate reads a count per duration") {
  CHECK(crm::parse_rate("3 per 7d") == Rate{3, Duration{7, Duration::Unit::days}});
  CHECK(crm::parse_rate("  1   per\t24h ") == Rate{1, Duration{24, Duration::Unit::hours}});
  CHECK(crm::parse_rate("10 per 1mo") == Rate{10, Duration{1, Duration::Unit::months}});
}

TEST_CASE("parse_rate rejects malformed rates") {
  for (const char* bad : {"", "3", "3per7d", "3 per", "per 7d", "3 every 7d", "3 per 7",
                          "-3 per 7d", "0 per 7d", "3 per 0d", "3 per 7d extra", "three per 7d"}) {
    CAPTURE(bad);
    CHECK_FALSE(crm::parse_rate(bad));
  }
}

TEST_CASE("format_time writes every field with leading zeros, fractions dropped") {
  CHECK(round_trip("0001-01-01T00:00:00Z") == "0001-01-01T00:00:00Z");
  CHECK(round_trip("1970-01-01T00:00:00Z") == "1970-01-01T00:00:00Z");
  CHECK(round_trip("1969-12-31T23:59:59Z") == "1969-12-31T23:59:59Z");
  CHECK(round_trip("2024-02-29T07:08:09.999Z") == "2024-02-29T07:08:09Z");
  CHECK(round_trip("9999-12-31T23:59:59Z") == "9999-12-31T23:59:59Z");
  CHECK(round_trip("2026-11-22T09:30:00+01:00") == "2026-11-22T08:30:00Z");
}
