#include "input.hpp"
#include "utf8.hpp"

#include <crm/error.hpp>

#include <csv.h>
#include <fmt/core.h>
#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

namespace crm {

// Defined here, used by open_reader too.
char sniff_delimiter(std::string_view text);

namespace {

constexpr std::size_t k_block = 256 * 1024;
// How far to read ahead for the end of the header line before sniffing the
// delimiter from what was seen.
constexpr std::size_t k_max_head = 1024 * 1024;
constexpr std::size_t k_none = std::numeric_limits<std::size_t>::max();
// Written where iconv met a byte sequence it cannot convert: 0xFF is never
// part of UTF-8, so the field holding it is reported like invalid UTF-8.
constexpr char k_bad_byte = '\xff';

// libcsv's parser states. The struct that holds them is public, the values
// are private to libcsv.c (3.0.3) and have not changed since 2.0.
constexpr int k_row_not_begun = 0;
constexpr int k_field_begun = 2;

const iconv_t k_no_iconv = reinterpret_cast<iconv_t>(-1);

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// "UTF-8", "utf_8" and "utf8" are one encoding to a user; compare them so.
std::string normalized_encoding(std::string_view name) {
  std::string out;
  for (char c : name)
    if (c != '-' && c != '_')
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

// The input as UTF-8 blocks: a UTF-8 BOM skipped, UTF-16 (by its BOM) or the
// encoding asked for converted with iconv. UTF-8 input is passed through
// without a copy.
class Utf8Input {
public:
  Utf8Input(std::unique_ptr<InputSource> source, const ReaderOptions& options)
      : m_source(std::move(source)) {
    std::string wanted = options.encoding ? normalized_encoding(*options.encoding) : "utf8";
    if (wanted != "utf8") {
      // Opened before looking at the BOM, so a misspelt name is reported even
      // when the BOM decides.
      open(*options.encoding);
      m_label = *options.encoding;
      if (wanted.starts_with("utf16") || wanted.starts_with("ucs2"))
        m_unit = 2;
      else if (wanted.starts_with("utf32") || wanted.starts_with("ucs4"))
        m_unit = 4;
    }
    std::string_view head = m_source->peek(3);
    if (head.starts_with("\xEF\xBB\xBF")) {
      m_source->read(3);
      close();
      m_label = "UTF-8";
      m_unit = 1;
    } else if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
      bool little = head[0] == '\xFF';
      m_source->read(2);
      close();
      open(little ? "UTF-16LE" : "UTF-16BE");
      m_label = "UTF-16";
      m_unit = 2;
    } else if (wanted == "utf16" || wanted == "ucs2") {
      // Without a BOM glibc takes UTF-16 as big-endian, but Windows writes
      // little-endian: an ASCII first character tells which.
      head = m_source->peek(2);
      bool little = head.size() == 2 && head[0] != '\0' && head[1] == '\0';
      close();
      open(little ? "UTF-16LE" : "UTF-16BE");
    }
  }
  ~Utf8Input() { close(); }
  Utf8Input(const Utf8Input&) = delete;
  Utf8Input& operator=(const Utf8Input&) = delete;

  // The next block of UTF-8, valid until the next call; empty at the end.
  std::string_view read() {
    if (m_cd == k_no_iconv)
      return m_source->read(k_block);
    for (;;) {
      std::string_view in = m_source->read(k_block);
      if (in.empty()) {
        if (m_carry.empty())
          return {};
        // The input ends inside a character.
        m_carry.clear();
        m_out.assign(1, k_bad_byte);
        return m_out;
      }
      if (!m_carry.empty()) {
        m_carry.append(in);
        in = m_carry;
      }
      convert(in);
      if (!m_out.empty())
        return m_out;
    }
  }

  // The encoding read, for messages: "UTF-8", "UTF-16" or the name given.
  const std::string& label() const { return m_label; }
  const std::string& name() const { return m_source->name(); }

private:
  void open(const std::string& from) {
    m_cd = iconv_open("UTF-8", from.c_str());
    if (m_cd == k_no_iconv)
      throw Error(Exit::data, fmt::format("unknown encoding '{}'", from),
                  "see `iconv --list` for the names");
  }

  void close() {
    if (m_cd != k_no_iconv)
      iconv_close(m_cd);
    m_cd = k_no_iconv;
  }

  // Converts `in` into m_out; an incomplete character at its end is kept in
  // m_carry for the next block.
  void convert(std::string_view in) {
    // Three bytes of UTF-8 per input byte cover every single-byte encoding
    // and UTF-16; E2BIG grows it for the rest.
    m_out.resize(in.size() * 3 + 16);
    char* src = const_cast<char*>(in.data());
    std::size_t src_left = in.size();
    char* dst = m_out.data();
    std::size_t dst_left = m_out.size();
    std::string carry;
    while (src_left > 0) {
      if (iconv(m_cd, &src, &src_left, &dst, &dst_left) != static_cast<std::size_t>(-1))
        break;
      if (errno == E2BIG || (errno == EILSEQ && dst_left == 0)) {
        std::size_t used = static_cast<std::size_t>(dst - m_out.data());
        m_out.resize(m_out.size() * 2);
        dst = m_out.data() + used;
        dst_left = m_out.size() - used;
      } else if (errno == EILSEQ) {
        *dst++ = k_bad_byte;
        --dst_left;
        std::size_t skip = std::min(m_unit, src_left);
        src += skip;
        src_left -= skip;
      } else if (errno == EINVAL) {
        carry.assign(src, src_left);
        break;
      } else {
        throw Error(Exit::io, fmt::format("cannot convert '{}' from {}: {}", name(), m_label,
                                          std::strerror(errno)));
      }
    }
    m_out.resize(static_cast<std::size_t>(dst - m_out.data()));
    m_carry = std::move(carry);
  }

  std::unique_ptr<InputSource> m_source;
  iconv_t m_cd = k_no_iconv;
  std::string m_label = "UTF-8";
  std::size_t m_unit = 1; // bytes skipped past an unconvertible sequence
  std::string m_carry;
  std::string m_out;
};

// What the csv and tsv readers share: the input, the header and the checks
// of each record.
class DelimitedReader : public RecordReader {
public:
  InputFormat format() const override { return m_format; }
  const std::vector<std::string>& columns() const override { return m_columns; }
  char delimiter() const override { return m_delimiter; }

protected:
  DelimitedReader(std::unique_ptr<InputSource> source, InputFormat format,
                  const ReaderOptions& options)
      : m_input(std::move(source), options), m_format(format) {}

