#pragma once

#include <crm/import.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace crm {

// Writes rejected rows to a file (mode 0600: it holds personal data) in the
// shape of SPEC.md section 6: for csv/tsv input the input's own format (the
// original cells plus `line` and `reason`, same delimiter, a header first);
// for json, ndjson and vCard one JSON object per line {line, reason,
// record}, record being the original object (json) or text (vCard).
class RejectFile : public RejectSink {
public:
  // Creates or truncates `path`; throws Error(Exit::cant_create) if it cannot.
  explicit RejectFile(const std::filesystem::path& path);
  void reject(const RecordReader& reader, const InputRecord& record,
              std::string_view reason) override;
  // Flushes; throws Error(Exit::io) if the file could not be written.
  void close();

private:
  std::filesystem::path m_path;
  std::ofstream m_out;
  bool m_header_written = false;
  std::string m_line;
};

// Appends `value` as one cell of a delimited text row: tsv escapes (`\t`,
// `\n`, `\r`, `\\`) for a tab delimiter, RFC 4180 quoting otherwise.
void append_delimited_cell(std::string& out, std::string_view value, char delimiter);

} // namespace crm
