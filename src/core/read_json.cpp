#include "input.hpp"

#include <crm/error.hpp>

#include <fmt/core.h>
#include <simdjson.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace crm {

namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t k_peek = 64 * 1024;
constexpr std::string_view k_bom = "\xEF\xBB\xBF";

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && is_json_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_json_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ondemand hands out number tokens without checking them; the token text is
// what we keep (so 12.30 stays 12.30), so it must be a JSON number.
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i]))
      ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-')
    ++i;
  if (i < s.size() && s[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits())
      return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    if (!digits())
      return false;
  }
  return i == s.size();
}

// simdjson's messages are long sentences; these fit in a rejects line.
std::string describe(simdjson::error_code e) {
  switch (e) {
  case simdjson::TAPE_ERROR:
    return "missing or extra comma, colon, brace or bracket";
  case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
    return "an object or array is not closed";
  case simdjson::STRING_ERROR:
    return "bad escape in a string";
  case simdjson::UNCLOSED_STRING:
    return "a string is not closed";
  case simdjson::UNESCAPED_CHARS:
    return "unescaped control character in a string";
  case simdjson::T_ATOM_ERROR:
  case simdjson::F_ATOM_ERROR:
  case simdjson::N_ATOM_ERROR:
  case simdjson::INCORRECT_TYPE:
    return "bad value (not a string, number, true, false or null)";
  case simdjson::NUMBER_ERROR:
    return "bad number";
  case simdjson::DEPTH_ERROR:
    return "nested too deeply";
  case simdjson::TRAILING_CONTENT:
    return "text after the object";
  case simdjson::EMPTY:
    return "no JSON value";
  case simdjson::UTF8_ERROR:
    return "invalid UTF-8";
  default:
    return simdjson::error_message(e);
  }
}

constexpr std::array<bool, 256> byte_table(std::string_view bytes) {
  std::array<bool, 256> table{};
  for (char c : bytes)
    table[static_cast<unsigned char>(c)] = true;
  return table;
}

// The bytes the element scanner stops at, inside and outside strings.
constexpr auto k_in_string = byte_table("\"\\\n");
constexpr auto k_in_element = byte_table("\"{}[]\n");

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A copy of `text` followed by the zero padding simdjson reads past the end.
class PaddedBuffer {
public:
  void assign(std::string_view text) {
    m_data.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(m_data.data(), text.data(), text.size());
    std::memset(m_data.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    m_size = text.size();
  }
  const char* data() const { return m_data.data(); }
  std::size_t size() const { return m_size; }
  std::size_t capacity() const { return m_data.size(); }

private:
  std::string m_data;
  std::size_t m_size = 0;
};

// Turns one JSON object into a record: keys become columns in order of first
// appearance, nested objects flatten to dotted names.
class Flattener {
public:
  const std::vector<std::string>& columns() const { return m_columns; }

  // Fills record.values and record.error from the object in `text`; values
  // and error are the only fields it touches.
  void read(std::string_view text, InputRecord& record) {
    m_text.assign(text);
    record.error.clear();
    m_seen.assign(m_columns.size(), 0);
    m_slot = 0;
    auto e = read_document(record);
    if (e) {
      record.values.assign(m_columns.size(), std::nullopt);
      if (e == simdjson::UTF8_ERROR)
        record.error = "invalid UTF-8";
      else if (m_not_object)
        record.error = "not a JSON object";
      else
        record.error = "invalid JSON: " + describe(e);
      return;
    }
    record.values.resize(m_columns.size());
    for (std::size_t i = 0; i < m_seen.size(); ++i)
      if (!m_seen[i])
        record.values[i].reset();
  }

private:
  simdjson::error_code read_document(InputRecord& record) {
    m_not_object = false;
    od::document doc;
    if (auto e = m_parser.iterate(m_text.data(), m_text.size(), m_text.capacity()).get(doc))
      return e;
    od::object object;
    if (auto e = doc.get_object().get(object)) {
      m_not_object = e == simdjson::INCORRECT_TYPE;
      return e;
    }
    m_path.clear();
    if (auto e = read_object(object, record))
      return e;
    // ondemand stops after the object; anything but whitespace left is an error.
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS)
      return simdjson::TRAILING_CONTENT;
    return simdjson::SUCCESS;
  }

