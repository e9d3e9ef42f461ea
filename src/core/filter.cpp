#include <crm/error.hpp>
#include <crm/filter.hpp>
#include <crm/normalize.hpp>
#include <crm/score.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <optional>
#include <span>

namespace crm {

namespace {

enum class FieldKind { integer, text, email, phone, country, date, timestamp };

struct Field {
  std::string_view name;
  std::string_view column;
  FieldKind kind;
};

// The only column names that can reach the SQL: user text selects a row of
// this table and is never copied.
constexpr std::array k_fields = {
    Field{"id", "c.id", FieldKind::integer},
    Field{"external_id", "c.external_id", FieldKind::text},
    Field{"email", "c.email_norm", FieldKind::email},
    Field{"phone", "c.phone", FieldKind::phone},
    Field{"first_name", "c.first_name", FieldKind::text},
    Field{"last_name", "c.last_name", FieldKind::text},
    Field{"company", "c.company", FieldKind::text},
    Field{"street", "c.street", FieldKind::text},
    Field{"postcode", "c.postcode", FieldKind::text},
    Field{"city", "c.city", FieldKind::text},
    Field{"country", "c.country", FieldKind::country},
    Field{"birthdate", "c.birthdate", FieldKind::date},
    Field{"stage", "c.stage", FieldKind::text},
    Field{"owner", "c.owner", FieldKind::text},
    Field{"source", "c.source", FieldKind::text},
    Field{"created_at", "c.created_at", FieldKind::timestamp},
    Field{"updated_at", "c.updated_at", FieldKind::timestamp},
};

struct Unavailable {
  std::string_view name;
  std::string_view capability;
};

constexpr std::array k_unavailable_functions = {
    Unavailable{"consent", "consent ledger"},
};

constexpr std::string_view k_attr_prefix = "attr.";
constexpr std::string_view k_attr_text =
    "(SELECT a.value FROM contact_attr a WHERE a.contact_id = c.id AND a.key = ?)";
// Values that are not numbers stay out of numeric comparisons instead of
// counting as 0, which is what CAST alone would make of them.
constexpr std::string_view k_attr_number =
    "(SELECT CAST(a.value AS REAL) FROM contact_attr a WHERE a.contact_id = c.id AND a.key = ? "
    "AND a.value GLOB '*[0-9]*' AND trim(a.value, '0123456789+-.') = '')";
constexpr std::string_view k_score_value =
    "(SELECT s.value FROM score s WHERE s.contact_id = c.id AND s.model = ?)";
constexpr std::string_view k_score_label =
    "(SELECT s.label FROM score s WHERE s.contact_id = c.id AND s.model = ?)";
constexpr std::string_view k_has_tag =
    "EXISTS (SELECT 1 FROM contact_tag t WHERE t.contact_id = c.id AND t.tag = ?)";
constexpr std::string_view k_unsigned_duration =
    "an unsigned duration is only valid as within =; write -30d or +30d";

// Wider expressions are shown as a window around the error.
constexpr std::size_t k_hint_width = 72;
constexpr std::size_t k_token_display = 32;

// Limits that keep the SQL within what SQLite 3.40 parses: its parser stack
// holds about 16 levels of parentheses in a WHERE clause (fewer inside a
// subquery), its expression trees are at most 1000 deep, and a statement
// takes at most 32766 parameters. Callers may embed the fragment in one
// more subquery and add a few parameters of their own.
constexpr int k_max_sql_nesting = 10;
constexpr std::size_t k_max_chain = 32;
constexpr std::size_t k_max_params = 32'000;

enum class Tok {
  end,
  identifier,
  string,
  integer,
  decimal,
  date,
  timestamp,
  duration,
  lparen,
  rparen,
  comma,
  op
};

struct Token {
  Tok kind = Tok::end;
  std::size_t offset = 0;
  std::string_view raw;
  std::string text; // a string's decoded value; an operator's SQL
  std::int64_t integer = 0;
  double decimal = 0;
  TimePoint time{};
  Duration duration;
  int sign = 0; // a duration's sign; 0 when unsigned
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '-'; }
bool is_value_char(char c) {
  return is_alpha(c) || is_digit(c) || c == ':' || c == '.' || c == '+' || c == '-';
}
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_keyword(const Token& t, std::string_view keyword) {
  return t.kind == Tok::identifier && ascii_lower(t.raw) == keyword;
}

bool is_any_keyword(const Token& t) {
  return is_keyword(t, "and") || is_keyword(t, "or") || is_keyword(t, "not") ||
         is_keyword(t, "in") || is_keyword(t, "is") || is_keyword(t, "null");
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return !is_continuation(c); }));
}

