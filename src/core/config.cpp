#include <crm/config.hpp>
#include <crm/import_profiles.hpp>

#include <crm/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <span>
#include <system_error>
#include <utility>

namespace crm {

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_default_busy_timeout_ms = 5000;
constexpr std::string_view k_default_country = "DE";
constexpr std::string_view k_default_currency = "EUR";
constexpr std::array<std::string_view, 4> k_default_phases = {"activation", "information", "action",
                                                              "retention"};
constexpr std::string_view k_default_conversion = "purchase";
constexpr std::string_view k_default_window = "365d";
constexpr double k_default_abc_a = 0.80;
constexpr double k_default_abc_b = 0.95;

constexpr std::array<std::pair<std::string_view, Format>, 5> k_formats = {{
    {"table", Format::table},
    {"csv", Format::csv},
    {"tsv", Format::tsv},
    {"json", Format::json},
    {"ndjson", Format::ndjson},
}};

// Counts longer than this are refused rather than risk overflow downstream.
constexpr std::size_t k_max_count_digits = 9;
// The longest list of valid keys that an unknown-key hint spells out.
constexpr std::size_t k_max_hint_length = 120;
// Unknown keys at most this many edits from a valid one get "did you mean".
constexpr std::size_t k_max_suggestion_distance = 2;

constexpr std::string_view k_starter_config =
    R"(# crm configuration. Every key, its type and default: crm.toml(5).
# Unknown keys are errors, so a typo never silently disables a rule.

[database]
path = "crm.db"            # relative to this file's folder; --db and $CRM_DB win
busy_timeout_ms = 5000     # wait this long for another crm's lock, then exit 75

[defaults]
country = "DE"             # region for phone numbers written without +
currency = "EUR"           # the one currency of the database (ISO 4217)
# format = "table"         # terminal output: table, csv, tsv, json or ndjson

# What contacts can consent to, and on which channels.
[consent.purposes.newsletter]
description = "The newsletter"
channels = ["email"]
double_opt_in = true       # a grant counts only once confirmed
confirm_within = "7d"      # unconfirmed grants lapse after this
valid_for = "24mo"         # a consent expires after this

[consent.purposes.profiling]
description = "Scores and segments built from a contact's history"
channels = []

[journey]
phases = ["activation", "information", "action", "retention"]
conversion = "purchase"    # the event that counts as a conversion
strict = false             # unknown touchpoints: warn (false) or reject (true)

[journey.touchpoints.purchase]
phase = "action"
channel = "shop"

# Stages are tried in order; the first that matches wins:
# [[journey.stages]]
# name = "customer"
# when = 'event("purchase", within = 365d)'

[score]
requires_consent = "profiling"  # score only contacts with this consent; "" for all

[dedupe]
survivor = "oldest"        # the record a merge keeps: oldest, newest or most_complete
)";

// Returns the reason a value is invalid, or an empty string if it is fine.
// Runs after the type check, so it may assume the schema's type.
using Check = std::function<std::string(const toml::node&)>;

enum class Type { string, integer, number, boolean, strings, table, tables, named, string_map };
enum class Need { optional, required };

// One key of the schema. `table` and `tables` list their keys in `fields`;
// `named` (user-named entries such as campaigns.*) holds the shape of each
// entry as its only field.
struct Field {
  std::string name;
  Type type = Type::string;
  Check check;
  std::string default_value; // TOML text shown by settings(); empty: none
  Need need = Need::optional;
  std::vector<Field> fields;
};

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_letter(char c) { return is_ascii_upper(c) || (c >= 'a' && c <= 'z'); }
char to_ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// A bare TOML key, which is also the rule for the names of user tables.
bool is_bare_key(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return is_ascii_letter(c) || is_ascii_digit(c) || c == '_' || c == '-';
  });
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
      } else {
        out += c;
      }
    }
  }
  out += '"';
  return out;
}

std::string join_key(std::string_view prefix, std::string_view name) {
  const std::string segment = is_bare_key(name) ? std::string(name) : toml_string(name);
  return prefix.empty() ? segment : fmt::format("{}.{}", prefix, segment);
}

std::string index_key(std::string_view key, std::size_t index) {
  return fmt::format("{}[{}]", key, index);
}

// TOML floats need a '.' or an exponent; fmt's shortest form drops ".0".
std::string float_text(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEin") == std::string::npos) {
    text += ".0";
  }
  return text;
}

