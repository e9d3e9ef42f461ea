#include <crm/json.hpp>
#include <crm/output.hpp>

#include "utf8.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <chrono>
#include <cmath>
#include <deque>
#include <ostream>
#include <utility>

namespace crm {

namespace {

// Streaming writers hand their buffer to the stream once it holds this much,
// so memory stays flat however many rows pass through.
constexpr std::size_t k_chunk_size = 64 * 1024;
constexpr auto k_ndjson_flush_interval = std::chrono::milliseconds(100);
constexpr std::string_view k_replacement_character = "\xEF\xBF\xBD";
constexpr std::string_view k_list_separator = ";";
constexpr std::string_view k_column_gap = "  ";
constexpr std::string_view k_bold = "\x1b[1m";
constexpr std::string_view k_reset = "\x1b[0m";
constexpr std::string_view k_hex_digits = "0123456789abcdef";

template <typename... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
// clang 14 has no class template argument deduction for aggregates.
template <typename... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

void append_int(std::string& out, std::int64_t value) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Shortest text that reads back as the same double; "nan" and "inf" for
// non-finite values.
void append_double(std::string& out, double value) {
  char digits[32];
  auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Cents as a decimal with two places; the magnitude is computed unsigned so
// that INT64_MIN works too.
void append_money(std::string& out, std::int64_t cents) {
  auto magnitude = static_cast<std::uint64_t>(cents);
  if (cents < 0) {
    out.push_back('-');
    magnitude = 0 - magnitude;
  }
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof digits, magnitude / 100);
  out.append(digits, result.ptr);
  const auto fraction = static_cast<char>(magnitude % 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + fraction / 10));
  out.push_back(static_cast<char>('0' + fraction % 10));
}

void join_list(std::string& out, const StringList& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out.append(k_list_separator);
    out.append(items[i]);
  }
}

void append_hex_byte(std::string& out, unsigned char byte) {
  out.push_back(k_hex_digits[byte >> 4]);
  out.push_back(k_hex_digits[byte & 0xF]);
}

void append_json_value(std::string& out, const Cell& cell) {
  std::visit(Overloaded{
                 [&](std::monostate) { out.append("null"); },
                 [&](std::int64_t value) { append_int(out, value); },
                 [&](double value) {
                   if (std::isfinite(value))
                     append_double(out, value);
                   else
                     out.append("null");
                 },
                 [&](const std::string& value) { append_json_string(out, value); },
                 [&](Money value) { append_money(out, value.cents); },
                 [&](const StringList& items) {
                   out.push_back('[');
                   for (std::size_t i = 0; i < items.size(); ++i) {
                     if (i > 0)
                       out.push_back(',');
                     append_json_string(out, items[i]);
                   }
                   out.push_back(']');
                 },
             },
             cell);
}

// RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes
// doubled.
struct CsvEncoding {
  static constexpr char separator = ',';

  static void append_text(std::string& out, std::string_view s) {
    const bool quote = std::any_of(
        s.begin(), s.end(), [](char c) { return c == ',' || c == '"' || c == '\n' || c == '\r'; });
    if (!quote) {
      out.append(s);
      return;
    }
    out.push_back('"');
    for (char c : s) {
      if (c == '"')
        out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
};

// Tab, LF, CR and backslash as two-character escapes, so a record is always
// one line and a tab always a separator.
struct TsvEncoding {
  static constexpr char separator = '\t';

  static void append_text(std::string& out, std::string_view s) {
    for (char c : s) {
      switch (c) {
      case '\t':
        out.append("\\t");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\\':
        out.append("\\\\");
        break;
      default:
        out.push_back(c);
      }
    }
  }
};

// What the table shows for a text: one line (LF, CR and tab escaped, other
// control characters as \xNN, so no cell can move the cursor or send a
// terminal escape) and valid UTF-8.
void append_display_text(std::string& out, std::string_view s) {
  std::size_t run_start = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      ++i;
      continue;
    }
    if (byte >= 0x80) {
      const auto sequence = next_utf8(s.substr(i));
      if (!sequence.valid) {
        out.append(s, run_start, i - run_start);
        out.append(k_replacement_character);
        run_start = i + sequence.length;
      }
      i += sequence.length;
      continue;
    }
    out.append(s, run_start, i - run_start);
    if (byte == '\n') {
      out.append("\\n");
    } else if (byte == '\t') {
      out.append("\\t");
    } else if (byte == '\r') {
      out.append("\\r");
    } else {
      out.append("\\x");
      append_hex_byte(out, byte);
    }
    ++i;
    run_start = i;
  }
  out.append(s, run_start, s.size() - run_start);
}

