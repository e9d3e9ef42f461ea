#include <crm/clock.hpp>
#include <crm/error.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cassert>
#include <vector>

namespace crm {

namespace {

using namespace std::chrono;

// Durations longer than this are typos, and the limit keeps every shift of a
// four-digit year inside the range of std::chrono::year.
constexpr std::int64_t k_max_years = 10'000;

std::int64_t max_count(Duration::Unit unit) {
  switch (unit) {
  case Duration::Unit::hours:
    return k_max_years * 366 * 24;
  case Duration::Unit::days:
    return k_max_years * 366;
  case Duration::Unit::weeks:
    return k_max_years * 53;
  case Duration::Unit::months:
    return k_max_years * 12;
  case Duration::Unit::years:
    return k_max_years;
  }
  return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`. Written by hand rather than with
// date::parse, which also accepts fewer digits than RFC 3339 requires.
std::optional<int> fixed_digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(text[i])) {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Parses a run of digits (at most 18, so it cannot overflow) as the whole text.
std::optional<std::int64_t> whole_number(std::string_view text) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return is_digit(c); })) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (char c : text) {
    value = value * 10 + (c - '0');
  }
  return value;
}

// Parses `hh:mm` at `pos` with hh <= 23 and mm <= 59; returns the minutes.
std::optional<int> hours_minutes(std::string_view text, std::size_t pos) {
  auto h = fixed_digits(text, pos, 2);
  auto m = fixed_digits(text, pos + 3, 2);
  if (!h || !m || text[pos + 2] != ':' || *h > 23 || *m > 59) {
    return std::nullopt;
  }
  return *h * 60 + *m;
}

TimePoint add_months(TimePoint t, std::int64_t delta) {
  const auto day_start = floor<days>(t);
  const auto time_of_day = t - day_start;
  const year_month_day ymd{day_start};
  const std::int64_t total = std::int64_t{int(ymd.year())} * 12 + unsigned(ymd.month()) - 1 + delta;
  const std::int64_t y = total >= 0 ? total / 12 : (total - 11) / 12;
  assert(y >= int(year::min()) && y <= int(year::max()));
  const year_month target{year{int(y)}, month{unsigned(total - y * 12 + 1)}};
  const day last = year_month_day_last{target.year(), month_day_last{target.month()}}.day();
  return sys_days{target / std::min(ymd.day(), last)} + time_of_day;
}

} // namespace

std::optional<Date> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  auto y = fixed_digits(text, 0, 4);
  auto m = fixed_digits(text, 5, 2);
  auto d = fixed_digits(text, 8, 2);
  if (!y || !m || !d) {
    return std::nullopt;
  }
  const year_month_day ymd{year{*y}, month{unsigned(*m)}, day{unsigned(*d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  return sys_days{ymd};
}

std::string format_date(Date d) {
  const year_month_day ymd{d};
  return fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()),
                     unsigned(ymd.day()));
}

std::optional<TimePoint> parse_time(std::string_view text) {
  if (text.size() == 10) {
    if (auto d = parse_date(text)) {
      return TimePoint{*d};
    }
    return std::nullopt;
  }
  // YYYY-MM-DDThh:mm:ss is 19 characters; a zone of at least one follows.
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't') || text[16] != ':') {
    return std::nullopt;
  }
  auto date = parse_date(text.substr(0, 10));
  auto minutes = hours_minutes(text, 11);
  auto seconds = fixed_digits(text, 17, 2);
  if (!date || !minutes || !seconds || *seconds > 59) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const std::size_t digits_start = ++pos;
    while (pos < text.size() && is_digit(text[pos])) {
      ++pos;
    }
    if (pos == digits_start) {
      return std::nullopt;
    }
  }
  int offset_minutes = 0;
  if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    offset_minutes = 0;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-')) {
    auto offset = hours_minutes(text, pos + 1);
    if (!offset) {
      return std::nullopt;
    }
    offset_minutes = text[pos] == '+' ? *offset : -*offset;
  } else {
    return std::nullopt;
  }
  return TimePoint{*date} + std::chrono::minutes{*minutes - offset_minutes} +
         std::chrono::seconds{*seconds};
}

TimePoint parse_time_or_throw(std::string_view text, std::string_view what) {
  if (auto t = parse_time(text)) {
    return *t;
  }
  throw Error(Exit::data,
              fmt::format("invalid {} '{}': expected RFC 3339 (2026-11-22T09:30:00Z) or YYYY-MM-DD",
                          what, text));
}

std::string format_time(TimePoint t) {
  // By hand: importers format a time per row, and fmt with date's calendar
  // types costs more than the rest of the row.
  const auto day_start = floor<days>(t);
  const year_month_day ymd{day_start};
  const auto secs = floor<seconds>(t - day_start).count();
  const int year = int(ymd.year());
  if (year < 0 || year > 9999)
    return fmt::format("{}T{:02}:{:02}:{:02}Z", format_date(day_start), secs / 3600, secs / 60 % 60,
                       secs % 60);
  std::string out = "0000-00-00T00:00:00Z";
  auto two = [&](std::size_t at, long long v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, year / 100);
  two(2, year % 100);
  two(5, unsigned(ymd.month()));
  two(8, unsigned(ymd.day()));
  two(11, secs / 3600);
  two(14, secs / 60 % 60);
  two(17, secs % 60);
  return out;
}

std::optional<Duration> parse_duration(std::string_view text) {
  struct Suffix {
    std::string_view text;
    Duration::Unit unit;
  };
  static constexpr Suffix k_suffixes[] = {{"mo", Duration::Unit::months},
                                          {"h", Duration::Unit::hours},
                                          {"d", Duration::Unit::days},
                                          {"w", Duration::Unit::weeks},
                                          {"y", Duration::Unit::years}};
  for (const auto& suffix : k_suffixes) {
    if (text.size() > suffix.text.size() && text.ends_with(suffix.text)) {
      auto count = whole_number(text.substr(0, text.size() - suffix.text.size()));
      if (!count || *count > max_count(suffix.unit)) {
        return std::nullopt;
      }
      return Duration{*count, suffix.unit};
    }
  }
  return std::nullopt;
}

std::string format_duration(const Duration& d) {
  switch (d.unit) {
  case Duration::Unit::hours:
    return fmt::format("{}h", d.count);
  case Duration::Unit::days:
    return fmt::format("{}d", d.count);
  case Duration::Unit::weeks:
    return fmt::format("{}w", d.count);
  case Duration::Unit::months:
    return fmt::format("{}mo", d.count);
  case Duration::Unit::years:
    return fmt::format("{}y", d.count);
  }
  return {};
}

TimePoint shift(TimePoint t, const Duration& d, int sign) {
  assert(d.count >= 0 && d.count <= max_count(d.unit));
  const std::int64_t n = sign < 0 ? -d.count : d.count;
  switch (d.unit) {
  case Duration::Unit::hours:
    return t + std::chrono::hours{n};
  case Duration::Unit::days:
    return t + std::chrono::days{n};
  case Duration::Unit::weeks:
    return t + std::chrono::weeks{n};
  case Duration::Unit::months:
    return add_months(t, n);
  case Duration::Unit::years:
    return add_months(t, n * 12);
  }
  return t;
}

std::optional<Rate> parse_rate(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t') {
      ++pos;
      continue;
    }
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') {
      ++pos;
    }
    words.push_back(text.substr(start, pos - start));
  }
  if (words.size() != 3 || words[1] != "per") {
    return std::nullopt;
  }
  auto count = whole_number(words[0]);
  auto per = parse_duration(words[2]);
  if (!count || *count == 0 || *count > 1'000'000'000 || !per || per->count == 0) {
    return std::nullopt;
  }
  return Rate{*count, *per};
}

} // namespace crm