std::string to_toml(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::string:
    return toml_string(node.as_string()->get());
  case toml::node_type::integer:
    return fmt::format("{}", node.as_integer()->get());
  case toml::node_type::floating_point:
    return float_text(node.as_floating_point()->get());
  case toml::node_type::boolean:
    return node.as_boolean()->get() ? "true" : "false";
  case toml::node_type::array: {
    std::vector<std::string> items;
    for (const toml::node& item : *node.as_array()) {
      items.push_back(to_toml(item));
    }
    return fmt::format("[{}]", fmt::join(items, ", "));
  }
  default:
    break;
  }
  assert(false && "the schema has no leaf of this type");
  return {};
}

std::string_view expected_name(Type type) {
  switch (type) {
  case Type::string:
    return "a string";
  case Type::integer:
    return "an integer";
  case Type::number:
    return "a number";
  case Type::boolean:
    return "a boolean";
  case Type::strings:
    return "an array of strings";
  case Type::tables:
    return "an array of tables";
  case Type::table:
  case Type::named:
  case Type::string_map:
    break;
  }
  return "a table";
}

std::string_view actual_name(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a float";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  case toml::node_type::none:
    break;
  }
  return "nothing";
}

bool has_type(const toml::node& node, Type type) {
  switch (type) {
  case Type::string:
    return node.is_string();
  case Type::integer:
    return node.is_integer();
  case Type::number:
    return node.is_integer() || node.is_floating_point();
  case Type::boolean:
    return node.is_boolean();
  case Type::strings:
  case Type::tables:
    return node.is_array();
  case Type::table:
  case Type::named:
  case Type::string_map:
    break;
  }
  return node.is_table();
}

// A private copy of the grammar of SPEC.md section 1, so that loading the
// config does not depend on the clock. Zero-length durations are refused:
// as a window, a validity or a half-life they make no sense.
bool is_duration(std::string_view text) {
  const std::size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || digits > k_max_count_digits) {
    return false;
  }
  if (text.substr(0, digits).find_first_not_of('0') == std::string_view::npos) {
    return false;
  }
  const std::string_view unit = text.substr(digits);
  return unit == "h" || unit == "d" || unit == "w" || unit == "mo" || unit == "y";
}

bool is_rate(std::string_view text) {
  constexpr std::string_view separator = " per ";
  const std::size_t at = text.find(separator);
  if (at == std::string_view::npos || at == 0 || at > k_max_count_digits) {
    return false;
  }
  const std::string_view count = text.substr(0, at);
  return std::all_of(count.begin(), count.end(), is_ascii_digit) &&
         is_duration(text.substr(at + separator.size()));
}

bool is_country(std::string_view text) {
  return text.size() == 2 && std::all_of(text.begin(), text.end(), is_ascii_letter);
}

const std::string& string_of(const toml::node& node) { return node.as_string()->get(); }

Check duration() {
  return [](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    if (is_duration(text)) {
      return {};
    }
    return fmt::format("invalid duration '{}': expected a positive '<int>(h|d|w|mo|y)' like '30d'",
                       text);
  };
}

Check rate() {
  return [](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    if (is_rate(text)) {
      return {};
    }
    return fmt::format("invalid rate '{}': expected '<int> per <duration>' like '3 per 7d'", text);
  };
}

Check one_of(std::string_view noun, std::vector<std::string_view> names) {
  return [noun, names = std::move(names)](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    if (std::find(names.begin(), names.end(), text) != names.end()) {
      return {};
    }
    return fmt::format("invalid {} '{}': expected one of {}", noun, text, fmt::join(names, ", "));
  };
}

Check integer_at_least(std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
  return [min, max](const toml::node& node) -> std::string {
    const std::int64_t value = node.as_integer()->get();
    if (value >= min && value <= max) {
      return {};
    }
    if (max == std::numeric_limits<std::int64_t>::max()) {
      return fmt::format("invalid value {}: must be at least {}", value, min);
    }
    return fmt::format("invalid value {}: must be between {} and {}", value, min, max);
  };
}

enum class Upper { inclusive, exclusive };

// A share between 0 and 1; integers count as floats (a = 1).
Check fraction(Upper upper) {
  return [upper](const toml::node& node) -> std::string {
    const double value = *node.value<double>();
    const bool below_top = upper == Upper::inclusive ? value <= 1.0 : value < 1.0;
    if (value >= 0.0 && below_top) {
      return {};
    }
    return fmt::format("invalid value {}: must be at least 0 and {} 1", to_toml(node),
                       upper == Upper::inclusive ? "at most" : "less than");
  };
}