bool is_number(const Cell& cell) {
  return std::holds_alternative<std::int64_t>(cell) || std::holds_alternative<double>(cell) ||
         std::holds_alternative<Money>(cell);
}

// Rows go into one reusable string that is handed to the stream a chunk at
// a time.
class BufferedWriter : public RowWriter {
protected:
  explicit BufferedWriter(std::ostream& out) : m_out(out) {
    m_buffer.reserve(k_chunk_size + k_chunk_size / 4);
  }

  void write_buffer() {
    m_out.write(m_buffer.data(), static_cast<std::streamsize>(m_buffer.size()));
    m_buffer.clear();
  }

  void write_if_full() {
    if (m_buffer.size() >= k_chunk_size)
      write_buffer();
  }

  std::ostream& m_out;
  std::string m_buffer;
};

template <typename Encoding> class DelimitedWriter final : public BufferedWriter {
public:
  DelimitedWriter(std::ostream& out, WriterOptions options)
      : BufferedWriter(out), m_options(options) {}

  void header(std::span<const std::string> columns) override {
    m_column_count = columns.size();
    if (!m_options.header)
      return;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0)
        m_buffer.push_back(Encoding::separator);
      Encoding::append_text(m_buffer, columns[i]);
    }
    m_buffer.push_back('\n');
  }

  void row(std::span<const Cell> cells) override {
    assert(cells.size() == m_column_count);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0)
        m_buffer.push_back(Encoding::separator);
      append_cell(cells[i]);
    }
    m_buffer.push_back('\n');
    write_if_full();
  }

  void finish() override {
    write_buffer();
    m_out.flush();
  }

private:
  void append_cell(const Cell& cell) {
    std::visit(Overloaded{
                   [](std::monostate) {},
                   [&](std::int64_t value) { append_int(m_buffer, value); },
                   [&](double value) { append_double(m_buffer, value); },
                   [&](const std::string& value) { Encoding::append_text(m_buffer, value); },
                   [&](Money value) { append_money(m_buffer, value.cents); },
                   [&](const StringList& items) {
                     m_scratch.clear();
                     join_list(m_scratch, items);
                     Encoding::append_text(m_buffer, m_scratch);
                   },
               },
               cell);
  }

  WriterOptions m_options;
  std::size_t m_column_count = 0;
  std::string m_scratch;
};

// The fixed text of a json object for a set of columns, precomputed as
// literal pieces between cell values: columns `id`, `attr.size` render as
// `{"id":` 1 `,"attr":{"size":` "x" `}}`.
class JsonObjectTemplate {
public:
  JsonObjectTemplate() = default;

  explicit JsonObjectTemplate(std::span<const std::string> columns) {
    std::vector<Entry> entries;
    entries.reserve(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i)
      entries.push_back({i, columns[i]});
    std::string pending;
    emit(build_nodes(entries), pending);
    m_closing = std::move(pending);
  }

  std::size_t column_count() const { return m_steps.size(); }

  void append(std::string& out, std::span<const Cell> cells) const {
    for (const auto& step : m_steps) {
      out.append(step.literal);
      append_json_value(out, cells[step.column]);
    }
    out.append(m_closing);
  }

private:
  struct Entry {
    std::size_t column;
    std::string_view name;
  };

  struct Node {
    std::string key;
    std::optional<std::size_t> column; // empty for a nested object
    std::vector<Node> children;
  };

  struct Step {
    std::string literal;
    std::size_t column;
  };

  // Groups dotted names by their first segment, at the position of the
  // group's first column. A name whose prefix is also a plain column name
  // (`attr` and `attr.x`), or with an empty segment, stays a flat key so
  // that no key repeats.
  static std::vector<Node> build_nodes(std::span<const Entry> entries) {
    std::vector<std::string_view> plain_names;
    for (const auto& entry : entries)
      if (entry.name.find('.') == std::string_view::npos)
        plain_names.push_back(entry.name);

    std::vector<Node> nodes;
    std::vector<std::vector<Entry>> members;
    for (const auto& entry : entries) {
      const auto dot = entry.name.find('.');
      const auto prefix = entry.name.substr(0, dot);
      const bool nests =
          dot != std::string_view::npos && dot > 0 && dot + 1 < entry.name.size() &&
          std::find(plain_names.begin(), plain_names.end(), prefix) == plain_names.end();
      if (!nests) {
        nodes.push_back({std::string(entry.name), entry.column, {}});
        members.emplace_back();
        continue;
      }
      auto group = std::find_if(nodes.begin(), nodes.end(), [&](const Node& node) {
        return !node.column && node.key == prefix;
      });
      if (group == nodes.end()) {
        nodes.push_back({std::string(prefix), std::nullopt, {}});
        members.emplace_back();
        group = nodes.end() - 1;
      }
      members[static_cast<std::size_t>(group - nodes.begin())].push_back(
          {entry.column, entry.name.substr(dot + 1)});
    }
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (!nodes[i].column)
        nodes[i].children = build_nodes(members[i]);
    return nodes;
  }