  void begin_record(InputRecord& record) {
    m_record = &record;
    m_fields = 0;
    m_bad_field = k_none;
    record.error.clear();
    record.raw.clear();
  }

  // Stores the next cell, reusing the string left in that place by the
  // previous record (callers pass the same record each time).
  void add_field(std::string_view value) {
    auto& values = m_record->values;
    if (m_fields < values.size()) {
      auto& cell = values[m_fields];
      if (cell) {
        // Cheaper than assign(), which allows for overlapping text.
        cell->clear();
        cell->append(value);
      } else
        cell.emplace(value);
    } else {
      values.emplace_back(std::in_place, value);
    }
    if (m_check_fields && m_bad_field == k_none && !valid_utf8(value))
      m_bad_field = m_fields;
    ++m_fields;
  }

  // Ends the record: drops cells left from a longer one, and explains what
  // is wrong with it unless that is known already.
  void end_record(std::size_t line) {
    m_record->values.resize(m_fields);
    m_record->line = line;
    if (!m_has_header || !m_record->error.empty())
      return;
    if (m_fields != m_columns.size())
      m_record->error = fmt::format("expected {} fields, found {}", m_columns.size(), m_fields);
    else if (m_bad_field != k_none)
      m_record->error = fmt::format("invalid {} in {}", m_input.label(), column_label(m_bad_field));
  }

  std::string column_label(std::size_t index) const {
    if (index < m_columns.size())
      return fmt::format("column '{}'", m_columns[index]);
    return fmt::format("field {}", index + 1);
  }

  // Takes the first record (if any) as the column names.
  void set_header(bool found, const InputRecord& header) {
    m_has_header = true;
    if (!found)
      return;
    if (!header.error.empty())
      throw Error(Exit::data, fmt::format("{}:{}: cannot read the header: {}", m_input.name(),
                                          header.line, header.error));
    if (m_bad_field != k_none)
      throw Error(Exit::data,
                  fmt::format("{}:{}: the header is not valid {}", m_input.name(), header.line,
                              m_input.label()),
                  "give the file's encoding, e.g. --encoding cp1252");
    m_columns.reserve(header.values.size());
    for (const auto& name : header.values)
      m_columns.emplace_back(trim(*name));
  }