Check non_empty() {
  return [](const toml::node& node) -> std::string {
    return string_of(node).empty() ? "must not be empty" : "";
  };
}

Check country() {
  return [](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    if (is_country(text)) {
      return {};
    }
    return fmt::format("invalid country '{}': expected an ISO 3166 alpha-2 code like 'DE'", text);
  };
}

Check currency() {
  return [](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    if (text.size() == 3 && std::all_of(text.begin(), text.end(), is_ascii_upper)) {
      return {};
    }
    return fmt::format(
        "invalid currency '{}': expected an ISO 4217 code of three upper-case letters like 'EUR'",
        text);
  };
}

// One cell of the RFM grid: recency and frequency quintiles, "5 4".
Check rfm_cell() {
  return [](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    const auto quintile = [](char c) { return c >= '1' && c <= '5'; };
    if (text.size() == 3 && quintile(text[0]) && text[1] == ' ' && quintile(text[2])) {
      return {};
    }
    return fmt::format("invalid cell '{}': expected 'R F', two digits 1-5 like '5 4'", text);
  };
}

// The CSV reader takes one byte as its delimiter.
Check single_byte() {
  return [](const toml::node& node) -> std::string {
    const std::string& text = string_of(node);
    if (text.size() == 1) {
      return {};
    }
    return fmt::format("invalid delimiter '{}': expected a single character like ';'", text);
  };
}

Field leaf(std::string name, Type type, Check check = {}, std::string default_value = {}) {
  Field field;
  field.name = std::move(name);
  field.type = type;
  field.check = std::move(check);
  field.default_value = std::move(default_value);
  return field;
}

Field required(Field field) {
  field.need = Need::required;
  return field;
}

Field table(std::string name, std::vector<Field> fields) {
  Field field = leaf(std::move(name), Type::table);
  field.fields = std::move(fields);
  return field;
}

Field tables(std::string name, std::vector<Field> fields) {
  Field field = leaf(std::move(name), Type::tables);
  field.fields = std::move(fields);
  return field;
}

Field named(std::string name, Field entry) {
  Field field = leaf(std::move(name), Type::named);
  field.fields.push_back(std::move(entry));
  return field;
}

Field entries(std::vector<Field> fields) { return table("*", std::move(fields)); }

std::string phases_text(std::span<const std::string_view> phases) {
  std::vector<std::string> items;
  for (const std::string_view phase : phases) {
    items.push_back(toml_string(phase));
  }
  return fmt::format("[{}]", fmt::join(items, ", "));
}

std::vector<std::string_view> format_names() {
  std::vector<std::string_view> names;
  for (const auto& [name, format] : k_formats) {
    names.push_back(name);
  }
  return names;
}

