#pragma once
// What an import shows on stderr: rejected rows without --rejects, and the
// progress line. Shared by every command that imports a file.

#include "context.hpp"

#include <crm/error.hpp>
#include <crm/readers.hpp>
#include <crm/rejects.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace crm::cli {

// The reader options of --input-format, --encoding and --delimiter (one
// character; "tab" or "\t" for a tab), shared by every import command.
inline ReaderOptions reader_options(const std::string& input_format, const std::string& encoding,
                                    const std::string& delimiter) {
  ReaderOptions options;
  if (!input_format.empty())
    options.format = parse_input_format(input_format);
  if (!encoding.empty())
    options.encoding = encoding;
  if (!delimiter.empty()) {
    std::string d = delimiter == "\\t" || delimiter == "tab" ? "\t" : delimiter;
    if (d.size() != 1)
      throw Error(Exit::usage, fmt::format("--delimiter '{}': expected one character", delimiter));
    options.delimiter = d[0];
  }
  return options;
}

// The file and options of an import of rows (csv, tsv, json or ndjson):
// journey events, campaign responses, consent entries.
struct RowImportArgs {
  std::string file, input_format, encoding, delimiter, rejects;
  std::vector<std::string> map;
  bool dry_run = false;
  std::size_t batch = 0;
  std::optional<std::size_t> max_rejects;
};

// Adds the file and the options of RowImportArgs to `cmd`; --map only when
// `map_help` (what a column may map to) is not empty.
inline void add_row_import_options(CLI::App& cmd, RowImportArgs& a, const std::string& map_help) {
  cmd.add_option("file", a.file, "The input file, or - for stdin")->required();
  cmd.add_option("--input-format", a.input_format, "csv, tsv, json or ndjson")
      ->type_name("FMT")
      ->check(CLI::IsMember({"csv", "tsv", "json", "ndjson"}));
  cmd.add_option("--encoding", a.encoding, "Input encoding, like cp1252 (default UTF-8)")
      ->type_name("NAME");
  cmd.add_option("--delimiter", a.delimiter, "csv delimiter (default: from the header)")
      ->type_name("CHAR");
  if (!map_help.empty())
    cmd.add_option("--map", a.map, "Map a column: \"Source Column=field\" (" + map_help + ")")
        ->type_name("COLUMN=FIELD");
  cmd.add_option("--rejects", a.rejects, "Write rejected rows to FILE (mode 0600)")
      ->type_name("FILE");
  cmd.add_option("--max-rejects", a.max_rejects, "Abort (65, nothing imported) past N rejects")
      ->type_name("N");
  cmd.add_flag("--dry-run", a.dry_run, "Validate and count, write nothing");
  cmd.add_option("--batch", a.batch, "Rows per transaction (default: the whole input)")
      ->type_name("N");
}

// --map "Source Column=field" options as pairs.
inline std::vector<std::pair<std::string, std::string>>
column_map(const std::vector<std::string>& maps) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : maps) {
    auto eq = m.rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(Exit::usage, fmt::format("--map '{}': expected \"Source Column=field\"", m));
    out.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  return out;
}

// The --map, --dry-run, --batch and --max-rejects of `a` in the import
// options of journey events or campaign responses.
template <class Options> void set_row_import_options(Options& options, const RowImportArgs& a) {
  options.map = column_map(a.map);
  options.dry_run = a.dry_run ? DryRun::yes : DryRun::no;
  options.batch = a.batch;
  options.max_rejects = a.max_rejects;
}

// Opens the input of an import of rows after the command's other checks:
// csv, tsv, json or ndjson; a vCard (by its extension or sniffed) is a usage
// error, e.g. "journey import: events are csv, tsv, json or ndjson, not vCard".
inline std::unique_ptr<RecordReader> open_rows(const RowImportArgs& a, std::string_view command,
                                               std::string_view rows) {
  auto reader = open_reader(a.file, reader_options(a.input_format, a.encoding, a.delimiter));
  if (reader->format() == InputFormat::vcard)
    throw Error(Exit::usage,
                fmt::format("{}: {} are csv, tsv, json or ndjson, not vCard", command, rows));
  return reader;
}

