#include <crm/export.hpp>
#include <crm/reports.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <memory>

namespace crm {

namespace {

constexpr std::array<std::string_view, 4> k_builtin = {"summary", "abc", "rfm", "consent-coverage"};

// Runs `sql` (no parameters but `bind`) and appends each row's cells.
void collect(Database& db, std::string_view sql, ReportSection& section,
             const std::vector<SqlValue>& bind = {}) {
  SQLite::Statement s(db.sql(), std::string(sql));
  bind_all(s, bind);
  while (s.executeStep()) {
    std::vector<Cell> row;
    for (int i = 0; i < s.getColumnCount(); ++i) {
      auto column = s.getColumn(i);
      if (column.isNull())
        row.emplace_back(std::monostate{});
      else if (column.isInteger())
        row.emplace_back(static_cast<std::int64_t>(column.getInt64()));
      else if (column.isFloat())
        row.emplace_back(column.getDouble());
      else
        row.emplace_back(column.getString());
    }
    section.rows.push_back(std::move(row));
  }
}

std::int64_t count(Database& db, std::string_view sql) {
  SQLite::Statement s(db.sql(), std::string(sql));
  s.executeStep();
  return s.getColumn(0).getInt64();
}

// Adds a `share` column: each row's count (at `column`) over `total`.
void add_share(ReportSection& section, std::size_t column, std::int64_t total) {
  section.columns.emplace_back("share");
  for (auto& row : section.rows) {
    double share = 0;
    if (auto* n = std::get_if<std::int64_t>(&row[column]); n != nullptr && total > 0)
      share = std::round(static_cast<double>(*n) * 10000.0 / static_cast<double>(total)) / 10000.0;
    row.emplace_back(share);
  }
}

ReportSection missing_section(std::string title, std::string_view table, std::string_view from) {
  ReportSection s;
  s.title = std::move(title);
  s.missing =
      fmt::format("no data yet: this database has no table '{}' (it comes with {})", table, from);
  return s;
}

// The current label of a score model per contact: its newest row.
constexpr std::string_view k_label_counts = R"sql(
SELECT coalesce(label, '(none)') AS label, count(*) AS contacts FROM (
  SELECT s.label, row_number() OVER (PARTITION BY s.contact_id ORDER BY s.at DESC) AS n
  FROM score s JOIN contact c ON c.id = s.contact_id WHERE s.model = ?)
WHERE n = 1 GROUP BY 1 ORDER BY 1
)sql";

// A contact is reachable for a purpose on a channel when its newest ledger
// entry there is a grant or a confirmation.
constexpr std::string_view k_reachable = R"sql(
SELECT purpose, channel, count(*) AS contacts FROM (
  SELECT k.purpose, k.channel, k.action,
         row_number() OVER (PARTITION BY k.contact_id, k.purpose, k.channel
                            ORDER BY k.at DESC, k.id DESC) AS n
  FROM consent k JOIN contact c ON c.id = k.contact_id)
WHERE n = 1 AND action IN ('grant', 'confirm') GROUP BY purpose, channel ORDER BY purpose, channel
)sql";

Report score_report(Database& db, std::string_view name, std::string_view model,
                    std::string_view column) {
  Report report{std::string(name), {}};
  if (!table_exists(db, "score")) {
    report.sections.push_back(missing_section(std::string(name), "score", "crm score run"));
    return report;
  }
  ReportSection s;
  s.title = std::string(name);
  s.columns = {std::string(column), "contacts"};
  collect(db, k_label_counts, s, {std::string(model)});
  std::int64_t total = 0;
  for (const auto& row : s.rows)
    total += std::get<std::int64_t>(row[1]);
  add_share(s, 1, total);
  s.chart = 1;
  if (s.rows.empty())
    s.missing = fmt::format("no {} scores yet: run 'crm score run {}'", model, model);
  report.sections.push_back(std::move(s));
  return report;
}