// Every key of SPEC.md section 8, in the order settings() lists them.
const Field& schema() {
  static const Field root = table(
      "",
      {
          table("database",
                {
                    leaf("path", Type::string, non_empty()),
                    leaf("busy_timeout_ms", Type::integer,
                         integer_at_least(0, std::numeric_limits<int>::max()),
                         fmt::format("{}", k_default_busy_timeout_ms)),
                }),
          table("defaults",
                {
                    leaf("country", Type::string, country(), toml_string(k_default_country)),
                    leaf("currency", Type::string, currency(), toml_string(k_default_currency)),
                    leaf("format", Type::string, one_of("format", format_names())),
                }),
          table("consent", {named("purposes", entries({
                                                  leaf("channels", Type::strings),
                                                  leaf("double_opt_in", Type::boolean),
                                                  leaf("confirm_within", Type::string, duration()),
                                                  leaf("valid_for", Type::string, duration()),
                                                  leaf("description", Type::string),
                                              }))}),
          table("journey",
                {
                    leaf("phases", Type::strings, {}, phases_text(k_default_phases)),
                    leaf("conversion", Type::string, {}, toml_string(k_default_conversion)),
                    leaf("strict", Type::boolean, {}, "false"),
                    named("touchpoints", entries({
                                             leaf("phase", Type::string),
                                             leaf("channel", Type::string),
                                             leaf("description", Type::string),
                                         })),
                    tables("stages",
                           {
                               required(leaf("name", Type::string, non_empty())),
                               required(leaf("when", Type::string)),
                               leaf("description", Type::string),
                           }),
                }),
          table(
              "score",
              {
                  leaf("requires_consent", Type::string, {}, toml_string("")),
                  table("rfm",
                        {
                            leaf("window", Type::string, duration(), toml_string(k_default_window)),
                            named("segments", leaf("*", Type::strings, rfm_cell())),
                        }),
                  table("abc",
                        {
                            leaf("window", Type::string, duration(), toml_string(k_default_window)),
                            leaf("a", Type::number, fraction(Upper::inclusive),
                                 float_text(k_default_abc_a)),
                            leaf("b", Type::number, fraction(Upper::inclusive),
                                 float_text(k_default_abc_b)),
                        }),
                  table("lead",
                        {
                            tables("rules",
                                   {
                                       leaf("when", Type::string),
                                       leaf("event", Type::string),
                                       required(leaf("points", Type::integer)),
                                       leaf("half_life", Type::string, duration()),
                                       leaf("within", Type::string, duration()),
                                       leaf("cap", Type::integer, integer_at_least(0)),
                                       leaf("description", Type::string),
                                   }),
                            leaf("half_life", Type::string, duration()),
                        }),
                  table("churn", {leaf("window", Type::string, duration())}),
                  table("nps", {leaf("window", Type::string, duration())}),
              }),
          table("pressure", {leaf("max", Type::string, rate())}),
          named("campaigns",
                entries({
                    required(leaf("channel", Type::string)),
                    required(leaf("purpose", Type::string)),
                    leaf("segment", Type::string),
                    leaf("cap", Type::string, rate()),
                    leaf("holdout", Type::number, fraction(Upper::exclusive), float_text(0.0)),
                    leaf("priority", Type::integer),
                    leaf("schedule", Type::string,
                         one_of("schedule", {"once", "daily", "weekly", "monthly"}),
                         toml_string("once")),
                    leaf("limit", Type::integer, integer_at_least(1)),
                    leaf("variants", Type::strings),
                    leaf("description", Type::string),
                })),
          table("dedupe", {leaf("survivor", Type::string,
                                one_of("survivor", {"oldest", "newest", "most_complete"}),
                                toml_string("oldest"))}),
          table("retention", {leaf("inactive_for", Type::string, duration())}),
          named("owners", entries({leaf("capacity", Type::integer, integer_at_least(0))})),
          table("import",
                {named("profiles",
                       entries({
                           leaf("key", Type::string,
                                one_of("key", {"email", "external_id", "phone", "none"})),
                           leaf("map", Type::string_map),
                           leaf("input_format", Type::string,
                                one_of("input format", {"csv", "tsv", "json", "ndjson", "vcard"})),
                           leaf("encoding", Type::string),
                           leaf("delimiter", Type::string, single_byte()),
                           leaf("on_conflict", Type::string,
                                one_of("conflict rule", {"update", "skip", "fail"})),
                           leaf("source", Type::string),
                       }))}),
          named("reports", entries({
                               required(leaf("sql", Type::string, non_empty())),
                               leaf("description", Type::string),
                           })),
      });
  return root;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> table_keys(const toml::node_view<const toml::node>& view) {
  std::vector<std::string> keys;
  if (const toml::table* entries = view.as_table()) {
    for (const auto& [name, node] : *entries) {
      keys.emplace_back(name.str());
    }
  }
  return keys;
}

// Walks a document along the schema, throws Error(Exit::config) on the
// first problem, and collects the effective settings in schema order.
class Validator {
public:
  explicit Validator(std::string file) : m_file(std::move(file)) {}

  std::vector<Setting> run(const toml::table& doc) {
    visit_table(doc, schema(), "");
    check_journey(doc);
    check_score(doc);
    check_campaigns(doc);
    return std::move(m_settings);
  }

private:
  [[noreturn]] void fail(const toml::source_region& where, std::string_view message,
                         std::string hint = {}) const {
    throw Error(Exit::config,
                fmt::format("{}:{}:{}: {}", m_file, where.begin.line, where.begin.column, message),
                std::move(hint));
  }

  [[noreturn]] void fail_key(const toml::node& node, std::string_view key,
                             std::string_view why) const {
    fail(node.source(), fmt::format("key '{}': {}", key, why));
  }

  [[noreturn]] void unknown_key(const toml::key& name, const Field& field,
                                std::string_view key) const {
    std::vector<std::string_view> names;
    for (const Field& known : field.fields) {
      names.push_back(known.name);
    }
    std::vector<std::string> parts;
    const auto nearest = std::min_element(names.begin(), names.end(), [&](auto a, auto b) {
      return edit_distance(name.str(), a) < edit_distance(name.str(), b);
    });
    if (nearest != names.end() &&
        edit_distance(name.str(), *nearest) <= k_max_suggestion_distance) {
      parts.push_back(fmt::format("did you mean '{}'?", *nearest));
    }
    const std::string valid = fmt::format("{}", fmt::join(names, ", "));
    if (valid.size() <= k_max_hint_length) {
      parts.push_back(key.empty() ? fmt::format("valid top-level keys: {}", valid)
                                  : fmt::format("valid keys of '{}': {}", key, valid));
    }
    fail(name.source(), fmt::format("unknown key '{}'", join_key(key, name.str())),
         fmt::format("{}", fmt::join(parts, " ")));
  }

  void emit(std::string key, const toml::node& node) {
    m_settings.push_back(
        {std::move(key), to_toml(node), fmt::format("{}:{}", m_file, node.source().begin.line)});
  }

  void check_value(const toml::node& node, const Field& field, std::string_view key) const {
    if (!field.check) {
      return;
    }
    if (const std::string why = field.check(node); !why.empty()) {
      fail_key(node, key, why);
    }
  }

  void visit_table(const toml::table& table, const Field& field, const std::string& key) {
    for (const auto& [name, node] : table) {
      const std::string_view name_text = name.str();
      const bool known = std::any_of(field.fields.begin(), field.fields.end(),
                                     [&](const Field& f) { return f.name == name_text; });
      if (!known) {
        unknown_key(name, field, key);
      }
    }
    for (const Field& child : field.fields) {
      const std::string child_key = join_key(key, child.name);
      if (const toml::node* node = table.get(child.name)) {
        visit(*node, child, child_key);
      } else if (child.need == Need::required) {
        fail(table.source(), fmt::format("key '{}': missing required key '{}'", key, child.name));
      } else if (!child.default_value.empty()) {
        m_settings.push_back({child_key, child.default_value, "default"});
      } else if (child.type == Type::table) {
        visit_table(toml::table{}, child, child_key);
      }
    }
  }

  void visit(const toml::node& node, const Field& field, const std::string& key) {
    if (!has_type(node, field.type)) {
      fail_key(node, key,
               fmt::format("expected {}, got {}", expected_name(field.type), actual_name(node)));
    }
    switch (field.type) {
    case Type::string:
    case Type::integer:
    case Type::number:
    case Type::boolean:
      check_value(node, field, key);
      emit(key, node);
      break;
    case Type::strings:
      visit_strings(*node.as_array(), field, key);
      emit(key, node);
      break;
    case Type::table:
      visit_table(*node.as_table(), field, key);
      break;
    case Type::tables:
      visit_tables(*node.as_array(), field, key);
      break;
    case Type::named:
      visit_named(*node.as_table(), field, key);
      break;
    case Type::string_map:
      visit_string_map(*node.as_table(), key);
      break;
    }
  }

  void visit_strings(const toml::array& array, const Field& field, std::string_view key) const {
    for (std::size_t i = 0; i < array.size(); ++i) {
      const toml::node& item = array[i];
      if (!item.is_string()) {
        fail_key(item, index_key(key, i),
                 fmt::format("expected a string, got {}", actual_name(item)));
      }
      check_value(item, field, index_key(key, i));
    }
  }

  void visit_tables(const toml::array& array, const Field& field, std::string_view key) {
    for (std::size_t i = 0; i < array.size(); ++i) {
      const toml::node& item = array[i];
      if (!item.is_table()) {
        fail_key(item, index_key(key, i),
                 fmt::format("expected a table, got {}", actual_name(item)));
      }
      visit_table(*item.as_table(), field, index_key(key, i));
    }
  }

  void visit_named(const toml::table& table, const Field& field, std::string_view key) {
    for (const auto& [name, node] : table) {
      const std::string entry_key = join_key(key, name.str());
      if (!is_bare_key(name.str())) {
        fail(name.source(), fmt::format("key '{}': invalid name: use only letters, digits, '_' "
                                        "and '-'",
                                        entry_key));
      }
      visit(node, field.fields.front(), entry_key);
    }
  }

  void visit_string_map(const toml::table& table, std::string_view key) {
    for (const auto& [name, node] : table) {
      const std::string entry_key = join_key(key, name.str());
      if (!node.is_string()) {
        fail_key(node, entry_key, fmt::format("expected a string, got {}", actual_name(node)));
      }
      emit(entry_key, node);
    }
  }

  void check_journey(const toml::table& doc) const {
    std::vector<std::string> phases(k_default_phases.begin(), k_default_phases.end());
    if (const toml::array* list = doc["journey"]["phases"].as_array()) {
      phases.clear();
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string& phase = string_of((*list)[i]);
        if (phase.empty() || std::find(phases.begin(), phases.end(), phase) != phases.end()) {
          fail_key((*list)[i], index_key("journey.phases", i),
                   phase.empty() ? "a phase needs a name"
                                 : fmt::format("duplicate phase '{}'", phase));
        }
        phases.push_back(phase);
      }
    }
    if (const toml::table* touchpoints = doc["journey"]["touchpoints"].as_table()) {
      for (const auto& [name, touchpoint] : *touchpoints) {
        const toml::node* phase = touchpoint.as_table()->get("phase");
        if (phase && std::find(phases.begin(), phases.end(), string_of(*phase)) == phases.end()) {
          fail_key(*phase, join_key(join_key("journey.touchpoints", name.str()), "phase"),
                   fmt::format("unknown phase '{}': expected one of {}", string_of(*phase),
                               fmt::join(phases, ", ")));
        }
      }
    }
    std::vector<std::string> stages;
    if (const toml::array* list = doc["journey"]["stages"].as_array()) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::node& name = *(*list)[i].as_table()->get("name");
        if (std::find(stages.begin(), stages.end(), string_of(name)) != stages.end()) {
          fail_key(name, index_key("journey.stages", i) + ".name",
                   fmt::format("duplicate stage '{}'", string_of(name)));
        }
        stages.push_back(string_of(name));
      }
    }
  }

  void check_purpose(const toml::table& doc, const toml::node& purpose,
                     std::string_view key) const {
    const std::vector<std::string> purposes = table_keys(doc["consent"]["purposes"]);
    if (std::find(purposes.begin(), purposes.end(), string_of(purpose)) != purposes.end()) {
      return;
    }
    fail_key(purpose, key,
             purposes.empty() ? fmt::format("unknown purpose '{}': no purposes are defined in "
                                            "[consent.purposes]",
                                            string_of(purpose))
                              : fmt::format("unknown purpose '{}': expected one of {}",
                                            string_of(purpose), fmt::join(purposes, ", ")));
  }

  void check_score(const toml::table& doc) const {
    const toml::node* requires_consent = doc["score"]["requires_consent"].node();
    if (requires_consent && !string_of(*requires_consent).empty()) {
      check_purpose(doc, *requires_consent, "score.requires_consent");
    }
    const toml::node* a = doc["score"]["abc"]["a"].node();
    const toml::node* b = doc["score"]["abc"]["b"].node();
    const double a_value = a ? *a->value<double>() : k_default_abc_a;
    const double b_value = b ? *b->value<double>() : k_default_abc_b;
    if (b_value < a_value) {
      if (b) {
        fail_key(*b, "score.abc.b",
                 fmt::format("invalid value {}: must be at least score.abc.a ({})", to_toml(*b),
                             float_text(a_value)));
      }
      fail_key(*a, "score.abc.a",
               fmt::format("invalid value {}: must be at most score.abc.b ({})", to_toml(*a),
                           float_text(b_value)));
    }
    if (const toml::array* rules = doc["score"]["lead"]["rules"].as_array()) {
      for (std::size_t i = 0; i < rules->size(); ++i) {
        const toml::table& rule = *(*rules)[i].as_table();
        if (rule.contains("when") == rule.contains("event")) {
          fail_key(rule, index_key("score.lead.rules", i),
                   "expected exactly one of 'when' and 'event'");
        }
      }
    }
  }

  void check_campaigns(const toml::table& doc) const {
    if (const toml::table* campaigns = doc["campaigns"].as_table()) {
      for (const auto& [name, campaign] : *campaigns) {
        check_purpose(doc, *campaign.as_table()->get("purpose"),
                      join_key(join_key("campaigns", name.str()), "purpose"));
      }
    }
  }

  std::string m_file;
  std::vector<Setting> m_settings;
};