// The first `n` code points of s, with "..." if there were more.
std::string shorten(std::string_view s, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_continuation(s[i]) && count++ == n) {
      return std::string(s.substr(0, i)) + "...";
    }
  }
  return std::string(s);
}

// The expression on one line (control characters as spaces, so the caret
// lines up) and a caret under the code point that starts at `offset`; a long
// expression is cut to a window around the caret.
std::string caret_hint(std::string_view expression, std::size_t offset) {
  const std::size_t total = code_points(expression);
  const std::size_t caret = code_points(expression.substr(0, std::min(offset, expression.size())));
  std::size_t first = 0;
  std::size_t last = total;
  if (total > k_hint_width) {
    first = caret > k_hint_width / 2 ? caret - k_hint_width / 2 : 0;
    last = std::min(total, first + k_hint_width);
  }
  std::string shown = first > 0 ? "..." : "";
  std::size_t started = 0;
  for (const char ch : expression) {
    if (!is_continuation(ch)) {
      ++started;
    }
    const std::size_t index = started == 0 ? 0 : started - 1;
    if (index >= last) {
      break;
    }
    if (index >= first) {
      const auto c = static_cast<unsigned char>(ch);
      shown += c < 0x20 || c == 0x7F ? ' ' : ch;
    }
  }
  if (last < total) {
    shown += "...";
  }
  const std::size_t column = caret - first + (first > 0 ? 3 : 0);
  return fmt::format("  {}\n  {}^", shown, std::string(column, ' '));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_field_reason(std::string_view name) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const auto& field : k_fields) {
    const std::size_t d = edit_distance(ascii_lower(name), field.name);
    if (d < best_distance) {
      best = field.name;
      best_distance = d;
    }
  }
  if (!best.empty()) {
    return fmt::format("did you mean '{}'?", best);
  }
  std::string known;
  for (const auto& field : k_fields) {
    known += fmt::format("{}, ", field.name);
  }
  return fmt::format("fields are {}attr.NAME", known);
}

const Field* find_field(std::string_view name) {
  auto it = std::find_if(k_fields.begin(), k_fields.end(),
                         [&](const Field& f) { return f.name == name; });
  return it == k_fields.end() ? nullptr : &*it;
}

const Unavailable* find_unavailable_function(std::string_view name) {
  auto it = std::find_if(k_unavailable_functions.begin(), k_unavailable_functions.end(),
                         [&](const Unavailable& u) { return u.name == name; });
  return it == k_unavailable_functions.end() ? nullptr : &*it;
}

// What a comparison's left side is: a contact column or a custom attribute.
struct Operand {
  const Field* field = nullptr;
  std::string attr_key;
  std::string name;
  std::string score_model; // score.MODEL[.label]: the stored score of the model
  bool score_label = false;
};

// The parsed expression. `not` is pushed down to the comparisons (De Morgan
// holds in SQL's three-valued logic too) and nested groups of the same kind
// are merged, so the children of an `all` are never `all` and those of an
// `any` never `any`: the SQL then needs parentheses only for `or` inside
// `and`, and SQLite's parser stack allows only a few dozen of those.
struct Node {
  enum class Kind { comparison, all, any };
  Kind kind = Kind::comparison;
  std::size_t offset = 0;
  bool negated = false;
  std::string sql;
  std::vector<SqlValue> params;
  std::vector<Node> children;
};

void negate(Node& node) {
  if (node.kind == Node::Kind::comparison) {
    node.negated = !node.negated;
    return;
  }
  node.kind = node.kind == Node::Kind::all ? Node::Kind::any : Node::Kind::all;
  for (auto& child : node.children) {
    negate(child);
  }
}

Node combine(Node::Kind kind, std::vector<Node> parts) {
  if (parts.size() == 1) {
    return std::move(parts.front());
  }
  Node group;
  group.kind = kind;
  group.offset = parts.front().offset;
  for (auto& part : parts) {
    if (part.kind == kind) {
      std::move(part.children.begin(), part.children.end(), std::back_inserter(group.children));
    } else {
      group.children.push_back(std::move(part));
    }
  }
  return group;
}

class Parser {
public:
  Parser(std::string_view expression, const FilterOptions& options)
      : m_text(expression), m_options(options) {}