Report consent_coverage(Database& db, std::span<const Purpose> purposes, TimePoint now) {
  Report report{"consent-coverage", {}};
  if (!table_exists(db, "consent")) {
    report.sections.push_back(missing_section("consent-coverage", "consent", "crm consent"));
    return report;
  }
  ReportSection s;
  s.title = "consent-coverage";
  s.columns = {"purpose", "channel", "contacts"};
  if (purposes.empty()) {
    collect(db, k_reachable, s);
  } else {
    for (const auto& p : purposes) {
      std::vector<std::optional<std::string>> channels(p.channels.begin(), p.channels.end());
      if (channels.empty())
        channels.emplace_back(std::nullopt);
      for (const auto& channel : channels) {
        auto allowed = consent_allowed_sql(p, channel, now);
        SQLite::Statement q(db.sql(), "SELECT count(*) FROM contact c WHERE " + allowed.sql);
        bind_all(q, allowed.params);
        q.executeStep();
        s.rows.push_back(
            {p.name, channel ? Cell(*channel) : Cell(std::monostate{}), q.getColumn(0).getInt64()});
      }
    }
  }
  add_share(s, 2, count(db, "SELECT count(*) FROM contact"));
  s.chart = 3;
  report.sections.push_back(std::move(s));
  return report;
}

Report summary(Database& db) {
  Report report{"summary", {}};
  const std::vector<std::string> columns = {"key", "value"};
  {
    ReportSection s{"contacts", columns, {}, 1, {}};
    s.rows.push_back({std::string("total"), count(db, "SELECT count(*) FROM contact")});
    collect(db,
            "SELECT 'stage ' || coalesce(stage, '(none)'), count(*) FROM contact GROUP BY 1 "
            "ORDER BY 1",
            s);
    report.sections.push_back(std::move(s));
  }
  if (table_exists(db, "consent")) {
    ReportSection s{"consents by purpose", columns, {}, 1, {}};
    collect(db,
            "SELECT purpose, count(DISTINCT contact_id) FROM (SELECT purpose, contact_id FROM ("
            "  SELECT k.purpose, k.contact_id, k.action, row_number() OVER (PARTITION BY "
            "  k.contact_id, k.purpose, k.channel ORDER BY k.at DESC, k.id DESC) AS n"
            "  FROM consent k JOIN contact c ON c.id = k.contact_id)"
            " WHERE n = 1 AND action IN ('grant', 'confirm')) GROUP BY 1 ORDER BY 1",
            s);
    report.sections.push_back(std::move(s));
  } else {
    auto s = missing_section("consents by purpose", "consent", "crm consent");
    s.columns = columns;
    report.sections.push_back(std::move(s));
  }
  if (table_exists(db, "event")) {
    ReportSection s{"events by phase", columns, {}, 1, {}};
    collect(db, "SELECT coalesce(phase, '(none)'), count(*) FROM event GROUP BY 1 ORDER BY 1", s);
    report.sections.push_back(std::move(s));
  } else {
    auto s = missing_section("events by phase", "event", "crm journey");
    s.columns = columns;
    report.sections.push_back(std::move(s));
  }
  if (table_exists(db, "campaign_run") && table_exists(db, "campaign_member")) {
    ReportSection s{"campaign results", columns, {}, 1, {}};
    std::string sql =
        "SELECT r.campaign || ' members', count(m.contact_id) FROM campaign_run r "
        "LEFT JOIN campaign_member m ON m.run = r.id GROUP BY r.campaign ORDER BY r.campaign";
    collect(db, sql, s);
    if (table_exists(db, "campaign_response")) {
      // Responses are counted per campaign when the table names the run.
      SQLite::Statement has_run(db.sql(), "SELECT 1 FROM pragma_table_info('campaign_response') "
                                          "WHERE name = 'run'");
      if (has_run.executeStep())
        collect(db,
                "SELECT r.campaign || ' responses', count(*) FROM campaign_response p "
                "JOIN campaign_run r ON r.id = p.run GROUP BY r.campaign ORDER BY r.campaign",
                s);
    }
    report.sections.push_back(std::move(s));
  } else {
    auto s = missing_section("campaign results", "campaign_run", "crm campaign");
    s.columns = columns;
    report.sections.push_back(std::move(s));
  }
  return report;
}