// The country is stored upper-case, so "de" and "DE" mean the same region.
void normalise_country(toml::table& doc) {
  if (auto* country = doc["defaults"]["country"].as_string();
      country && is_country(country->get())) {
    std::string upper = country->get();
    std::transform(upper.begin(), upper.end(), upper.begin(), to_ascii_upper);
    *country = std::move(upper);
  }
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

std::string read_config(const fs::path& path, bool named) {
  const auto cannot_read = [&](int error) {
    return Error(named ? Exit::no_input : Exit::config,
                 fmt::format("cannot read config '{}': {}", path.string(), std::strerror(error)));
  };
  errno = 0;
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    throw cannot_read(errno);
  }
  std::string text;
  std::array<char, 1 << 16> buffer;
  std::size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    text.append(buffer.data(), count);
  }
  if (std::ferror(file.get())) {
    throw cannot_read(errno);
  }
  return text;
}

bool file_exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

} // namespace

struct Config::Data {
  // Validates `document`, read from `file` (none: the built-in defaults).
  // Throws Error(Exit::config) naming file, line, column and key.
  Data(toml::table document, const std::optional<fs::path>& file);

  toml::table doc;
  std::vector<Setting> settings;
  std::optional<fs::path> database_path;
  int busy_timeout_ms = static_cast<int>(k_default_busy_timeout_ms);
  std::string country{k_default_country};
  std::string currency{k_default_currency};
  std::optional<Format> format;
};