  simdjson::error_code read_object(od::object& object, InputRecord& record) {
    for (auto field : object) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key))
        return e;
      std::size_t mark = m_path.size();
      if (mark > 0)
        m_path += '.';
      m_path += key;
      od::value value;
      if (auto e = field.value().get(value))
        return e;
      if (auto e = read_value(value, record))
        return e;
      m_path.resize(mark);
    }
    return simdjson::SUCCESS;
  }

  simdjson::error_code read_value(od::value& value, InputRecord& record) {
    od::json_type type;
    if (auto e = value.type().get(type))
      return e;
    switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto e = value.get_object().get(object))
        return e;
      return read_object(object, record);
    }
    case od::json_type::array: {
      od::array array;
      std::string_view text;
      if (auto e = value.get_array().get(array))
        return e;
      if (auto e = array.raw_json().get(text))
        return e;
      if (auto e = read_array(text))
        return e;
      set(record, m_scratch);
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = value.get_string().get(s))
        return e;
      set(record, s);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      std::string_view token = trim_json_space(value.raw_json_token());
      if (!is_json_number(token))
        return simdjson::NUMBER_ERROR;
      set(record, token);
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto e = value.get_bool().get(b))
        return e;
      set(record, b ? "true" : "false");
      return simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool null = false;
      if (auto e = value.is_null().get(null))
        return e;
      if (!null)
        return simdjson::N_ATOM_ERROR;
      set(record, std::nullopt);
      return simdjson::SUCCESS;
    }
    }
    return simdjson::INCORRECT_TYPE;
  }

  // An array is one cell: scalars joined by ";" (a list of tags), or, when it
  // holds objects or arrays, its minified JSON text. ondemand cannot look at
  // the items and then go back, so the array's text is read a second time.
  simdjson::error_code read_array(std::string_view text) {
    m_array_text.assign(text);
    od::document doc;
    if (auto e = m_array_parser
                     .iterate(m_array_text.data(), m_array_text.size(), m_array_text.capacity())
                     .get(doc))
      return e;
    od::array array;
    if (auto e = doc.get_array().get(array))
      return e;
    m_scratch.clear();
    bool nested = false;
    bool first = true;
    for (auto item : array) {
      od::value value;
      if (auto e = item.get(value))
        return e;
      od::json_type type;
      if (auto e = value.type().get(type))
        return e;
      std::string_view piece;
      bool skip = false;
      switch (type) {
      case od::json_type::object:
      case od::json_type::array:
        nested = true;
        if (auto e = skip_value(value))
          return e;
        skip = true;
        break;
      case od::json_type::string:
        if (auto e = value.get_string().get(piece))
          return e;
        break;
      case od::json_type::number:
        piece = trim_json_space(value.raw_json_token());
        if (!is_json_number(piece))
          return simdjson::NUMBER_ERROR;
        break;
      case od::json_type::boolean: {
        bool b = false;
        if (auto e = value.get_bool().get(b))
          return e;
        piece = b ? "true" : "false";
        break;
      }
      case od::json_type::null: {
        bool null = false;
        if (auto e = value.is_null().get(null))
          return e;
        if (!null)
          return simdjson::N_ATOM_ERROR;
        skip = true;
        break;
      }
      }
      if (skip || nested)
        continue;
      if (!first)
        m_scratch += ';';
      m_scratch += piece;
      first = false;
    }
    if (nested) {
      m_scratch.resize(text.size() + simdjson::SIMDJSON_PADDING);
      std::size_t length = 0;
      if (auto e = simdjson::minify(text.data(), text.size(), m_scratch.data(), length))
        return e;
      m_scratch.resize(length);
    }
    return simdjson::SUCCESS;
  }

  // Walks a nested value to the end so that a syntax error in it is found.
  simdjson::error_code skip_value(od::value& value) {
    od::json_type type;
    if (auto e = value.type().get(type))
      return e;
    switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto e = value.get_object().get(object))
        return e;
      for (auto field : object) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key))
          return e;
        od::value child;
        if (auto e = field.value().get(child))
          return e;
        if (auto e = skip_value(child))
          return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array array;
      if (auto e = value.get_array().get(array))
        return e;
      for (auto item : array) {
        od::value child;
        if (auto e = item.get(child))
          return e;
        if (auto e = skip_value(child))
          return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return value.get_string().get(s);
    }
    case od::json_type::number:
      return is_json_number(trim_json_space(value.raw_json_token())) ? simdjson::SUCCESS
                                                                     : simdjson::NUMBER_ERROR;
    case od::json_type::boolean: {
      bool b = false;
      return value.get_bool().get(b);
    }
    case od::json_type::null: {
      bool null = false;
      if (auto e = value.is_null().get(null))
        return e;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
    }
    return simdjson::INCORRECT_TYPE;
  }

  // Records of one file nearly always list the same keys in the same order,
  // so the n-th value of a record is first tried against the column of the
  // n-th value of the record before, which skips the hash lookup.
  std::size_t column_for(std::string_view path) {
    std::size_t slot = m_slot++;
    if (slot < m_slots.size() && m_slots[slot].first == path)
      return m_slots[slot].second;
    std::size_t column;
    if (auto it = m_index.find(path); it != m_index.end()) {
      column = it->second;
    } else {
      column = m_columns.size();
      m_columns.emplace_back(path);
      m_index.emplace(std::string(path), column);
      m_seen.push_back(0);
    }
    if (slot >= m_slots.size())
      m_slots.resize(slot + 1);
    m_slots[slot].first.assign(path);
    m_slots[slot].second = column;
    return column;
  }

  // Assigns into the string already there, so a reused record allocates
  // nothing once its strings are large enough. A repeated key overwrites.
  void set(InputRecord& record, std::optional<std::string_view> value) {
    std::size_t column = column_for(m_path);
    if (record.values.size() <= column)
      record.values.resize(m_columns.size());
    auto& cell = record.values[column];
    if (!value)
      cell.reset();
    else if (cell)
      cell->assign(*value);
    else
      cell.emplace(*value);
    m_seen[column] = 1;
  }

  od::parser m_parser;
  od::parser m_array_parser;
  PaddedBuffer m_text;
  PaddedBuffer m_array_text;
  std::vector<std::string> m_columns;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> m_index;
  std::vector<std::pair<std::string, std::size_t>> m_slots;
  std::size_t m_slot = 0;
  std::vector<char> m_seen;
  std::string m_path;
  std::string m_scratch;
  bool m_not_object = false;
};