// The summary line of an import of rows: `counts`, the --rejects file when
// rows went there, then "; batch N" (when `batch_id` is not 0), or for a dry
// run "dry run: ...; nothing was written".
inline std::string row_import_summary(const RowImportArgs& a, std::string counts,
                                      std::size_t rejected, std::int64_t batch_id = 0) {
  if (!a.rejects.empty() && rejected > 0)
    counts += fmt::format(" (see {})", a.rejects);
  if (a.dry_run)
    return "dry run: " + counts + "; nothing was written";
  if (batch_id != 0)
    counts += fmt::format("; batch {}", batch_id);
  return counts;
}

// Without --rejects: one stderr line per reject, at most 20, then a count.
class StderrRejects : public RejectSink {
public:
  explicit StderrRejects(bool quiet) : m_quiet(quiet) {}
  void reject(const RecordReader&, const InputRecord& record, std::string_view reason) override {
    if (++m_count <= k_shown && !m_quiet)
      std::cerr << fmt::format("crm: line {}: {}\n", record.line, reason);
  }
  void finish() const {
    if (m_count > k_shown && !m_quiet)
      std::cerr << fmt::format("crm: {} more rejected rows (write them all with --rejects FILE)\n",
                               m_count - k_shown);
  }

private:
  static constexpr std::size_t k_shown = 20;
  bool m_quiet;
  std::size_t m_count = 0;
};

// A one-line progress display, redrawn at most 10 times a second, only when
// stderr is a terminal (or --progress always): rows, rate, and for a file of
// known size the share read and the time left ("ETA"), estimated from the
// bytes read so far at the rate so far.
class Progress {
public:
  Progress(bool on, std::uint64_t total_bytes)
      : m_on(on), m_total(total_bytes), m_start(std::chrono::steady_clock::now()) {}
  void update(std::size_t rows, std::uint64_t bytes) {
    if (!m_on)
      return;
    auto now = std::chrono::steady_clock::now();
    if (now - m_last < std::chrono::milliseconds(100))
      return;
    m_last = now;
    double seconds = std::chrono::duration<double>(now - m_start).count();
    std::string line = fmt::format("importing: {} rows, {:.0f} rows/s", rows,
                                   seconds > 0 ? static_cast<double>(rows) / seconds : 0.0);
    if (m_total > 0 && bytes > 0) {
      double done = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(m_total));
      auto left = static_cast<long>(seconds * (1.0 - done) / done + 0.5);
      line += fmt::format(", {:.0f}%, ETA {}:{:02}:{:02}", done * 100.0, left / 3600,
                          left / 60 % 60, left % 60);
    }
    std::cerr << "\r\x1b[K" << line << std::flush;
    m_drawn = true;
  }
  void clear() {
    if (m_drawn)
      std::cerr << "\r\x1b[K" << std::flush;
  }

private:
  bool m_on;
  std::uint64_t m_total; // bytes; 0: unknown
  bool m_drawn = false;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last{};
};

// Runs one import of `file`, read by `reader`: rejected rows go to the
// `rejects` file (mode 0600) or, without one, to stderr, and a progress line
// is drawn while it runs (on a terminal, or --progress always); both are
// closed, also when the import throws. `import(sink, on_rows)` runs the core
// import and returns its summary.
template <class Import>
auto run_import(const Context& ctx, const std::string& file, const std::string& rejects,
                RecordReader& reader, Import&& import) {
  std::unique_ptr<RejectFile> reject_file;
  StderrRejects to_stderr(ctx.options.quiet);
  if (!rejects.empty())
    reject_file = std::make_unique<RejectFile>(rejects);
  RejectSink& sink = reject_file ? static_cast<RejectSink&>(*reject_file) : to_stderr;
  struct stat info {};
  const std::uint64_t total =
      file != "-" && ::stat(file.c_str(), &info) == 0 && S_ISREG(info.st_mode)
          ? static_cast<std::uint64_t>(info.st_size)
          : 0;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  Progress progress(!ctx.options.quiet && (ctx.options.progress == "always" ||
                                           (ctx.options.progress == "auto" && tty)),
                    total);
  const std::function<void(std::size_t)> on_rows = [&](std::size_t rows) {
    progress.update(rows, reader.bytes_read());
  };
  try {
    auto summary = import(sink, on_rows);
    progress.clear();
    if (reject_file)
      reject_file->close();
    to_stderr.finish();
    return summary;
  } catch (...) {
    progress.clear();
    if (reject_file)
      reject_file->close();
    throw;
  }
}

} // namespace crm::cli
