#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

enum class InputFormat { csv, tsv, json, ndjson, vcard };

// Parses "csv", "tsv", "json", "ndjson", "vcard" (also "vcf"); nullopt otherwise.
std::optional<InputFormat> parse_input_format(std::string_view name);
std::string_view input_format_name(InputFormat f);

// A column name as the importers compare it: without ASCII case, spaces,
// hyphens, underscores and dots ("E-Mail Address" and "email_address" match).
std::string simplified_column(std::string_view name);

// One record of an input file.
struct InputRecord {
  // The physical line where the record starts; the csv/tsv header is line 1.
  std::size_t line = 0;
  // The values by column position (see RecordReader::columns()); a column a
  // record does not have is nullopt. csv/tsv: exactly the cells of the row
  // (all present; an empty cell is ""), so a rejects file can repeat them.
  std::vector<std::optional<std::string>> values;
  // json, ndjson, vcard: the record's original text, for the rejects file.
  std::string raw;
  // Not empty when the record cannot be read, and why: "expected 15 fields,
  // found 14", "unterminated quoted field", "invalid UTF-8 in column 'Name'".
  // The reader goes on with the next record where it can.
  std::string error;
};

struct ReaderOptions {
  std::optional<InputFormat> format;   // else from the extension, else sniffed
  std::optional<std::string> encoding; // iconv name, like "cp1252"; default UTF-8
                                       // (a UTF-8 or UTF-16 BOM decides by itself)
  std::optional<char> delimiter;       // csv: else sniffed from the header (, ; tab)
};

// Streams records from an input, one at a time, in constant memory (a json
// array too: its elements are found by a light scan and parsed one by one).
// Values are UTF-8.
class RecordReader {
public:
  virtual ~RecordReader() = default;
  // The format being read (given, from the extension, or sniffed).
  virtual InputFormat format() const = 0;
  // The column names: the csv/tsv header (duplicates kept, in order); for
  // json/ndjson the keys seen so far (nested objects flattened to dotted
  // names: {"attr": {"x": 1}} is column "attr.x"); for vCard the crm field
  // names it fills. It may grow while reading json, ndjson and vCard.
  virtual const std::vector<std::string>& columns() const = 0;
  // The delimiter of a csv/tsv input ('\t' for tsv); 0 for others.
  virtual char delimiter() const = 0;
  // Reads the next record into `record`; false at the end of the input.
  // Throws Error(Exit::data) when the input as a whole cannot be read (not
  // json at all, an unknown encoding), Error(Exit::io) on a read error.
  virtual bool next(InputRecord& record) = 0;

  // Bytes of the input read so far (a little ahead of the records), for a
  // progress display; may be called from another thread while next() runs.
  std::uint64_t bytes_read() const {
    return m_bytes_read ? m_bytes_read->load(std::memory_order_relaxed) : 0;
  }
  // Set by open_reader.
  std::shared_ptr<const std::atomic<std::uint64_t>> m_bytes_read;
};

// Opens `path` ("-" = stdin) for reading records. Throws Error(Exit::no_input)
// if the file cannot be opened, Error(Exit::data) for an unknown encoding or
// a format that cannot be determined.
std::unique_ptr<RecordReader> open_reader(const std::string& path, const ReaderOptions& options);

} // namespace crm
