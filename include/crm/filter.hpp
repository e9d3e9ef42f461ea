#pragma once

#include <crm/clock.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crm {

using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

// A WHERE-clause fragment and the values bound to its `?` placeholders, in
// order. No text of the user's is ever part of `sql`.
struct SqlFilter {
  std::string sql;
  std::vector<SqlValue> params;
};

struct FilterOptions {
  TimePoint now{};             // relative durations count from here
  std::string default_country; // region for phone literals without +
  // Normalises a phone literal to E.164 for `phone = "..."`; given the
  // literal and a region; throws Error(Exit::data) if invalid.
  std::function<std::string(std::string_view, std::string_view)> normalize_phone;
  int max_depth = 100; // nesting limit (parentheses, not)
  // consent(purpose[, channel]): the SQL over contact row `c` that is true
  // if the contact may be contacted for it now; throws Error for an
  // unknown purpose or channel. Unset: consent() is not available.
  std::function<SqlFilter(const std::string& purpose, const std::optional<std::string>& channel)>
      consent;
};

// The deepest nesting an expression may have.
inline constexpr int k_filter_max_depth = 100;

// Compiles a filter expression (SPEC.md section 5) over contacts to SQL.
// The fragment refers to the contact row as `c` (table `contact`), custom
// attributes through `contact_attr` and tags through `contact_tag`.
// Throws Error(Exit::data) for a syntax error, an unknown field or
// function, a type mismatch or too deep nesting; the message says what is
// wrong and the hint shows the expression with a caret under the bad token.
SqlFilter compile_contact_filter(std::string_view expression, const FilterOptions& options);

} // namespace crm
