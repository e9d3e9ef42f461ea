// libFuzzer target: timestamp, date, duration and rate parsing
// (src/core/clock.cpp); what parses must format and parse back the same.
#include "fuzz_input.hpp"

#include <crm/clock.hpp>

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto t = crm::parse_time(text)) {
    const auto again = crm::parse_time(crm::format_time(*t));
    if (!again || *again != *t) {
      std::abort();
    }
  }
  if (const auto d = crm::parse_date(text)) {
    const auto again = crm::parse_date(crm::format_date(*d));
    if (!again || *again != *d) {
      std::abort();
    }
  }
  if (const auto d = crm::parse_duration(text)) {
    const auto again = crm::parse_duration(crm::format_duration(*d));
    if (!again || *again != *d) {
      std::abort();
    }
    const crm::TimePoint base{std::chrono::seconds{1795000000}};
    (void)crm::shift(base, *d, 1);
    (void)crm::shift(base, *d, -1);
  }
  (void)crm::parse_rate(text);
  try {
    (void)crm::parse_time_or_throw(text, "time");
  } catch (const crm::Error& e) {
    crm_fuzz::check_error(e);
  }
  return 0;
}