  void emit(const std::vector<Node>& nodes, std::string& pending) {
    pending.push_back('{');
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i > 0)
        pending.push_back(',');
      append_json_string(pending, nodes[i].key);
      pending.push_back(':');
      if (nodes[i].column) {
        m_steps.push_back({std::move(pending), *nodes[i].column});
        pending.clear();
      } else {
        emit(nodes[i].children, pending);
      }
    }
    pending.push_back('}');
  }

  std::vector<Step> m_steps;
  std::string m_closing;
};

class JsonWriter final : public BufferedWriter {
public:
  explicit JsonWriter(std::ostream& out) : BufferedWriter(out) {}

  void header(std::span<const std::string> columns) override {
    m_object = JsonObjectTemplate(columns);
  }

  void row(std::span<const Cell> cells) override {
    assert(cells.size() == m_object.column_count());
    m_buffer.append(m_rows == 0 ? "[\n" : ",\n");
    m_object.append(m_buffer, cells);
    ++m_rows;
    write_if_full();
  }

  void finish() override {
    m_buffer.append(m_rows == 0 ? "[]\n" : "\n]\n");
    write_buffer();
    m_out.flush();
  }

private:
  JsonObjectTemplate m_object;
  std::size_t m_rows = 0;
};

class NdjsonWriter final : public BufferedWriter {
public:
  explicit NdjsonWriter(std::ostream& out) : BufferedWriter(out) {}

  void header(std::span<const std::string> columns) override {
    m_object = JsonObjectTemplate(columns);
  }

  void row(std::span<const Cell> cells) override {
    assert(cells.size() == m_object.column_count());
    m_object.append(m_buffer, cells);
    m_buffer.push_back('\n');
    ++m_rows;
    const auto now = std::chrono::steady_clock::now();
    if (m_rows == 1 || m_buffer.size() >= k_chunk_size ||
        now - m_last_flush >= k_ndjson_flush_interval) {
      write_buffer();
      m_out.flush();
      m_last_flush = now;
    }
  }

  void finish() override {
    write_buffer();
    m_out.flush();
  }

private:
  JsonObjectTemplate m_object;
  std::size_t m_rows = 0;
  std::chrono::steady_clock::time_point m_last_flush;
};

// Keeps cell texts in large blocks that never move and cell records in a
// deque, so buffering a large table neither copies what it holds nor costs
// an allocation per cell.
class TableWriter final : public RowWriter {
public:
  TableWriter(std::ostream& out, WriterOptions options) : m_out(out), m_options(options) {}

  void header(std::span<const std::string> columns) override {
    m_column_count = columns.size();
    for (const auto& name : columns) {
      m_scratch.clear();
      append_display_text(m_scratch, name);
      m_header.push_back(store(m_scratch, false));
    }
    m_has_number.assign(columns.size(), false);
    m_has_text.assign(columns.size(), false);
    m_widths.assign(columns.size(), 0);
    if (m_options.header)
      for (std::size_t i = 0; i < columns.size(); ++i)
        m_widths[i] = m_header[i].width;
  }

