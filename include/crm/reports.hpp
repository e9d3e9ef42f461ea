#pragma once
// Reports (SPEC.md section 6 "export report", "db query"): built-in ones
// over whatever tables the database has, and read-only SQL from the config
// or the command line.

#include <crm/clock.hpp>
#include <crm/consent.hpp>
#include <crm/database.hpp>
#include <crm/error.hpp>
#include <crm/output.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// One table of a report; `chart` is the column drawn as bars (-1: none).
struct ReportSection {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
  int chart = -1;
  // Set when the section's data does not exist in this database yet
  // (its table is missing); the section then has no rows.
  std::string missing;
};

struct Report {
  std::string name;
  std::vector<ReportSection> sections;
};

// The names of the built-in reports: summary, abc, rfm, consent-coverage.
std::span<const std::string_view> builtin_report_names();

// Runs built-in report `name` in one snapshot; nullopt if no built-in has
// that name. Sections over tables this database does not have say so in
// ReportSection::missing. With the config's purposes, consent-coverage
// counts per purpose and channel the contacts that may be contacted at
// `now` (expiry, withdrawals and objections counted as `consent check`
// does); without, the contacts whose latest entry is a grant.
std::optional<Report> builtin_report(Database& db, std::string_view name,
                                     std::span<const Purpose> purposes = {}, TimePoint now = {});

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// What a read-only statement is for, to name it in errors: `label` is
// "report 'x'" or "query"; `refused` the exit code of a statement that is
// not one read-only statement (78 for reports, 65 for db query).
struct QuerySource {
  std::string label;
  Exit refused = Exit::data;
  std::string hint; // e.g. "crm.toml: reports.x.sql"
};

// Runs one SQL statement on a new connection to `path` opened read-only
// (and query_only, ATTACH refused), after sqlite3_stmt_readonly confirmed
// that it cannot write. `:name` parameters take the values of `params`
// (an integer or decimal text is bound as a number). Streams the result to
// `writer`. Throws Error(source.refused) for a statement that would write,
// more than one statement or SQL that does not compile; Error(Exit::usage)
// for a parameter the statement lacks or one it needs that is not given.
void run_readonly_query(const std::filesystem::path& path, int busy_timeout_ms,
                        std::string_view sql, const QueryParams& params, const QuerySource& source,
                        RowWriter& writer);

// A RowWriter that keeps the rows as one report section (for svg and html).
class SectionCollector final : public RowWriter {
public:
  explicit SectionCollector(ReportSection& section) : m_section(section) {}
  void header(std::span<const std::string> columns) override;
  void row(std::span<const Cell> cells) override;
  void finish() override;

private:
  ReportSection& m_section;
};

enum class ReportFormat { text, svg, html };

// Draws a report: text tables with bar charts (for a terminal), an SVG
// image, or an HTML page with a table and bars per section.
void draw_report(const Report& report, ReportFormat format, std::ostream& out);

// Writes a report through a row writer: one section as it is; several as
// one table with a leading `section` column. Sections whose data is
// missing are left out; `on_missing` is called for each.
void write_report_rows(const Report& report, RowWriter& writer,
                       const std::function<void(const ReportSection&)>& on_missing);

// Text escaped for XML and HTML (svg and html drawings): & < > " '.
std::string xml_escape(std::string_view text);

} // namespace crm