Config::Data::Data(toml::table document, const std::optional<fs::path>& file)
    : doc(std::move(document)) {
  normalise_country(doc);
  settings = Validator(file ? file->string() : std::string()).run(doc);
  // `--profile NAME` must mean one thing: a built-in name is not free.
  if (const toml::table* profiles = doc["import"]["profiles"].as_table()) {
    for (const auto& [name, value] : *profiles) {
      if (find_builtin_profile(name.str()) != nullptr)
        throw Error(Exit::config,
                    fmt::format("{}:{}:{}: [import.profiles.{}]: '{}' is a built-in import "
                                "profile",
                                file ? file->string() : std::string(), name.source().begin.line,
                                name.source().begin.column, name.str(), name.str()),
                    "choose another name for this profile");
    }
  }

  if (const auto path = doc["database"]["path"].value<std::string>()) {
    const fs::path database(*path);
    database_path = database.is_absolute() || !file ? database : file->parent_path() / database;
  }
  busy_timeout_ms =
      static_cast<int>(doc["database"]["busy_timeout_ms"].value_or(k_default_busy_timeout_ms));
  country = doc["defaults"]["country"].value_or(std::string(k_default_country));
  currency = doc["defaults"]["currency"].value_or(std::string(k_default_currency));
  if (const auto name = doc["defaults"]["format"].value<std::string>()) {
    const auto found = std::find_if(k_formats.begin(), k_formats.end(),
                                    [&](const auto& entry) { return entry.first == *name; });
    format = found->second;
  }
}