  SqlFilter compile() {
    if (trim(m_text).empty()) {
      throw Error(Exit::data, "bad filter expression: the expression is empty");
    }
    advance();
    Node root = parse_or();
    if (m_token.kind != Tok::end) {
      fail(m_token, "unexpected " + describe(m_token),
           m_token.kind == Tok::rparen ? "no '(' to close"
                                       : "expected 'and', 'or' or the end of the expression");
    }
    SqlFilter filter;
    if (root.kind == Node::Kind::comparison) {
      emit(root, 0, filter);
    } else {
      // Parenthesised so that the caller may combine the fragment freely.
      emit_parenthesised(root.kind, root.children, root.offset, 1, filter);
    }
    return filter;
  }

private:
  [[noreturn]] void fail_at(std::size_t offset, std::string_view what,
                            std::string_view why = {}) const {
    const std::size_t column = code_points(m_text.substr(0, offset)) + 1;
    std::string message = fmt::format("bad filter expression: {} at column {}", what, column);
    if (!why.empty()) {
      message += fmt::format(": {}", why);
    }
    throw Error(Exit::data, std::move(message), caret_hint(m_text, offset));
  }

  [[noreturn]] void fail(const Token& t, std::string_view what, std::string_view why = {}) const {
    fail_at(t.offset, what, why);
  }

  [[noreturn]] void not_available(const Token& name, std::string_view what,
                                  std::string_view capability) const {
    throw Error(Exit::data,
                fmt::format("filter: {} is not available yet: it comes with the {} capability",
                            what, capability),
                caret_hint(m_text, name.offset));
  }

  static std::string describe(const Token& t) {
    if (t.kind == Tok::end) {
      return "end of expression";
    }
    if (t.kind == Tok::string) {
      return shorten(t.raw, k_token_display);
    }
    return fmt::format("'{}'", shorten(t.raw, k_token_display));
  }

  void emit(const Node& node, int depth, SqlFilter& out) const {
    if (node.kind == Node::Kind::comparison) {
      out.sql += node.negated ? "NOT " : "";
      out.sql += node.sql;
      out.params.insert(out.params.end(), node.params.begin(), node.params.end());
    } else if (node.kind == Node::Kind::any) {
      emit_parenthesised(node.kind, node.children, node.offset, depth + 1, out);
    } else {
      emit_chain(node.kind, node.children, depth, out);
    }
  }

  // `and` binds tighter than `or`, so only an `or` below an `and` (and the
  // chunks of a long chain) need parentheses.
  void emit_parenthesised(Node::Kind kind, std::span<const Node> children, std::size_t offset,
                          int depth, SqlFilter& out) const {
    if (depth > k_max_sql_nesting) {
      fail_at(offset,
              fmt::format("'and' and 'or' nested more than {} levels deep", k_max_sql_nesting));
    }
    out.sql += '(';
    emit_chain(kind, children, depth, out);
    out.sql += ')';
  }

  // Long chains are cut into parenthesised chunks: SQLite limits the depth
  // of an expression tree, and `a OR b OR ...` is as deep as it is long.
  void emit_chain(Node::Kind kind, std::span<const Node> children, int depth,
                  SqlFilter& out) const {
    const std::string_view separator = kind == Node::Kind::all ? " AND " : " OR ";
    if (children.size() <= k_max_chain) {
      for (std::size_t i = 0; i < children.size(); ++i) {
        out.sql += i == 0 ? "" : separator;
        emit(children[i], depth, out);
      }
      return;
    }
    const std::size_t chunk = (children.size() + k_max_chain - 1) / k_max_chain;
    for (std::size_t i = 0; i < children.size(); i += chunk) {
      out.sql += i == 0 ? "" : separator;
      const auto part = children.subspan(i, std::min(chunk, children.size() - i));
      emit_parenthesised(kind, part, part.front().offset, depth + 1, out);
    }
  }

