#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crm {

using TimePoint = std::chrono::sys_seconds;
using Date = std::chrono::sys_days;

// Parses an RFC 3339 timestamp (`2026-11-22T09:30:00Z`, `...+01:00`,
// optional fractional seconds, which are dropped) or a `YYYY-MM-DD` date
// (= 00:00Z). Returns nullopt for anything else, including impossible
// calendar dates. TZ is never consulted.
std::optional<TimePoint> parse_time(std::string_view text);

// Like parse_time, but throws Error(Exit::data) naming `what` and the text.
TimePoint parse_time_or_throw(std::string_view text, std::string_view what);

// Formats as ISO-8601 UTC with seconds: `2026-11-22T09:30:00Z`.
std::string format_time(TimePoint t);

// Parses a strict `YYYY-MM-DD` calendar date; nullopt if invalid.
std::optional<Date> parse_date(std::string_view text);
std::string format_date(Date d);

// `<int>(h|d|w|mo|y)`: 12h, 30d, 8w, 24mo, 1y.
struct Duration {
  enum class Unit { hours, days, weeks, months, years };
  std::int64_t count = 0;
  Unit unit = Unit::days;
  friend bool operator==(const Duration&, const Duration&) = default;
};

// Parses an unsigned duration; nullopt if malformed or absurdly large.
std::optional<Duration> parse_duration(std::string_view text);
std::string format_duration(const Duration& d);

// Moves t by sign*d; months and years are calendar arithmetic (the day is
// clamped to the end of a shorter month).
TimePoint shift(TimePoint t, const Duration& d, int sign);

// `<int> per <duration>`: "3 per 7d".
struct Rate {
  std::int64_t count = 0;
  Duration per;
  friend bool operator==(const Rate&, const Rate&) = default;
};
std::optional<Rate> parse_rate(std::string_view text);

} // namespace crm
