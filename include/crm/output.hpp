#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crm {

// Money in integer cents: "12.30" in text formats, 12.3 in json.
struct Money {
  std::int64_t cents = 0;
};
// A list of strings (tags): ";"-joined in text formats, an array in json.
using StringList = std::vector<std::string>;

using Cell = std::variant<std::monostate, std::int64_t, double, std::string, Money, StringList>;

enum class Format { table, csv, tsv, json, ndjson };

// Parses a format name; nullopt if unknown.
std::optional<Format> parse_format(std::string_view name);
std::string_view format_name(Format f);

// Renders rows of typed cells. Writers know nothing about contacts: column
// names are the same snake_case names in every format. In json and ndjson a
// dotted column name nests: `attr.industry` becomes {"attr": {"industry": ..}}.
class RowWriter {
public:
  virtual ~RowWriter() = default;
  virtual void header(std::span<const std::string> columns) = 0;
  virtual void row(std::span<const Cell> cells) = 0;
  virtual void finish() = 0;
};

struct WriterOptions {
  bool header = true; // --no-header clears it (table, csv, tsv)
  bool color = false; // table only: bold header
};

// A writer for `format` on `out`. table buffers (it measures widths); the
// others stream. ndjson flushes `out` after the first row, then at least
// every 64 KiB or 100 ms.
std::unique_ptr<RowWriter> make_writer(Format format, std::ostream& out, WriterOptions options);

// Display width of a UTF-8 string in terminal columns.
std::size_t display_width(std::string_view utf8);

} // namespace crm