  Utf8Input m_input;
  InputFormat m_format;
  char m_delimiter = ',';
  std::vector<std::string> m_columns;
  bool m_has_header = false;
  InputRecord* m_record = nullptr;
  std::size_t m_fields = 0;
  std::size_t m_bad_field = k_none;
  // Whether add_field must check each value; off while a reader knows that
  // all the text of the record is valid UTF-8.
  bool m_check_fields = true;
};

// libcsv's parser, freed also when a reader's constructor throws.
struct CsvParser : csv_parser {
  explicit CsvParser(unsigned char options) : csv_parser{} {
    if (csv_init(this, options) != 0)
      throw Error(Exit::internal, "cannot initialise libcsv");
  }
  ~CsvParser() { csv_free(this); }
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;
};

// RFC 4180 through libcsv. The input is fed to libcsv in pieces that end at
// a line end (or a block end), so the line count is a memchr per line and
// a piece holds at most one end of a record, at its end.
class CsvReader final : public DelimitedReader {
public:
  CsvReader(std::unique_ptr<InputSource> source, const ReaderOptions& options)
      : DelimitedReader(std::move(source), InputFormat::csv, options) {
    // Fewer reallocations for long fields than the default 128 bytes.
    csv_set_blk_size(&m_parser, 16 * 1024);
    read_ahead();
    m_delimiter = options.delimiter ? *options.delimiter : sniff_delimiter(m_head);
    csv_set_delim(&m_parser, static_cast<unsigned char>(m_delimiter));
    m_chunk = m_head;
    InputRecord header;
    bool found = read_record(header);
    set_header(found, header);
  }
  bool next(InputRecord& record) override { return read_record(record); }

private:
  // Reads until the header line ends (a line end outside quotes) so the
  // delimiter can be sniffed from it.
  void read_ahead() {
    bool quoted = false;
    std::size_t scanned = 0;
    bool started = false;
    while (m_head.size() < k_max_head) {
      std::string_view block = m_input.read();
      if (block.empty()) {
        m_input_ended = true;
        return;
      }
      m_head.append(block);
      for (; scanned < m_head.size(); ++scanned) {
        char c = m_head[scanned];
        if (c == '"') {
          quoted = !quoted;
          started = true;
        } else if ((c == '\n' || c == '\r') && !quoted && started) {
          return;
        } else if (c != '\n' && c != '\r') {
          started = true;
        }
      }
    }
  }

  bool read_record(InputRecord& record) {
    begin_record(record);
    m_row_done = false;
    m_unterminated = false;
    m_malformed = k_none;
    while (!m_row_done) {
      if (m_pos == m_chunk.size()) {
        if (!m_input_ended) {
          m_chunk = m_input.read();
          m_pos = 0;
          m_input_ended = m_chunk.empty();
          std::string().swap(m_head);
          continue;
        }
        if (m_finished)
          return false;
        m_finished = true;
        finish();
        return m_row_done;
      }
      if (m_malformed != k_none)
        skip_line();
      else
        feed();
    }
    return true;
  }

  void feed() {
    const char* begin = m_chunk.data() + m_pos;
    std::size_t avail = m_chunk.size() - m_pos;
    auto nl = static_cast<const char*>(std::memchr(begin, '\n', avail));
    std::size_t len = nl ? static_cast<std::size_t>(nl - begin) + 1 : avail;
    // libcsv ends a record at a CR too: a lone CR (not one of a CRLF) ends
    // the piece, so one call never ends two records.
    auto cr = static_cast<const char*>(std::memchr(begin, '\r', len));
    if (cr && cr + 1 != nl)
      len = static_cast<std::size_t>(cr - begin) + 1;
    if (m_parser.pstate == k_row_not_begun) {
      m_record_line = m_line;
      m_check_fields = false;
    }
    // Checking a whole line at once is cheaper than each value. A piece
    // that ends inside a character (at a block end) fails, and so do the
    // values of its record, which are then checked one by one.
    if (!m_check_fields && !valid_utf8(std::string_view(begin, len)))
      m_check_fields = true;
    std::size_t done = parse(begin, len);
    m_pos += done;
    if (done == len && begin[len - 1] == '\n')
      ++m_line;
  }