std::string cell_text(const Cell& cell) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>)
          return "";
        else if constexpr (std::is_same_v<V, std::int64_t>)
          return std::to_string(v);
        else if constexpr (std::is_same_v<V, double>)
          return fmt::format("{}", v);
        else if constexpr (std::is_same_v<V, std::string>)
          return v;
        else if constexpr (std::is_same_v<V, Money>)
          return fmt::format("{}{}.{:02}", v.cents < 0 ? "-" : "", std::llabs(v.cents) / 100,
                             std::llabs(v.cents) % 100);
        else {
          std::string joined;
          for (const auto& s : v)
            joined += (joined.empty() ? "" : ";") + s;
          return joined;
        }
      },
      cell);
}

double cell_number(const Cell& cell) {
  if (auto* n = std::get_if<std::int64_t>(&cell))
    return static_cast<double>(*n);
  if (auto* d = std::get_if<double>(&cell))
    return *d;
  if (auto* m = std::get_if<Money>(&cell))
    return static_cast<double>(m->cents) / 100.0;
  return 0;
}

double chart_max(const ReportSection& s) {
  double max = 0;
  if (s.chart >= 0)
    for (const auto& row : s.rows)
      max = std::max(max, cell_number(row[static_cast<std::size_t>(s.chart)]));
  return max;
}

// The label of a row in a chart: its text columns, joined.
std::string row_label(const ReportSection& s, const std::vector<Cell>& row) {
  std::string label;
  for (std::size_t i = 0; i < row.size(); ++i)
    if (std::holds_alternative<std::string>(row[i]))
      label += (label.empty() ? "" : " ") + std::get<std::string>(row[i]);
  (void)s;
  return label.empty() ? cell_text(row[0]) : label;
}

constexpr int k_text_bar = 30;

void draw_text(const Report& report, std::ostream& out) {
  bool first = true;
  for (const auto& s : report.sections) {
    out << (first ? "" : "\n") << s.title << '\n';
    first = false;
    if (!s.missing.empty()) {
      out << "  " << s.missing << '\n';
      if (s.rows.empty())
        continue;
    }
    std::vector<std::size_t> widths(s.columns.size());
    std::vector<std::vector<std::string>> texts;
    for (std::size_t i = 0; i < s.columns.size(); ++i)
      widths[i] = display_width(s.columns[i]);
    for (const auto& row : s.rows) {
      texts.emplace_back();
      for (std::size_t i = 0; i < row.size(); ++i) {
        texts.back().push_back(cell_text(row[i]));
        widths[i] = std::max(widths[i], display_width(texts.back().back()));
      }
    }
    auto pad = [&](const std::string& text, std::size_t width, bool right) {
      std::string space(width - std::min(width, display_width(text)), ' ');
      return right ? space + text : text + space;
    };
    auto numeric = [&](std::size_t i) {
      return !s.rows.empty() && !std::holds_alternative<std::string>(s.rows.front()[i]);
    };
    out << ' ';
    for (std::size_t i = 0; i < s.columns.size(); ++i)
      out << ' ' << pad(s.columns[i], widths[i], numeric(i));
    out << '\n';
    double max = chart_max(s);
    for (std::size_t r = 0; r < s.rows.size(); ++r) {
      out << ' ';
      for (std::size_t i = 0; i < texts[r].size(); ++i) {
        bool number = !std::holds_alternative<std::string>(s.rows[r][i]);
        out << ' ' << pad(texts[r][i], widths[i], number);
      }
      if (s.chart >= 0 && max > 0) {
        double v = cell_number(s.rows[r][static_cast<std::size_t>(s.chart)]);
        int eighths = static_cast<int>(std::lround(v / max * k_text_bar * 8));
        static constexpr std::array<std::string_view, 8> k_partial = {
            "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589"};
        out << "  ";
        for (int i = 0; i < eighths / 8; ++i)
          out << "\u2588";
        out << k_partial[static_cast<std::size_t>(eighths % 8)];
      }
      out << '\n';
    }
  }
}

