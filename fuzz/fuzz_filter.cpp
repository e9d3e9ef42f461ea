// libFuzzer target: the filter language (src/core/filter.cpp), parsed and
// compiled to SQL; no database is needed for that.
#include "fuzz_input.hpp"

#include <crm/filter.hpp>

#include <string>
#include <string_view>

namespace {

const crm::FilterOptions& options() {
  static const crm::FilterOptions o = [] {
    crm::FilterOptions opts;
    opts.now = crm::TimePoint{std::chrono::seconds{1795000000}};
    opts.default_country = "DE";
    // No libphonenumber here: digits and a leading + are a phone number.
    opts.normalize_phone = [](std::string_view text, std::string_view) {
      std::string out;
      for (char ch : text) {
        if ((ch >= '0' && ch <= '9') || (ch == '+' && out.empty())) {
          out += ch;
        }
      }
      if (out.size() < 4) {
        throw crm::Error(crm::Exit::data, "invalid phone number");
      }
      return out;
    };
    opts.consent = [](const std::string& purpose, const std::optional<std::string>& channel) {
      if (purpose.empty() || (channel && channel->empty())) {
        throw crm::Error(crm::Exit::not_found, "unknown purpose");
      }
      return crm::SqlFilter{"1", {}};
    };
    return opts;
  }();
  return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view expression(reinterpret_cast<const char*>(data), size);
  try {
    const crm::SqlFilter filter = crm::compile_contact_filter(expression, options());
    // The user's text never becomes SQL: every placeholder has its value.
    std::size_t placeholders = 0;
    for (char ch : filter.sql) {
      placeholders += ch == '?' ? 1 : 0;
    }
    if (placeholders != filter.params.size()) {
      std::abort();
    }
  } catch (const crm::Error& e) {
    crm_fuzz::check_error(e);
  }
  return 0;
}