  // Parses the piece; returns how much of it was used, less than `len` when
  // malformed quotes leave the rest of the line to skip_line().
  std::size_t parse(const char* piece, std::size_t len) {
    std::size_t done = 0;
    while (done < len) {
      done += csv_parse(&m_parser, piece + done, len - done, on_field, on_row, this);
      if (done == len)
        break;
      if (csv_error(&m_parser) != CSV_EPARSE)
        throw Error(Exit::io, fmt::format("cannot read '{}': {}", m_input.name(),
                                          csv_strerror(csv_error(&m_parser))));
      m_parser.status = CSV_SUCCESS;
      if (m_parser.pstate == k_field_begun && !m_parser.quoted) {
        // A quote inside an unquoted field (37°36'37.8"N) is taken as it is,
        // like Excel and the csv-spectrum suite do; strict mode is kept for
        // text after a closing quote, which would otherwise swallow the file.
        csv_set_opts(&m_parser, static_cast<unsigned char>(m_options & ~CSV_STRICT));
        csv_parse(&m_parser, piece + done, 1, on_field, on_row, this);
        csv_set_opts(&m_parser, m_options);
        ++done;
        continue;
      }
      // Text after a closing quote: keep the cell as read so far, then the
      // rest of the line as it is, and go on at the next line.
      std::string cell(reinterpret_cast<const char*>(m_parser.entry_buf), m_parser.entry_pos);
      csv_fini(&m_parser, nullptr, nullptr, nullptr);
      m_malformed = m_fields;
      add_field(cell);
      return done;
    }
    return len;
  }

  // After malformed quotes: adds the rest of the line to the bad cell. A
  // lone CR ends the line too, as it ends records.
  void skip_line() {
    const char* begin = m_chunk.data() + m_pos;
    std::size_t avail = m_chunk.size() - m_pos;
    auto nl = static_cast<const char*>(std::memchr(begin, '\n', avail));
    std::size_t len = nl ? static_cast<std::size_t>(nl - begin) : avail;
    auto cr = static_cast<const char*>(std::memchr(begin, '\r', len));
    bool lone_cr = cr && cr + 1 != nl;
    if (lone_cr)
      len = static_cast<std::size_t>(cr - begin);
    auto& cell = *m_record->values[m_malformed];
    cell.append(begin, len);
    if (lone_cr || nl) {
      m_pos += len + 1;
      if (cell.ends_with('\r'))
        cell.pop_back();
      end_malformed();
      if (!lone_cr)
        ++m_line;
    } else {
      m_pos += len;
    }
  }

  void end_malformed() {
    m_record->error = fmt::format("malformed quotes in {}", column_label(m_malformed));
    end_record(m_record_line);
    m_row_done = true;
  }

  // At the end of the input: ends a record without a final line end.
  void finish() {
    if (m_malformed != k_none) {
      end_malformed();
      return;
    }
    m_unterminated = m_parser.pstate == k_field_begun && m_parser.quoted;
    csv_fini(&m_parser, on_field, on_row, this);
  }

  static void on_field(void* data, std::size_t size, void* self) {
    static_cast<CsvReader*>(self)->add_field(
        std::string_view(static_cast<const char*>(data), data ? size : 0));
  }

  static void on_row(int, void* self) {
    auto& reader = *static_cast<CsvReader*>(self);
    if (reader.m_unterminated)
      reader.m_record->error = "unterminated quoted field";
    reader.end_record(reader.m_record_line);
    reader.m_row_done = true;
    // After a lone CR the next record starts on this same line.
    reader.m_record_line = reader.m_line;
  }

  // Strict: a quote after a closing quote is an error libcsv reports.
  unsigned char m_options = CSV_STRICT;
  CsvParser m_parser{m_options};
  std::string m_head;
  std::string_view m_chunk;
  std::size_t m_pos = 0;
  bool m_input_ended = false;
  bool m_finished = false;
  std::size_t m_line = 1;        // the physical line of m_chunk[m_pos]
  std::size_t m_record_line = 1; // where the record being read starts
  bool m_row_done = false;
  bool m_unterminated = false;
  std::size_t m_malformed = k_none; // the cell with malformed quotes
};

// The tsv crm writes: no quoting, one record per line, tab, LF, CR and
// backslash escaped as \t \n \r \\. A line is split on tabs by hand.
class TsvReader final : public DelimitedReader {
public:
  TsvReader(std::unique_ptr<InputSource> source, const ReaderOptions& options)
      : DelimitedReader(std::move(source), InputFormat::tsv, options) {
    m_delimiter = '\t';
    InputRecord header;
    bool found = read_record(header);
    set_header(found, header);
  }