// ndjson: one object per line, read a line at a time in constant memory.
class NdjsonReader : public RecordReader {
public:
  explicit NdjsonReader(std::unique_ptr<InputSource> source) : m_source(std::move(source)) {}

  InputFormat format() const override { return InputFormat::ndjson; }
  const std::vector<std::string>& columns() const override { return m_flattener.columns(); }
  char delimiter() const override { return 0; }

  bool next(InputRecord& record) override {
    for (;;) {
      std::string_view line = m_source->read_line();
      if (line.empty())
        return false;
      if (line.back() == '\n')
        line.remove_suffix(1);
      ++m_line;
      if (m_line == 1 && line.substr(0, k_bom.size()) == k_bom)
        line.remove_prefix(k_bom.size());
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      if (trim_json_space(line).empty())
        continue;
      record.line = m_line;
      record.raw.assign(trim_json_space(line));
      m_flattener.read(line, record);
      return true;
    }
  }

private:
  std::unique_ptr<InputSource> m_source;
  Flattener m_flattener;
  std::size_t m_line = 0;
};

// json: one array of objects. A light scan finds where each element starts
// and ends (simdjson does not say where), so every record knows its line, a
// broken element does not end the import, and only one element at a time
// is held in memory.
class JsonArrayReader : public RecordReader {
public:
  explicit JsonArrayReader(std::unique_ptr<InputSource> source) : m_source(std::move(source)) {}

  InputFormat format() const override { return InputFormat::json; }
  const std::vector<std::string>& columns() const override { return m_flattener.columns(); }
  char delimiter() const override { return 0; }

  bool next(InputRecord& record) override {
    if (!m_started)
      start();
    if (m_done)
      return false;
    skip_space();
    if (!m_first && available()) {
      if (m_view[m_pos] == ',') {
        ++m_pos;
        skip_space();
        if (available() && m_view[m_pos] == ']')
          fail(m_line, "',' before the closing ']'");
      } else if (m_view[m_pos] != ']') {
        fail(m_line, "expected ',' or ']' after the element");
      }
    }
    if (!available())
      fail(m_line, fmt::format("the array that starts on line {} is not closed", m_array_line));
    if (m_view[m_pos] == ']') {
      ++m_pos;
      skip_space();
      if (available())
        fail(m_line, "text after the closing ']'");
      m_done = true;
      return false;
    }
    m_first = false;
    std::size_t start = m_pos;
    record.line = m_line;
    scan_value();
    std::string_view element = m_view.substr(start, m_pos - start);
    m_flattener.read(element, record);
    if (!record.error.empty()) {
      record.raw.assign(element);
    } else {
      // The rejects file holds one record per line, so a pretty-printed
      // element is kept minified.
      record.raw.resize(element.size() + simdjson::SIMDJSON_PADDING);
      std::size_t length = 0;
      if (simdjson::minify(element.data(), element.size(), record.raw.data(), length))
        record.raw.assign(element);
      else
        record.raw.resize(length);
    }
    consume();
    return true;
  }

private:
  void start() {
    m_started = true;
    m_view = m_source->peek(m_want);
    if (m_view.substr(0, k_bom.size()) == k_bom)
      m_pos = k_bom.size();
    skip_space();
    if (available() && m_view[m_pos] == '[') {
      m_array_line = m_line;
      ++m_pos;
      return;
    }
    std::string why = "the input is empty";
    std::string hint;
    if (available()) {
      switch (m_view[m_pos]) {
      case '{':
        why = "found an object at the top level";
        hint = "For one object per line, use --input-format ndjson.";
        break;
      case '"':
        why = "found a string at the top level";
        break;
      case 't':
      case 'f':
      case 'n':
      case '-':
        why = "found a single value at the top level";
        break;
      default:
        why = is_digit(m_view[m_pos]) ? "found a single value at the top level"
                                      : "it does not start with '['";
        break;
      }
    }
    throw Error(Exit::data,
                fmt::format("'{}' is not a JSON array of objects: {}", m_source->name(), why),
                hint);
  }