constexpr int k_svg_width = 640;
constexpr int k_svg_label = 220;
constexpr int k_svg_row = 22;

// One section as SVG elements starting at `y`; returns the next y.
int svg_section(const ReportSection& s, int y, std::string& out) {
  out += fmt::format("<text x=\"8\" y=\"{}\" font-weight=\"bold\">{}</text>\n", y + 16,
                     xml_escape(s.title));
  y += k_svg_row + 4;
  if (!s.missing.empty() && s.rows.empty()) {
    out += fmt::format("<text x=\"16\" y=\"{}\" fill=\"#666\">{}</text>\n", y + 15,
                       xml_escape(s.missing));
    return y + k_svg_row;
  }
  double max = chart_max(s);
  const int bar_room = k_svg_width - k_svg_label - 90;
  for (const auto& row : s.rows) {
    double v = s.chart >= 0 ? cell_number(row[static_cast<std::size_t>(s.chart)]) : 0;
    int width = max > 0 ? static_cast<int>(std::lround(v / max * bar_room)) : 0;
    out +=
        fmt::format("<text x=\"16\" y=\"{}\">{}</text>\n", y + 15, xml_escape(row_label(s, row)));
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#4a7bd0\"/>\n",
                       k_svg_label, y + 3, width, k_svg_row - 6);
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", k_svg_label + width + 6, y + 15,
                       s.chart >= 0 ? xml_escape(cell_text(row[static_cast<std::size_t>(s.chart)]))
                                    : "");
    y += k_svg_row;
  }
  return y + 8;
}

std::string svg_of(const Report& report) {
  std::string body;
  int y = 8;
  for (const auto& s : report.sections)
    y = svg_section(s, y, body);
  return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
                     "font-family=\"sans-serif\" font-size=\"13\">\n<title>{}</title>\n{}</svg>\n",
                     k_svg_width, y + 8, xml_escape(report.name), body);
}

void draw_html(const Report& report, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>crm report "
      << xml_escape(report.name)
      << "</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}"
         "td,th{padding:2px 8px;text-align:left}td.n{text-align:right}"
         ".bar{background:#4a7bd0;height:12px}</style></head>\n<body>\n<h1>"
      << xml_escape(report.name) << "</h1>\n";
  for (const auto& s : report.sections) {
    out << "<h2>" << xml_escape(s.title) << "</h2>\n";
    if (!s.missing.empty() && s.rows.empty()) {
      out << "<p>" << xml_escape(s.missing) << "</p>\n";
      continue;
    }
    out << "<table>\n<tr>";
    for (const auto& c : s.columns)
      out << "<th>" << xml_escape(c) << "</th>";
    out << (s.chart >= 0 ? "<th></th>" : "") << "</tr>\n";
    double max = chart_max(s);
    for (const auto& row : s.rows) {
      out << "<tr>";
      for (const auto& cell : row)
        out << (std::holds_alternative<std::string>(cell) ? "<td>" : "<td class=\"n\">")
            << xml_escape(cell_text(cell)) << "</td>";
      if (s.chart >= 0) {
        double v = cell_number(row[static_cast<std::size_t>(s.chart)]);
        int width = max > 0 ? static_cast<int>(std::lround(v / max * 300)) : 0;
        out << "<td><div class=\"bar\" style=\"width:" << width << "px\"></div></td>";
      }
      out << "</tr>\n";
    }
    out << "</table>\n";
  }
  out << "</body></html>\n";
}