ConfigLocation find_config(const std::optional<std::string>& option,
                           const std::optional<std::string>& env_config,
                           const std::optional<std::string>& xdg_config_home,
                           const std::optional<std::string>& home) {
  if (option) {
    return {fs::path(*option), true};
  }
  if (env_config && !env_config->empty()) {
    return {fs::path(*env_config), true};
  }
  if (const fs::path local = "crm.toml"; file_exists(local)) {
    return {local, false};
  }
  // The XDG spec says to ignore a relative $XDG_CONFIG_HOME.
  std::optional<fs::path> config_home;
  if (xdg_config_home && fs::path(*xdg_config_home).is_absolute()) {
    config_home = fs::path(*xdg_config_home);
  } else if (home && !home->empty()) {
    config_home = fs::path(*home) / ".config";
  }
  if (config_home) {
    if (const fs::path user = *config_home / "crm" / "config.toml"; file_exists(user)) {
      return {user, false};
    }
  }
  return {};
}

Config::Config() : m_data(std::make_unique<Data>(toml::table{}, std::nullopt)) {}
Config::~Config() = default;
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;

Config Config::load(const ConfigLocation& location) {
  if (!location.path) {
    return Config{};
  }
  const fs::path& path = *location.path;
  const std::string name = path.string();
  const std::string text = read_config(path, location.named);
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& error) {
    throw Error(Exit::config,
                fmt::format("{}:{}:{}: invalid TOML: {}", name, error.source().begin.line,
                            error.source().begin.column, error.description()));
  }
  Config config;
  config.m_data = std::make_unique<Data>(std::move(doc), path);
  config.m_file = path;
  return config;
}