  [[noreturn]] void fail(std::size_t line, std::string_view what) {
    throw Error(Exit::data, fmt::format("{}:{}: invalid JSON: {}", m_source->name(), line, what));
  }

  // Makes the byte at m_pos readable; false at the end of the input.
  // Offsets into m_view stay valid across peeks until consume().
  bool available() {
    while (m_pos >= m_view.size()) {
      if (m_view.size() < m_want)
        return false;
      m_want *= 2;
      m_view = m_source->peek(m_want);
    }
    return true;
  }

  // Drops what has been scanned from the source.
  void consume() {
    m_source->read(m_pos);
    m_pos = 0;
    m_want = k_peek;
    m_view = m_source->peek(m_want);
  }

  void skip_space() {
    while (available() && is_json_space(m_view[m_pos])) {
      if (m_view[m_pos] == '\n')
        ++m_line;
      ++m_pos;
    }
  }

  // Moves m_pos past the string that starts at m_pos.
  void skip_string() {
    std::size_t line = m_line;
    ++m_pos;
    for (;;) {
      if (!available())
        fail(line, "a string is not closed");
      m_pos = find_special(m_pos, k_in_string);
      if (m_pos == m_view.size())
        continue;
      char c = m_view[m_pos++];
      if (c == '"')
        return;
      if (c == '\\') {
        if (!available())
          fail(line, "a string is not closed");
        c = m_view[m_pos++];
      }
      if (c == '\n')
        ++m_line;
    }
  }

  // Moves m_pos past the element that starts at m_pos. Only brackets and
  // strings matter here; simdjson checks the rest of the element.
  void scan_value() {
    std::size_t line = m_line;
    char c = m_view[m_pos];
    if (c == '"') {
      skip_string();
      return;
    }
    if (c != '{' && c != '[') {
      std::size_t start = m_pos;
      while (available() && !is_json_space(m_view[m_pos]) && m_view[m_pos] != ',' &&
             m_view[m_pos] != ']' && m_view[m_pos] != '}')
        ++m_pos;
      if (m_pos == start)
        fail(m_line, fmt::format("unexpected '{}'", c));
      return;
    }
    m_closers.assign(1, c == '{' ? '}' : ']');
    ++m_pos;
    while (!m_closers.empty()) {
      if (!available())
        fail(line, "the element that starts here is not closed");
      m_pos = find_special(m_pos, k_in_element);
      if (m_pos == m_view.size())
        continue;
      c = m_view[m_pos];
      switch (c) {
      case '"':
        skip_string();
        continue;
      case '{':
        m_closers.push_back('}');
        break;
      case '[':
        m_closers.push_back(']');
        break;
      case '}':
      case ']':
        if (c != m_closers.back())
          fail(m_line, fmt::format("unexpected '{}', expected '{}'", c, m_closers.back()));
        m_closers.pop_back();
        break;
      default:
        ++m_line;
        break;
      }
      ++m_pos;
    }
  }

  // The first byte at or after `pos` that `table` marks, or the end of m_view.
  std::size_t find_special(std::size_t pos, const std::array<bool, 256>& table) const {
    const char* data = m_view.data();
    std::size_t size = m_view.size();
    while (pos < size && !table[static_cast<unsigned char>(data[pos])])
      ++pos;
    return pos;
  }

  std::unique_ptr<InputSource> m_source;
  Flattener m_flattener;
  std::string_view m_view;     // the source's unconsumed bytes
  std::size_t m_want = k_peek; // how many bytes m_view was asked for
  std::size_t m_pos = 0;       // the scan position in m_view
  std::string m_closers;
  std::size_t m_line = 1;
  std::size_t m_array_line = 1;
  bool m_started = false;
  bool m_first = true;
  bool m_done = false;
};

} // namespace

std::unique_ptr<RecordReader> make_json_reader(std::unique_ptr<InputSource> source,
                                               InputFormat format) {
  if (format == InputFormat::ndjson)
    return std::make_unique<NdjsonReader>(std::move(source));
  return std::make_unique<JsonArrayReader>(std::move(source));
}

} // namespace crm