// Denies what could reach beyond the one read-only file, and pragmas that
// set a value (`PRAGMA query_only = 0`); pragmas that read a table's shape
// take an argument too and stay allowed.
int authorize(void*, int action, const char* name, const char* argument, const char*, const char*) {
  if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
    return SQLITE_DENY;
  if (action == SQLITE_PRAGMA && argument != nullptr) {
    static constexpr std::array<std::string_view, 7> k_reading = {
        "table_info",  "table_xinfo",      "index_list",   "index_info",
        "index_xinfo", "foreign_key_list", "function_list"};
    std::string_view pragma = name == nullptr ? "" : name;
    if (std::find(k_reading.begin(), k_reading.end(), pragma) == k_reading.end())
      return SQLITE_DENY;
  }
  return SQLITE_OK;
}

bool only_space_or_comments(std::string_view tail) {
  std::size_t i = 0;
  while (i < tail.size()) {
    char ch = tail[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ';') {
      ++i;
    } else if (tail.substr(i, 2) == "--") {
      auto end = tail.find('\n', i);
      i = end == std::string_view::npos ? tail.size() : end + 1;
    } else if (tail.substr(i, 2) == "/*") {
      auto end = tail.find("*/", i + 2);
      i = end == std::string_view::npos ? tail.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

void bind_param(sqlite3_stmt* s, int index, const std::string& value) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (!value.empty() && ec == std::errc() && end == value.data() + value.size()) {
    sqlite3_bind_int64(s, index, n);
    return;
  }
  double d = 0;
  auto [dend, dec] = std::from_chars(value.data(), value.data() + value.size(), d);
  if (!value.empty() && dec == std::errc() && dend == value.data() + value.size() &&
      std::isfinite(d)) {
    sqlite3_bind_double(s, index, d);
    return;
  }
  sqlite3_bind_text(s, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

} // namespace

std::span<const std::string_view> builtin_report_names() { return k_builtin; }

std::optional<Report> builtin_report(Database& db, std::string_view name,
                                     std::span<const Purpose> purposes, TimePoint now) {
  std::optional<Report> report;
  try {
    db.read([&] {
      if (name == "summary")
        report = summary(db);
      else if (name == "abc")
        report = score_report(db, "abc", "abc", "class");
      else if (name == "rfm")
        report = score_report(db, "rfm", "rfm", "segment");
      else if (name == "consent-coverage")
        report = consent_coverage(db, purposes, now);
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, fmt::format("cannot run report '{}'", name));
  }
  return report;
}

void run_readonly_query(const std::filesystem::path& path, int busy_timeout_ms,
                        std::string_view sql, const QueryParams& params, const QuerySource& source,
                        RowWriter& writer) {
  std::unique_ptr<SQLite::Database> connection;
  try {
    connection =
        std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READONLY, busy_timeout_ms);
    connection->exec("PRAGMA query_only = ON");
  } catch (const std::exception& e) {
    throw_sqlite_error(e, fmt::format("cannot open '{}' read-only", path.string()));
  }
  sqlite3* handle = connection->getHandle();
  sqlite3_set_authorizer(handle, authorize, nullptr);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(handle, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
  if (rc != SQLITE_OK)
    throw Error(source.refused, fmt::format("{}: {}", source.label, sqlite3_errmsg(handle)),
                source.hint);
  if (raw == nullptr)
    throw Error(source.refused, fmt::format("{} has no statement", source.label), source.hint);
  if (!only_space_or_comments(std::string_view(tail, sql.data() + sql.size() - tail)))
    throw Error(source.refused, fmt::format("{} must be one statement", source.label), source.hint);
  if (!sqlite3_stmt_readonly(raw))
    throw Error(source.refused, fmt::format("{} would change data; it may only read", source.label),
                source.hint);

  std::vector<bool> used(params.size(), false);
  for (int i = 1; i <= sqlite3_bind_parameter_count(raw); ++i) {
    const char* name = sqlite3_bind_parameter_name(raw, i);
    if (name == nullptr || (name[0] != ':' && name[0] != '@' && name[0] != '$'))
      throw Error(Exit::usage, fmt::format("{}: parameters must be named (:name)", source.label),
                  source.hint);
    std::string_view key = name + 1;
    auto it =
        std::find_if(params.begin(), params.end(), [&](const auto& p) { return p.first == key; });
    if (it == params.end())
      throw Error(Exit::usage, fmt::format("{} needs --param {}=VALUE", source.label, key));
    used[static_cast<std::size_t>(it - params.begin())] = true;
    bind_param(raw, i, it->second);
  }
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!used[i])
      throw Error(Exit::usage,
                  fmt::format("{} has no parameter ':{}'", source.label, params[i].first));

  int columns = sqlite3_column_count(raw);
  std::vector<std::string> names;
  for (int i = 0; i < columns; ++i)
    names.emplace_back(sqlite3_column_name(raw, i));
  writer.header(names);
  std::vector<Cell> cells(static_cast<std::size_t>(columns));
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    for (int i = 0; i < columns; ++i) {
      auto& cell = cells[static_cast<std::size_t>(i)];
      switch (sqlite3_column_type(raw, i)) {
      case SQLITE_NULL:
        cell = std::monostate{};
        break;
      case SQLITE_INTEGER:
        cell = static_cast<std::int64_t>(sqlite3_column_int64(raw, i));
        break;
      case SQLITE_FLOAT:
        cell = sqlite3_column_double(raw, i);
        break;
      default:
        cell = std::string(reinterpret_cast<const char*>(sqlite3_column_text(raw, i)),
                           static_cast<std::size_t>(sqlite3_column_bytes(raw, i)));
      }
    }
    writer.row(cells);
  }
  if (rc != SQLITE_DONE) {
    int primary = rc & 0xff;
    Exit code = primary == SQLITE_BUSY || primary == SQLITE_LOCKED     ? Exit::temp_fail
                : primary == SQLITE_AUTH || primary == SQLITE_READONLY ? source.refused
                                                                       : Exit::io;
    throw Error(code, fmt::format("{}: {}", source.label, sqlite3_errmsg(handle)), source.hint);
  }
  writer.finish();
}

void SectionCollector::header(std::span<const std::string> columns) {
  m_section.columns.assign(columns.begin(), columns.end());
}

void SectionCollector::row(std::span<const Cell> cells) {
  m_section.rows.emplace_back(cells.begin(), cells.end());
  if (m_section.chart < 0)
    for (std::size_t i = cells.size(); i-- > 0;)
      if (std::holds_alternative<std::int64_t>(cells[i]) ||
          std::holds_alternative<double>(cells[i])) {
        m_section.chart = static_cast<int>(i);
        break;
      }
}

void SectionCollector::finish() {}

void draw_report(const Report& report, ReportFormat format, std::ostream& out) {
  switch (format) {
  case ReportFormat::text:
    draw_text(report, out);
    break;
  case ReportFormat::svg:
    out << svg_of(report);
    break;
  case ReportFormat::html:
    draw_html(report, out);
    break;
  }
  out.flush();
}

void write_report_rows(const Report& report, RowWriter& writer,
                       const std::function<void(const ReportSection&)>& on_missing) {
  bool several = report.sections.size() > 1;
  std::vector<std::string> columns;
  if (several)
    columns.emplace_back("section");
  if (!report.sections.empty())
    for (const auto& c : report.sections.front().columns)
      columns.push_back(c);
  writer.header(columns);
  std::vector<Cell> cells;
  for (const auto& s : report.sections) {
    if (!s.missing.empty())
      on_missing(s);
    for (const auto& row : s.rows) {
      cells.clear();
      if (several)
        cells.emplace_back(s.title);
      cells.insert(cells.end(), row.begin(), row.end());
      writer.row(cells);
    }
  }
  writer.finish();
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += ch;
    }
  }
  return out;
}

} // namespace crm