std::optional<fs::path> Config::database_path() const { return m_data->database_path; }

int Config::busy_timeout_ms() const { return m_data->busy_timeout_ms; }

const std::string& Config::default_country() const { return m_data->country; }

const std::string& Config::currency() const { return m_data->currency; }

std::optional<Format> Config::default_format() const { return m_data->format; }

std::string Config::dedupe_survivor() const {
  return m_data->doc["dedupe"]["survivor"].value_or(std::string("oldest"));
}

std::vector<Owner> Config::owners() const {
  std::vector<Owner> owners;
  if (const toml::table* all = table()["owners"].as_table())
    for (const auto& [name, value] : *all)
      owners.push_back(
          {std::string(name.str()),
           value.as_table() ? (*value.as_table())["capacity"].value_or<std::int64_t>(0) : 0});
  std::sort(owners.begin(), owners.end(),
            [](const Owner& a, const Owner& b) { return a.name < b.name; });
  return owners;
}

std::vector<Setting> Config::settings() const { return m_data->settings; }

const toml::table& Config::table() const { return m_data->doc; }

std::optional<ImportProfileSettings> Config::import_profile(std::string_view name) const {
  const toml::table* profile = table()["import"]["profiles"][name].as_table();
  if (profile == nullptr)
    return std::nullopt;
  ImportProfileSettings settings;
  auto text = [&](std::string_view key) -> std::optional<std::string> {
    if (auto v = (*profile)[key].value<std::string>())
      return *v;
    return std::nullopt;
  };
  settings.key = text("key");
  settings.input_format = text("input_format");
  settings.encoding = text("encoding");
  settings.delimiter = text("delimiter");
  settings.on_conflict = text("on_conflict");
  settings.source = text("source");
  if (const toml::table* map = (*profile)["map"].as_table())
    for (const auto& [column, field] : *map)
      if (auto target = field.value<std::string>())
        settings.map.emplace_back(std::string(column.str()), *target);
  return settings;
}

std::string_view starter_config() { return k_starter_config; }

} // namespace crm

namespace crm {

JourneySettings Config::journey() const {
  JourneySettings journey;
  const toml::node_view section = table()["journey"];
  if (const toml::array* phases = section["phases"].as_array()) {
    for (const auto& phase : *phases)
      journey.phases.push_back(phase.value_or(std::string()));
  } else {
    journey.phases.assign(k_default_phases.begin(), k_default_phases.end());
  }
  journey.conversion = section["conversion"].value_or(std::string(k_default_conversion));
  journey.strict = section["strict"].value_or(false);
  if (const toml::table* touchpoints = section["touchpoints"].as_table()) {
    // toml++ keeps a table's keys sorted; the file's order is where they stand.
    std::vector<std::pair<toml::source_position, JourneyTouchpoint>> found;
    for (const auto& [name, node] : *touchpoints) {
      JourneyTouchpoint t;
      t.name = std::string(name.str());
      const toml::node_view entry(node);
      t.phase = entry["phase"].value<std::string>();
      t.channel = entry["channel"].value<std::string>();
      t.description = entry["description"].value<std::string>();
      found.emplace_back(name.source().begin, std::move(t));
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.first.line != b.first.line ? a.first.line < b.first.line
                                          : a.first.column < b.first.column;
    });
    for (auto& [position, t] : found)
      journey.touchpoints.push_back(std::move(t));
  }
  if (const toml::array* stages = section["stages"].as_array()) {
    for (const auto& stage : *stages) {
      const toml::node_view entry(stage);
      journey.stages.push_back(
          {entry["name"].value_or(std::string()), entry["when"].value_or(std::string())});
    }
  }
  return journey;
}

const JourneyTouchpoint* JourneySettings::touchpoint(std::string_view name) const {
  for (const auto& t : touchpoints)
    if (t.name == name)
      return &t;
  return nullptr;
}

std::optional<std::size_t> JourneySettings::phase_index(std::string_view name) const {
  for (std::size_t i = 0; i < phases.size(); ++i)
    if (phases[i] == name)
      return i;
  return std::nullopt;
}

} // namespace crm