  bool next(InputRecord& record) override { return read_record(record); }

private:
  bool read_record(InputRecord& record) {
    std::string_view line;
    for (;;) {
      if (!next_line(line))
        return false;
      ++m_line;
      if (line.ends_with('\r'))
        line.remove_suffix(1);
      if (line.find_first_not_of(' ') != std::string_view::npos)
        break;
    }
    begin_record(record);
    m_check_fields = !valid_utf8(line);
    for (;;) {
      std::size_t tab = line.find('\t');
      std::string_view cell = line.substr(0, tab);
      if (cell.find('\\') == std::string_view::npos) {
        add_field(cell);
      } else {
        unescape(cell);
        add_field(m_scratch);
      }
      if (tab == std::string_view::npos)
        break;
      line.remove_prefix(tab + 1);
    }
    end_record(m_line);
    return true;
  }

  void unescape(std::string_view cell) {
    m_scratch.clear();
    for (std::size_t i = 0; i < cell.size(); ++i) {
      char c = cell[i];
      if (c == '\\' && i + 1 < cell.size()) {
        switch (cell[i + 1]) {
        case 't':
          c = '\t';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case '\\':
          c = '\\';
          break;
        default:
          // Not an escape crm writes: the backslash stays.
          m_scratch.push_back(c);
          continue;
        }
        ++i;
      }
      m_scratch.push_back(c);
    }
  }

  // The next line without its LF, valid until the next call; false at the end.
  bool next_line(std::string_view& line) {
    if (m_partial_used) {
      m_partial.clear();
      m_partial_used = false;
    }
    for (;;) {
      if (m_pos == m_chunk.size()) {
        if (!m_input_ended) {
          m_chunk = m_input.read();
          m_pos = 0;
          m_input_ended = m_chunk.empty();
          continue;
        }
        if (m_partial.empty())
          return false;
        line = m_partial;
        m_partial_used = true;
        return true;
      }
      const char* begin = m_chunk.data() + m_pos;
      std::size_t avail = m_chunk.size() - m_pos;
      auto nl = static_cast<const char*>(std::memchr(begin, '\n', avail));
      if (!nl) {
        // The line goes on in the next block.
        m_partial.append(begin, avail);
        m_pos = m_chunk.size();
        continue;
      }
      std::size_t len = static_cast<std::size_t>(nl - begin);
      m_pos += len + 1;
      if (m_partial.empty()) {
        line = std::string_view(begin, len);
      } else {
        m_partial.append(begin, len);
        line = m_partial;
        m_partial_used = true;
      }
      return true;
    }
  }

  std::string_view m_chunk;
  std::size_t m_pos = 0;
  bool m_input_ended = false;
  std::string m_partial;
  bool m_partial_used = false;
  std::string m_scratch;
  std::size_t m_line = 0;
};

} // namespace

// The delimiter of the header line (the first line that is not blank):
// the most frequent of ',', ';' and tab outside quotes, ',' on a tie.
char sniff_delimiter(std::string_view text) {
  std::size_t commas = 0, semicolons = 0, tabs = 0;
  bool quoted = false;
  bool started = false;
  for (char c : text) {
    if ((c == '\n' || c == '\r') && !quoted) {
      if (started)
        break;
      continue;
    }
    started = true;
    if (c == '"')
      quoted = !quoted;
    else if (quoted)
      continue;
    else if (c == ',')
      ++commas;
    else if (c == ';')
      ++semicolons;
    else if (c == '\t')
      ++tabs;
  }
  if (commas >= semicolons && commas >= tabs)
    return ',';
  return semicolons >= tabs ? ';' : '\t';
}

std::unique_ptr<RecordReader> make_csv_reader(std::unique_ptr<InputSource> source,
                                              InputFormat format, const ReaderOptions& options) {
  if (format == InputFormat::tsv)
    return std::make_unique<TsvReader>(std::move(source), options);
  return std::make_unique<CsvReader>(std::move(source), options);
}

} // namespace crm
