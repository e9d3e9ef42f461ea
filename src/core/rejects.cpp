#include <crm/error.hpp>
#include <crm/json.hpp>
#include <crm/rejects.hpp>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace crm {

void append_delimited_cell(std::string& out, std::string_view value, char delimiter) {
  if (delimiter == '\t') {
    for (char c : value) {
      switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
      }
    }
    return;
  }
  bool quote = value.find_first_of(std::string{'"', '\n', '\r', delimiter}) != std::string::npos;
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

RejectFile::RejectFile(const std::filesystem::path& path) : m_path(path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw Error(Exit::cant_create, fmt::format("cannot create rejects file '{}': {}", path.string(),
                                               std::strerror(errno)));
  // An existing file keeps its mode through O_TRUNC; rejects hold personal data.
  ::fchmod(fd, 0600);
  ::close(fd);
  m_out.open(path, std::ios::out | std::ios::trunc | std::ios::binary);
  if (!m_out)
    throw Error(Exit::cant_create, fmt::format("cannot create rejects file '{}'", path.string()));
}

void RejectFile::reject(const RecordReader& reader, const InputRecord& record,
                        std::string_view reason) {
  m_line.clear();
  auto format = reader.format();
  if (format == InputFormat::csv || format == InputFormat::tsv) {
    char d = reader.delimiter() != 0 ? reader.delimiter() : ',';
    if (!m_header_written) {
      for (const auto& column : reader.columns()) {
        append_delimited_cell(m_line, column, d);
        m_line += d;
      }
      m_line += "line";
      m_line += d;
      m_line += "reason\n";
      m_header_written = true;
    }
    for (const auto& value : record.values) {
      append_delimited_cell(m_line, value ? *value : std::string_view(), d);
      m_line += d;
    }
    m_line += std::to_string(record.line);
    m_line += d;
    append_delimited_cell(m_line, reason, d);
    m_line += '\n';
  } else {
    m_line += "{\"line\":";
    m_line += std::to_string(record.line);
    m_line += ",\"reason\":";
    append_json_string(m_line, reason);
    m_line += ",\"record\":";
    bool object = format != InputFormat::vcard && !record.raw.empty() &&
                  record.raw.front() == '{' && record.error.empty();
    if (object) {
      // A pretty-printed element spans lines; outside strings (where JSON
      // allows no raw line breaks) they are only whitespace.
      for (char c : record.raw)
        m_line += (c == '\n' || c == '\r') ? ' ' : c;
    } else
      append_json_string(m_line, record.raw);
    m_line += "}\n";
  }
  m_out.write(m_line.data(), static_cast<std::streamsize>(m_line.size()));
}

void RejectFile::close() {
  m_out.flush();
  if (!m_out)
    throw Error(Exit::io, fmt::format("cannot write rejects file '{}'", m_path.string()));
  m_out.close();
}

} // namespace crm
