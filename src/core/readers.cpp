#include "input.hpp"

#include <crm/error.hpp>
#include <crm/readers.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace crm {

// Defined in read_csv.cpp: the delimiter of a header line.
char sniff_delimiter(std::string_view text);

namespace {

// Enough for the longest header line seen in contact exports (Outlook's,
// about 2 KB) many times over.
constexpr std::size_t k_sniff_bytes = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::optional<InputFormat> format_from_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::ranges::transform(ext, ext.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".csv" || ext == ".txt")
    return InputFormat::csv;
  if (ext == ".tsv" || ext == ".tab")
    return InputFormat::tsv;
  if (ext == ".json")
    return InputFormat::json;
  if (ext == ".ndjson" || ext == ".jsonl")
    return InputFormat::ndjson;
  if (ext == ".vcf" || ext == ".vcard")
    return InputFormat::vcard;
  return std::nullopt;
}

// The ASCII characters of UTF-16 text, anything else as '?': enough to see
// the first character and count delimiters.
std::string ascii_of_utf16(std::string_view bytes, bool little_endian) {
  std::string out;
  out.reserve(bytes.size() / 2);
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    auto low = static_cast<unsigned char>(bytes[little_endian ? i : i + 1]);
    auto high = static_cast<unsigned char>(bytes[little_endian ? i + 1 : i]);
    out.push_back(high == 0 && low < 0x80 ? static_cast<char>(low) : '?');
  }
  return out;
}

InputFormat sniff_format(InputSource& source, const ReaderOptions& options) {
  std::string_view head = source.peek(k_sniff_bytes);
  std::string decoded;
  if (head.starts_with("\xEF\xBB\xBF")) {
    head.remove_prefix(3);
  } else if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF")) {
    decoded = ascii_of_utf16(head.substr(2), head[0] == '\xFF');
    head = decoded;
  }
  std::string_view text = head;
  auto first = text.find_first_not_of(" \t\r\n");
  text.remove_prefix(first == std::string_view::npos ? text.size() : first);
  if (text.starts_with('['))
    return InputFormat::json;
  if (text.starts_with('{'))
    return InputFormat::ndjson;
  constexpr std::string_view k_vcard = "BEGIN:VCARD";
  if (text.size() >= k_vcard.size() && iequals(text.substr(0, k_vcard.size()), k_vcard))
    return InputFormat::vcard;
  char delimiter = options.delimiter ? *options.delimiter : sniff_delimiter(head);
  return delimiter == '\t' ? InputFormat::tsv : InputFormat::csv;
}

} // namespace

std::optional<InputFormat> parse_input_format(std::string_view name) {
  if (name == "csv")
    return InputFormat::csv;
  if (name == "tsv")
    return InputFormat::tsv;
  if (name == "json")
    return InputFormat::json;
  if (name == "ndjson")
    return InputFormat::ndjson;
  if (name == "vcard" || name == "vcf")
    return InputFormat::vcard;
  return std::nullopt;
}

std::string simplified_column(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '-' || c == '_' || c == '.')
      continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

std::string_view input_format_name(InputFormat f) {
  switch (f) {
  case InputFormat::csv:
    return "csv";
  case InputFormat::tsv:
    return "tsv";
  case InputFormat::json:
    return "json";
  case InputFormat::ndjson:
    return "ndjson";
  case InputFormat::vcard:
    return "vcard";
  }
  return "csv";
}

namespace {
std::unique_ptr<RecordReader> open_source(std::unique_ptr<InputSource> source,
                                          const std::string& path, const ReaderOptions& options);
}

std::unique_ptr<RecordReader> open_reader(const std::string& path, const ReaderOptions& options) {
  auto source = std::make_unique<InputSource>(path);
  auto counter = source->counter();
  auto reader = open_source(std::move(source), path, options);
  reader->m_bytes_read = std::move(counter);
  return reader;
}

namespace {
std::unique_ptr<RecordReader> open_source(std::unique_ptr<InputSource> source,
                                          const std::string& path, const ReaderOptions& options) {
  InputFormat format;
  if (options.format)
    format = *options.format;
  else if (auto by_extension = path == "-" ? std::nullopt : format_from_extension(path))
    format = *by_extension;
  else
    format = sniff_format(*source, options);
  switch (format) {
  case InputFormat::csv:
  case InputFormat::tsv:
    return make_csv_reader(std::move(source), format, options);
  case InputFormat::json:
  case InputFormat::ndjson:
    return make_json_reader(std::move(source), format);
  case InputFormat::vcard:
    return make_vcard_reader(std::move(source));
  }
  throw Error(Exit::internal, "unknown input format");
}
} // namespace

} // namespace crm