  void row(std::span<const Cell> cells) override {
    assert(cells.size() == m_column_count);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const bool number = is_number(cells[i]);
      if (number)
        m_has_number[i] = true;
      else if (!std::holds_alternative<std::monostate>(cells[i]))
        m_has_text[i] = true;
      m_scratch.clear();
      std::visit(Overloaded{
                     [](std::monostate) {},
                     [&](std::int64_t value) { append_int(m_scratch, value); },
                     [&](double value) { append_double(m_scratch, value); },
                     [&](const std::string& value) { append_display_text(m_scratch, value); },
                     [&](Money value) { append_money(m_scratch, value.cents); },
                     [&](const StringList& items) {
                       m_list.clear();
                       join_list(m_list, items);
                       append_display_text(m_scratch, m_list);
                     },
                 },
                 cells[i]);
      m_cells.push_back(store(m_scratch, number));
      m_widths[i] = std::max(m_widths[i], m_cells.back().width);
    }
  }

  void finish() override {
    std::string buffer;
    if (m_column_count > 0) {
      if (m_options.header) {
        for (std::size_t i = 0; i < m_column_count; ++i)
          m_header[i].right = m_has_number[i] && !m_has_text[i];
        append_line(buffer, m_header.begin(), m_options.color);
      }
      for (auto row = m_cells.begin(); row != m_cells.end();
           row += static_cast<std::ptrdiff_t>(m_column_count)) {
        append_line(buffer, row, false);
        if (buffer.size() >= k_chunk_size) {
          m_out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
          buffer.clear();
        }
      }
    }
    m_out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    m_out.flush();
  }

private:
  static constexpr std::size_t k_text_block_size = 1024 * 1024;

  struct TableCell {
    std::string_view text; // into m_blocks
    std::size_t width;
    bool right;
  };

  // Copies `text` into the current block, or a new one when it does not fit:
  // a block never grows past its reserved capacity, so stored views stay valid.
  TableCell store(std::string_view text, bool right) {
    if (m_blocks.empty() || m_blocks.back().capacity() - m_blocks.back().size() < text.size()) {
      m_blocks.emplace_back();
      m_blocks.back().reserve(std::max(k_text_block_size, text.size()));
    }
    auto& block = m_blocks.back();
    const auto start = block.size();
    block.append(text);
    return {std::string_view(block).substr(start), display_width(text), right};
  }

  template <typename Iterator> void append_line(std::string& out, Iterator cell, bool bold) const {
    if (bold)
      out.append(k_bold);
    const auto line_start = out.size();
    for (std::size_t i = 0; i < m_column_count; ++i, ++cell) {
      if (i > 0)
        out.append(k_column_gap);
      const auto padding = m_widths[i] - cell->width;
      if (cell->right)
        out.append(padding, ' ');
      out.append(cell->text);
      if (!cell->right)
        out.append(padding, ' ');
    }
    while (out.size() > line_start && out.back() == ' ')
      out.pop_back();
    if (bold)
      out.append(k_reset);
    out.push_back('\n');
  }

  std::ostream& m_out;
  WriterOptions m_options;
  std::size_t m_column_count = 0;
  std::vector<std::string> m_blocks;
  std::vector<TableCell> m_header;
  std::deque<TableCell> m_cells; // row-major
  std::vector<bool> m_has_number;
  std::vector<bool> m_has_text;
  std::vector<std::size_t> m_widths;
  std::string m_scratch;
  std::string m_list;
};

} // namespace

std::optional<Format> parse_format(std::string_view name) {
  for (auto format : {Format::table, Format::csv, Format::tsv, Format::json, Format::ndjson})
    if (format_name(format) == name)
      return format;
  return std::nullopt;
}

std::string_view format_name(Format f) {
  switch (f) {
  case Format::table:
    return "table";
  case Format::csv:
    return "csv";
  case Format::tsv:
    return "tsv";
  case Format::json:
    return "json";
  case Format::ndjson:
    return "ndjson";
  }
  assert(false);
  return {};
}

std::unique_ptr<RowWriter> make_writer(Format format, std::ostream& out, WriterOptions options) {
  switch (format) {
  case Format::table:
    return std::make_unique<TableWriter>(out, options);
  case Format::csv:
    return std::make_unique<DelimitedWriter<CsvEncoding>>(out, options);
  case Format::tsv:
    return std::make_unique<DelimitedWriter<TsvEncoding>>(out, options);
  case Format::json:
    return std::make_unique<JsonWriter>(out);
  case Format::ndjson:
    return std::make_unique<NdjsonWriter>(out);
  }
  assert(false);
  return nullptr;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t width = 0;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      ++width;
      ++i;
      continue;
    }
    const auto sequence = next_utf8(utf8.substr(i));
    if (sequence.valid) {
      const auto code_point = decode_utf8(utf8.substr(i), sequence.length);
      width += static_cast<std::size_t>(
          std::max(0, utf8proc_charwidth(static_cast<utf8proc_int32_t>(code_point))));
    } else {
      ++width; // a terminal shows U+FFFD, one column wide
    }
    i += sequence.length;
  }
  return width;
}

} // namespace crm