  void advance() {
    std::size_t pos = m_pos;
    while (pos < m_text.size() && is_space(m_text[pos])) {
      ++pos;
    }
    Token t;
    t.offset = pos;
    if (pos == m_text.size()) {
      m_pos = pos;
      m_token = std::move(t);
      return;
    }
    const char c = m_text[pos];
    const char next = pos + 1 < m_text.size() ? m_text[pos + 1] : '\0';
    std::size_t end = pos + 1;
    if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Tok::lparen : c == ')' ? Tok::rparen : Tok::comma;
    } else if (c == '=' || c == '~') {
      t.kind = Tok::op;
      t.text = c == '=' ? "=" : "GLOB";
    } else if (c == '!' && next == '=') {
      t.kind = Tok::op;
      t.text = "<>";
      end = pos + 2;
    } else if (c == '<' || c == '>') {
      t.kind = Tok::op;
      t.text = std::string(1, c);
      if (next == '=') {
        t.text += '=';
        end = pos + 2;
      }
    } else if (c == '"' || c == '\'') {
      end = lex_string(t, pos);
    } else if (is_digit(c) || ((c == '-' || c == '+') && is_digit(next))) {
      while (end < m_text.size() && is_value_char(m_text[end])) {
        ++end;
      }
      t.raw = m_text.substr(pos, end - pos);
      classify_value(t);
    } else if (is_alpha(c) || c == '_') {
      t.kind = Tok::identifier;
      while (end < m_text.size() && is_name_char(m_text[end])) {
        ++end;
      }
    } else {
      while (end < m_text.size() && is_continuation(m_text[end])) {
        ++end;
      }
      fail_at(pos, fmt::format("unexpected character '{}'", m_text.substr(pos, end - pos)));
    }
    t.raw = m_text.substr(pos, end - pos);
    m_pos = end;
    m_token = std::move(t);
  }

  // Reads a quoted string starting at `pos`; returns the offset after it.
  std::size_t lex_string(Token& t, std::size_t pos) const {
    const char quote = m_text[pos];
    t.kind = Tok::string;
    for (std::size_t i = pos + 1; i < m_text.size(); ++i) {
      const char c = m_text[i];
      if (c == quote) {
        return i + 1;
      }
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (i + 1 == m_text.size()) {
        fail_at(pos, "unterminated string");
      }
      const char e = m_text[++i];
      switch (e) {
      case '"':
      case '\'':
      case '\\':
        t.text += e;
        break;
      case 'n':
        t.text += '\n';
        break;
      case 't':
        t.text += '\t';
        break;
      default:
        fail_at(i - 1, fmt::format("unknown escape '\\{}'", e),
                "write \\\\ for a backslash; known escapes are \\\" \\' \\\\ \\n \\t");
      }
    }
    fail_at(pos, "unterminated string");
  }

  // Decides what a token made of digits, letters, signs, ':' and '.' is.
  void classify_value(Token& t) const {
    const std::string_view s = t.raw;
    const bool has_sign = s[0] == '-' || s[0] == '+';
    const std::string_view unsigned_part = has_sign ? s.substr(1) : s;
    const auto digits = static_cast<std::size_t>(std::count_if(
        unsigned_part.begin(), unsigned_part.end(), [](char c) { return is_digit(c); }));
    const auto dot = unsigned_part.find('.');
    const bool is_integer = digits == unsigned_part.size();
    const bool is_decimal = !is_integer && digits + 1 == unsigned_part.size() &&
                            dot != std::string_view::npos && dot > 0 &&
                            dot + 1 < unsigned_part.size();
    if (is_integer || is_decimal) {
      const char* first = s.data() + (s[0] == '+' ? 1 : 0);
      const char* last = s.data() + s.size();
      const auto [ptr, ec] = is_integer ? std::from_chars(first, last, t.integer)
                                        : std::from_chars(first, last, t.decimal);
      if (ec != std::errc{} || ptr != last) {
        fail(t, fmt::format("number '{}'", shorten(s, k_token_display)), "out of range");
      }
      t.kind = is_integer ? Tok::integer : Tok::decimal;
      return;
    }
    if (!has_sign) {
      if (auto time = parse_time(s)) {
        t.kind = s.size() == 10 ? Tok::date : Tok::timestamp;
        t.time = *time;
        return;
      }
    }
    if (auto d = parse_duration(unsigned_part)) {
      t.kind = Tok::duration;
      t.duration = *d;
      t.sign = !has_sign ? 0 : s[0] == '-' ? -1 : 1;
      return;
    }
    fail(t, fmt::format("bad value '{}'", shorten(s, k_token_display)),
         "expected a number, a date (YYYY-MM-DD), a timestamp (RFC 3339) or a duration like -30d");
  }

  static bool is_value(const Token& t) {
    return t.kind == Tok::string || t.kind == Tok::integer || t.kind == Tok::decimal ||
           t.kind == Tok::date || t.kind == Tok::timestamp || t.kind == Tok::duration;
  }

  void expect_value() const {
    if (is_value(m_token)) {
      return;
    }
    if (is_keyword(m_token, "null")) {
      fail(m_token, "unexpected 'null'", "write 'is null' or 'is not null' to test for no value");
    }
    if (m_token.kind == Tok::identifier && !is_any_keyword(m_token)) {
      fail(m_token, "unexpected " + describe(m_token),
           fmt::format("expected a value; quote strings: \"{}\"", m_token.raw));
    }
    fail(m_token, "unexpected " + describe(m_token), "expected a value");
  }

  void expect(Tok kind, std::string_view what) {
    if (m_token.kind != kind) {
      fail(m_token, "unexpected " + describe(m_token), fmt::format("expected {}", what));
    }
    advance();
  }

  // Checked before each recursion, so no input can exhaust the stack.
  void enter(const Token& t) {
    if (m_depth >= m_options.max_depth) {
      fail(t, fmt::format("expression nested deeper than {} levels", m_options.max_depth));
    }
    ++m_depth;
  }

  Node parse_or() {
    std::vector<Node> parts;
    parts.push_back(parse_and());
    while (is_keyword(m_token, "or")) {
      advance();
      parts.push_back(parse_and());
    }
    return combine(Node::Kind::any, std::move(parts));
  }

  Node parse_and() {
    std::vector<Node> parts;
    parts.push_back(parse_unary());
    while (is_keyword(m_token, "and")) {
      advance();
      parts.push_back(parse_unary());
    }
    return combine(Node::Kind::all, std::move(parts));
  }

  Node parse_unary() {
    if (!is_keyword(m_token, "not")) {
      return parse_primary();
    }
    enter(m_token);
    advance();
    Node node = parse_unary();
    negate(node);
    --m_depth;
    return node;
  }

  Node parse_primary() {
    if (m_token.kind == Tok::lparen) {
      enter(m_token);
      advance();
      Node node = parse_or();
      expect(Tok::rparen, "')'");
      --m_depth;
      return node;
    }
    if (m_token.kind != Tok::identifier || is_any_keyword(m_token)) {
      fail(m_token, "unexpected " + describe(m_token), "expected a field, a function or '('");
    }
    const Token name = std::move(m_token);
    advance();
    if (m_token.kind == Tok::lparen && !find_field(name.raw)) {
      return parse_function(name);
    }
    return parse_comparison(resolve_operand(name), name);
  }

  Node parse_function(const Token& name) {
    if (name.raw == "consent" && m_options.consent) {
      return parse_consent(name);
    }
    if (name.raw == "event") {
      return parse_event(name);
    }
    if (name.raw == "in_campaign") {
      return parse_in_campaign(name);
    }
    if (auto unavailable = find_unavailable_function(name.raw)) {
      not_available(name, fmt::format("{}()", name.raw), unavailable->capability);
    }
    if (name.raw != "has_tag") {
      fail(name, fmt::format("unknown function '{}'", name.raw),
           "functions are has_tag, consent, event, in_campaign");
    }
    Node node = comparison(name, std::string(k_has_tag));
    advance();
    if (m_token.kind == Tok::rparen) {
      fail(m_token, "has_tag() without a tag", "write has_tag(\"vip\")");
    }
    expect_value();
    if (m_token.kind != Tok::string && m_token.kind != Tok::integer) {
      fail(m_token, describe(m_token), "has_tag takes a tag, such as has_tag(\"vip\")");
    }
    add_param(node, m_token.kind == Tok::string ? m_token.text : std::string(m_token.raw), m_token);
    advance();
    expect(Tok::rparen, "')': has_tag takes one tag");
    return node;
  }

  // consent(purpose[, channel]): the contact may be contacted for the
  // purpose (on the channel, else on any of its channels) now.
  Node parse_consent(const Token& name) {
    advance();
    auto text_argument = [&](std::string_view what) {
      if (m_token.kind != Tok::string) {
        fail(m_token, describe(m_token),
             fmt::format("consent takes a quoted {}, such as consent(\"newsletter\", \"email\")",
                         what));
      }
      std::string value = m_token.text;
      return value;
    };
    const Token purpose_token = m_token;
    std::string purpose = text_argument("purpose");
    advance();
    std::optional<std::string> channel;
    Token channel_token = m_token;
    if (m_token.kind == Tok::comma) {
      advance();
      channel_token = m_token;
      channel = text_argument("channel");
      advance();
    }
    expect(Tok::rparen, "')': consent takes a purpose and an optional channel");
    SqlFilter sql;
    try {
      sql = m_options.consent(purpose, channel);
    } catch (const Error& e) {
      const bool about_channel =
          channel && std::string_view(e.what()).find("channel") != std::string_view::npos;
      fail(about_channel ? channel_token : purpose_token, e.what(), e.hint());
    }
    Node node = comparison(name, std::move(sql.sql));
    for (auto& p : sql.params) {
      add_param(node, std::move(p), name);
    }
    return node;
  }

  // event(touchpoint[, within = D][, channel = C][, min_count = N]): the
  // contact has such an event (within the last D before now; at least N).
  Node parse_event(const Token& name) {
    constexpr std::string_view usage =
        "write event(\"purchase\"[, within = 30d][, channel = \"web\"][, min_count = 2])";
    advance();
    if (m_token.kind != Tok::string) {
      fail(m_token,
           m_token.kind == Tok::rparen ? "event() without a touchpoint" : describe(m_token), usage);
    }
    std::string sql = "e.contact_id = c.id AND e.touchpoint = ?";
    std::vector<std::pair<SqlValue, Token>> values{{m_token.text, m_token}};
    advance();
    bool within = false, channel = false, counted = false;
    std::optional<std::int64_t> min_count;
    Token count_token;
    while (m_token.kind == Tok::comma) {
      advance();
      const Token option = m_token;
      if (option.kind != Tok::identifier ||
          (option.raw != "within" && option.raw != "channel" && option.raw != "min_count")) {
        fail(option, "unexpected " + describe(option),
             "event() takes within = D, channel = C and min_count = N");
      }
      bool& seen = option.raw == "within" ? within : option.raw == "channel" ? channel : counted;
      if (seen) {
        fail(option, fmt::format("{} given twice", option.raw));
      }
      seen = true;
      advance();
      if (m_token.kind != Tok::op || m_token.text != "=") {
        fail(m_token, "unexpected " + describe(m_token),
             fmt::format("expected '=' after {}", option.raw));
      }
      advance();
      expect_value();
      const Token value = m_token;
      advance();
      if (option.raw == "within") {
        if (value.kind != Tok::duration || value.sign != 0) {
          fail(value, describe(value), "within takes an unsigned duration, such as within = 30d");
        }
        sql += " AND e.at >= ? AND e.at <= ?";
        values.emplace_back(format_time(shift(m_options.now, value.duration, -1)), value);
        values.emplace_back(format_time(m_options.now), value);
      } else if (option.raw == "channel") {
        if (value.kind != Tok::string) {
          fail(value, describe(value), "channel takes a quoted name, such as channel = \"web\"");
        }
        sql += " AND e.channel = ?";
        values.emplace_back(value.text, value);
      } else {
        if (value.kind != Tok::integer || value.integer < 1) {
          fail(value, describe(value), "min_count takes an integer of at least 1");
        }
        min_count = value.integer;
        count_token = value;
      }
    }
    expect(Tok::rparen, "',' or ')'");
    Node node = comparison(name, min_count && *min_count > 1
                                     ? "(SELECT count(*) FROM event e WHERE " + sql + ") >= ?"
                                     : "EXISTS (SELECT 1 FROM event e WHERE " + sql + ")");
    for (auto& [value, token] : values) {
      add_param(node, std::move(value), token);
    }
    if (min_count && *min_count > 1) {
      add_param(node, *min_count, count_token);
    }
    return node;
  }

  // in_campaign(name[, within = D]): the contact is a member (not in the
  // holdout) of a recorded run of the campaign (within the last D before now).
  Node parse_in_campaign(const Token& name) {
    constexpr std::string_view usage = "write in_campaign(\"winback\"[, within = 30d])";
    advance();
    if (m_token.kind != Tok::string) {
      fail(m_token,
           m_token.kind == Tok::rparen ? "in_campaign() without a campaign" : describe(m_token),
           usage);
    }
    std::string sql = "EXISTS (SELECT 1 FROM campaign_member m WHERE m.contact_id = c.id "
                      "AND m.campaign = ? AND m.holdout = 0";
    std::vector<std::pair<SqlValue, Token>> values{{m_token.text, m_token}};
    advance();
    if (m_token.kind == Tok::comma) {
      advance();
      const Token option = m_token;
      if (option.kind != Tok::identifier || option.raw != "within") {
        fail(option, "unexpected " + describe(option), "in_campaign() takes within = D");
      }
      advance();
      if (m_token.kind != Tok::op || m_token.text != "=") {
        fail(m_token, "unexpected " + describe(m_token), "expected '=' after within");
      }
      advance();
      expect_value();
      const Token value = m_token;
      advance();
      if (value.kind != Tok::duration || value.sign != 0) {
        fail(value, describe(value), "within takes an unsigned duration, such as within = 30d");
      }
      sql += " AND m.at >= ? AND m.at <= ?";
      values.emplace_back(format_time(shift(m_options.now, value.duration, -1)), value);
      values.emplace_back(format_time(m_options.now), value);
    }
    expect(Tok::rparen, "')': in_campaign takes a campaign and an optional within = D");
    Node node = comparison(name, sql + ")");
    for (auto& [value, token] : values) {
      add_param(node, std::move(value), token);
    }
    return node;
  }

  Operand resolve_operand(const Token& name) const {
    const std::string_view n = name.raw;
    if (n == "score" || n.starts_with("score.")) {
      return score_operand(name);
    }
    if (n.starts_with(k_attr_prefix)) {
      if (n.size() == k_attr_prefix.size()) {
        fail(name, fmt::format("'{}' without a name", n), "write attr.NAME, such as attr.industry");
      }
      return Operand{
          nullptr, std::string(n.substr(k_attr_prefix.size())), std::string(n), {}, false};
    }
    if (auto field = find_field(n)) {
      return Operand{field, {}, std::string(n), {}, false};
    }
    if (n == "attr") {
      fail(name, "'attr' without a name", "write attr.NAME, such as attr.industry");
    }
    fail(name, fmt::format("unknown field '{}'", n), unknown_field_reason(n));
  }

  // score.MODEL (the value, a number) and score.MODEL.label (text) read
  // the stored scores of `crm score run`; abc has only a label.
  Operand score_operand(const Token& name) const {
    const std::string_view n = name.raw;
    std::string_view model = n.size() > 6 ? n.substr(6) : std::string_view{};
    const bool label = model.ends_with(".label");
    if (label) {
      model.remove_suffix(6);
    }
    const auto models = score_models();
    if (std::find(models.begin(), models.end(), model) == models.end()) {
      fail(name,
           model.empty() ? std::string("'score' without a model")
                         : fmt::format("unknown score model '{}'", model),
           fmt::format("write score.MODEL or score.MODEL.label; models: {}",
                       fmt::join(models, ", ")));
    }
    if (model == "abc" && !label) {
      fail(name, "score.abc has only a label",
           "write score.abc.label, such as score.abc.label = \"A\"");
    }
    Operand operand;
    operand.name = std::string(n);
    operand.score_model = std::string(model);
    operand.score_label = label;
    return operand;
  }

  Node parse_comparison(const Operand& operand, const Token& name) {
    if (is_keyword(m_token, "is")) {
      advance();
      bool negated = false;
      if (is_keyword(m_token, "not")) {
        negated = true;
        advance();
      }
      if (!is_keyword(m_token, "null")) {
        fail(m_token, "unexpected " + describe(m_token), "expected 'null'");
      }
      advance();
      Node node = left_side(operand, name, false);
      node.sql += negated ? " IS NOT NULL" : " IS NULL";
      return node;
    }
    bool negated = false;
    if (is_keyword(m_token, "not")) {
      advance();
      if (!is_keyword(m_token, "in")) {
        fail(m_token, "unexpected " + describe(m_token), "expected 'in' after 'not'");
      }
      negated = true;
    }
    if (is_keyword(m_token, "in")) {
      return parse_in(operand, name, negated);
    }
    if (m_token.kind != Tok::op) {
      fail(m_token, "unexpected " + describe(m_token),
           fmt::format("expected an operator after '{}' (= != < <= > >= ~ in is)", name.raw));
    }
    const std::string op = m_token.text;
    advance();
    expect_value();
    const Token value = std::move(m_token);
    advance();
    if (op == "GLOB") {
      return glob(operand, name, value);
    }
    const bool numeric = !operand.field && !operand.score_label && is_number(value);
    Node node = left_side(operand, name, numeric);
    node.sql += fmt::format(" {} ?", op);
    add_param(node, convert(operand, value, numeric), value);
    return node;
  }

  Node parse_in(const Operand& operand, const Token& name, bool negated) {
    advance();
    expect(Tok::lparen, "'(' and a list of values");
    std::vector<Token> values;
    while (true) {
      expect_value();
      values.push_back(std::move(m_token));
      advance();
      if (m_token.kind == Tok::rparen) {
        break;
      }
      expect(Tok::comma, "',' or ')'");
    }
    advance();
    const bool numeric = !operand.field && !operand.score_label &&
                         std::all_of(values.begin(), values.end(), is_number);
    Node node = left_side(operand, name, numeric);
    node.sql += negated ? " NOT IN (" : " IN (";
    for (std::size_t i = 0; i < values.size(); ++i) {
      node.sql += i == 0 ? "?" : ", ?";
      add_param(node, convert(operand, values[i], numeric), values[i]);
    }
    node.sql += ')';
    return node;
  }

  Node glob(const Operand& operand, const Token& name, const Token& value) {
    reject_unsigned_duration(value);
    if ((operand.field && operand.field->kind == FieldKind::integer) ||
        (!operand.score_model.empty() && !operand.score_label)) {
      fail(value, describe(value), fmt::format("~ matches text and {} is a number", operand.name));
    }
    if (value.kind != Tok::string) {
      fail(value, describe(value), "~ takes a quoted glob pattern, such as \"*GmbH\"");
    }
    Node node = left_side(operand, name, false);
    node.sql += " GLOB ?";
    const bool is_email = operand.field && operand.field->kind == FieldKind::email;
    add_param(node, is_email ? email_match_key(trim(value.text)) : value.text, value);
    return node;
  }

  static bool is_number(const Token& t) { return t.kind == Tok::integer || t.kind == Tok::decimal; }

  static Node comparison(const Token& start, std::string sql) {
    Node node;
    node.offset = start.offset;
    node.sql = std::move(sql);
    return node;
  }

  void add_param(Node& node, SqlValue value, const Token& token) {
    if (++m_param_count > k_max_params) {
      fail(token, fmt::format("more than {} values", k_max_params));
    }
    node.params.push_back(std::move(value));
  }

  // The comparison's left side; binds the key of an attribute.
  Node left_side(const Operand& operand, const Token& name, bool numeric) {
    if (operand.field) {
      return comparison(name, std::string(operand.field->column));
    }
    if (!operand.score_model.empty()) {
      Node node =
          comparison(name, std::string(operand.score_label ? k_score_label : k_score_value));
      add_param(node, operand.score_model, name);
      return node;
    }
    Node node = comparison(name, std::string(numeric ? k_attr_number : k_attr_text));
    add_param(node, operand.attr_key, name);
    return node;
  }

  void reject_unsigned_duration(const Token& value) const {
    if (value.kind == Tok::duration && value.sign == 0) {
      fail(value, describe(value), k_unsigned_duration);
    }
  }

  // A time value: a date, a timestamp, a signed duration from now, or a
  // string holding one of the first two.
  std::optional<TimePoint> time_of(const Token& value) const {
    switch (value.kind) {
    case Tok::date:
    case Tok::timestamp:
      return value.time;
    case Tok::duration:
      return shift(m_options.now, value.duration, value.sign);
    case Tok::string:
      return parse_time(value.text);
    default:
      return std::nullopt;
    }
  }

  static std::optional<std::string> text_of(const Token& value) {
    if (value.kind == Tok::string) {
      return value.text;
    }
    if (is_number(value)) {
      return std::string(value.raw);
    }
    return std::nullopt;
  }

  SqlValue convert(const Operand& operand, const Token& value, bool numeric) const {
    reject_unsigned_duration(value);
    if (!operand.score_model.empty() && !operand.score_label && !numeric) {
      type_error(operand, value, "a number");
    }
    if (!operand.field) {
      if (numeric) {
        return value.kind == Tok::integer ? SqlValue{value.integer} : SqlValue{value.decimal};
      }
      if (auto text = text_of(value)) {
        return *text;
      }
      if (value.kind == Tok::date) {
        return std::string(value.raw);
      }
      return format_time(*time_of(value));
    }
    switch (operand.field->kind) {
    case FieldKind::integer:
      if (value.kind != Tok::integer) {
        type_error(operand, value, "an integer");
      }
      return value.integer;
    case FieldKind::date:
      if (auto t = time_of(value)) {
        return format_date(std::chrono::floor<std::chrono::days>(*t));
      }
      type_error(operand, value,
                 "a date (YYYY-MM-DD), a timestamp or a relative duration like -30d");
    case FieldKind::timestamp:
      if (auto t = time_of(value)) {
        return format_time(*t);
      }
      type_error(operand, value,
                 "a timestamp (RFC 3339), a date (YYYY-MM-DD) or a relative duration like -30d");
    case FieldKind::text:
    case FieldKind::email:
    case FieldKind::phone:
    case FieldKind::country:
      break;
    }
    auto text = text_of(value);
    if (!text) {
      type_error(operand, value, "a string");
    }
    switch (operand.field->kind) {
    case FieldKind::email:
      return email_match_key(trim(*text));
    case FieldKind::country:
      return ascii_upper(trim(*text));
    case FieldKind::phone:
      return normalized_phone(*text, value);
    default:
      return *text;
    }
  }

  [[noreturn]] void type_error(const Operand& operand, const Token& value,
                               std::string_view expected) const {
    fail(value, describe(value), fmt::format("{} takes {}", operand.name, expected));
  }

  std::string normalized_phone(const std::string& text, const Token& value) const {
    if (!m_options.normalize_phone) {
      return text;
    }
    try {
      return m_options.normalize_phone(text, m_options.default_country);
    } catch (const Error& e) {
      fail(value, describe(value), e.what());
    }
  }

  std::string_view m_text;
  const FilterOptions& m_options;
  std::size_t m_pos = 0;
  Token m_token;
  int m_depth = 0;
  std::size_t m_param_count = 0;
};

} // namespace

SqlFilter compile_contact_filter(std::string_view expression, const FilterOptions& options) {
  return Parser(expression, options).compile();
}

} // namespace crm
