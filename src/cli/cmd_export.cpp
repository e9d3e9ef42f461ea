#include "cmd_export.hpp"

#include <crm/consent.hpp>
#include <crm/error.hpp>
#include <crm/export.hpp>
#include <crm/reports.hpp>
#include <crm/subject.hpp>

#include <fmt/core.h>

#include <toml++/toml.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace crm::cli {

namespace {

struct ExportSubcommand {
  const char* name;
  void (*fill)(CLI::App& command, Context& ctx);
};

// The subcommands of `crm export`; a capability adds its own here.

const ExportSubcommand k_export_subcommands[] = {
    {"kinds", register_export_kinds},
    {"report", register_export_report},
    {"subject", register_export_subject},
};

enum class Extra { vcard, svg, html };

// The formats beyond the row formats of Context::format.
std::optional<Extra> parse_extra(std::string_view name) {
  if (name == "vcard")
    return Extra::vcard;
  if (name == "svg")
    return Extra::svg;
  if (name == "html")
    return Extra::html;
  return std::nullopt;
}

// The chosen output format: a row format, or one of `allowed` extras. With
// -o and no --format or $CRM_FORMAT, the file's extension decides.
std::variant<Format, Extra> chosen_format(Context& ctx, const std::string& output,
                                          std::initializer_list<Extra> allowed,
                                          std::string_view formats) {
  std::optional<std::string> name = ctx.options.format;
  if (!name)
    name = env("CRM_FORMAT");
  if (!name && !output.empty()) {
    auto ext = std::filesystem::path(output).extension().string();
    if (ext == ".vcf")
      ext = ".vcard";
    if (ext.size() > 1 && (parse_format(ext.substr(1)) || parse_extra(ext.substr(1))))
      name = ext.substr(1);
    else
      name = "tsv";
  }
  if (name) {
    if (auto extra = parse_extra(*name)) {
      if (std::find(allowed.begin(), allowed.end(), *extra) == allowed.end())
        throw Error(Exit::usage, fmt::format("format '{}' is not available here", *name),
                    fmt::format("formats: {}", formats));
      return *extra;
    }
    auto f = parse_format(*name);
    if (!f)
      throw Error(Exit::usage, fmt::format("unknown format '{}'", *name),
                  fmt::format("formats: {}", formats));
    return *f;
  }
  return ctx.format();
}

// Where an export goes: stdout, or a file that appears whole on success.
class Output {
public:
  Output(Context& ctx, const std::string& path) : m_ctx(ctx) {
    if (!path.empty())
      m_file = std::make_unique<AtomicFile>(path);
  }
  std::ostream& stream() { return m_file ? m_file->stream() : m_ctx.out(); }
  std::unique_ptr<RowWriter> writer(Format format) {
    if (!m_file)
      return m_ctx.writer();
    WriterOptions options;
    options.header = !m_ctx.options.no_header;
    return make_writer(format, m_file->stream(), options);
  }
  void commit() {
    if (m_file)
      m_file->commit();
  }

private:
  Context& m_ctx;
  std::unique_ptr<AtomicFile> m_file;
};

// Passes rows on and shows on stderr how many went out and how fast,
// redrawn at most 10 times a second (SPEC.md section 2: long work shows
// progress when stderr is a terminal).
class ProgressWriter final : public RowWriter {
public:
  explicit ProgressWriter(RowWriter& inner)
      : m_inner(inner), m_start(std::chrono::steady_clock::now()) {}
  void header(std::span<const std::string> columns) override { m_inner.header(columns); }
  void row(std::span<const Cell> cells) override {
    m_inner.row(cells);
    if ((++m_rows & 1023) != 0)
      return;
    auto now = std::chrono::steady_clock::now();
    if (now - m_last < std::chrono::milliseconds(100))
      return;
    m_last = now;
    double seconds = std::chrono::duration<double>(now - m_start).count();
    std::cerr << fmt::format("\rexporting: {} rows, {:.0f} rows/s\x1b[K", m_rows,
                             seconds > 0 ? static_cast<double>(m_rows) / seconds : 0.0)
              << std::flush;
    m_shown = true;
  }
  void finish() override {
    if (m_shown)
      std::cerr << "\r\x1b[K" << std::flush;
    m_inner.finish();
  }

private:
  RowWriter& m_inner;
  std::chrono::steady_clock::time_point m_start, m_last;
  std::size_t m_rows = 0;
  bool m_shown = false;
};

// Progress goes to a terminal on stderr, and not over rows on the same terminal.
bool show_progress(Context& ctx, bool to_file) {
  if (ctx.options.quiet || ctx.options.progress == "never")
    return false;
  if (ctx.options.progress == "always")
    return true;
  return ::isatty(STDERR_FILENO) != 0 && (to_file || ::isatty(STDOUT_FILENO) == 0);
}

QueryParams parse_params(const std::vector<std::string>& texts) {
  QueryParams params;
  for (const auto& text : texts) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(Exit::usage, fmt::format("--param '{}' is not NAME=VALUE", text));
    params.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  return params;
}

struct KindOptions {
  std::string where, from, to, sort, output;
  std::optional<std::int64_t> limit;
};

std::vector<SortKey> parse_sort_keys(std::string_view spec) {
  std::vector<SortKey> keys;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto end = spec.find(',', start);
    std::string_view part = spec.substr(start, end == spec.npos ? spec.npos : end - start);
    SortKey key;
    if (!part.empty() && (part.front() == '-' || part.front() == '+')) {
      key.descending = part.front() == '-';
      part.remove_prefix(1);
    }
    if (part.empty())
      throw Error(Exit::usage, fmt::format("--sort '{}' names no field", spec));
    key.field = std::string(part);
    keys.push_back(std::move(key));
    if (end == spec.npos)
      break;
    start = end + 1;
  }
  return keys;
}

int run_kind(Context& ctx, const ExportKind& kind, const KindOptions& o) {
  auto& db = ctx.database();
  if (ctx.options.fields && *ctx.options.fields == "help") {
    for (const auto& name : export_field_names(db, kind))
      ctx.out() << name << '\n';
    return 0;
  }
  std::string formats = "table, csv, tsv, json, ndjson";
  if (kind.contacts)
    formats += ", vcard";
  auto format = chosen_format(ctx, o.output,
                              kind.contacts ? std::initializer_list<Extra>{Extra::vcard}
                                            : std::initializer_list<Extra>{},
                              formats);
  ExportQuery query;
  query.fields = ctx.fields();
  if (!o.where.empty())
    query.where = where_filter(ctx, o.where);
  if (!o.from.empty())
    query.from = parse_time_or_throw(o.from, "--from");
  if (!o.to.empty())
    query.to = parse_time_or_throw(o.to, "--to");
  if (!o.sort.empty())
    query.sort = parse_sort_keys(o.sort);
  query.limit = o.limit;
  require_kind(db, kind);
  Output output(ctx, o.output);
  std::unique_ptr<RowWriter> writer;
  if (std::holds_alternative<Extra>(format)) {
    if (!query.fields.empty())
      throw Error(Exit::usage, "--fields does not apply to vcard: a card has every field");
    writer = make_vcard_writer(output.stream());
  } else {
    writer = output.writer(std::get<Format>(format));
  }
  if (show_progress(ctx, !o.output.empty())) {
    ProgressWriter progress(*writer);
    export_rows(db, kind, query, progress);
  } else {
    export_rows(db, kind, query, *writer);
  }
  output.commit();
  return 0;
}

std::string report_formats() { return "table, csv, tsv, json, ndjson, svg, html"; }

// A report in the chosen format: drawn (table, svg, html) or as rows.
void write_report(Context& ctx, const Report& report, std::variant<Format, Extra> format,
                  Output& output) {
  if (auto* extra = std::get_if<Extra>(&format)) {
    draw_report(report, *extra == Extra::svg ? ReportFormat::svg : ReportFormat::html,
                output.stream());
    return;
  }
  if (std::get<Format>(format) == Format::table) {
    draw_report(report, ReportFormat::text, output.stream());
    return;
  }
  auto writer = output.writer(std::get<Format>(format));
  write_report_rows(report, *writer, [&](const ReportSection& s) {
    ctx.warn(fmt::format("{}: {}", s.title, s.missing));
  });
}

int run_report(Context& ctx, const std::string& name, const std::vector<std::string>& param_texts,
               const std::string& path) {
  auto params = parse_params(param_texts);
  auto format = chosen_format(ctx, path, {Extra::svg, Extra::html}, report_formats());
  auto& db = ctx.database();
  const toml::table& config = ctx.config().table();
  if (auto sql = config["reports"][name]["sql"].value<std::string>()) {
    QuerySource source;
    source.label = fmt::format("report '{}'", name);
    source.refused = Exit::config;
    source.hint =
        fmt::format("{}:{}: reports.{}.sql",
                    ctx.config().file() ? ctx.config().file()->string() : std::string("config"),
                    config["reports"][name]["sql"].node()->source().begin.line, name);
    Output output(ctx, path);
    // Drawn formats (table, svg, html) take the rows whole, as a table does.
    if (std::holds_alternative<Extra>(format) || std::get<Format>(format) == Format::table) {
      Report report{name, {ReportSection{name, {}, {}, -1, {}}}};
      SectionCollector collector(report.sections.front());
      run_readonly_query(db.path(), ctx.config().busy_timeout_ms(), *sql, params, source,
                         collector);
      write_report(ctx, report, format, output);
    } else {
      auto writer = output.writer(std::get<Format>(format));
      run_readonly_query(db.path(), ctx.config().busy_timeout_ms(), *sql, params, source, *writer);
    }
    output.commit();
    return 0;
  }
  auto purposes = consent_purposes(ctx.config());
  auto report = builtin_report(db, name, purposes, ctx.now());
  if (!report) {
    std::string names;
    for (auto n : builtin_report_names())
      names += (names.empty() ? "" : ", ") + std::string(n);
    if (const toml::table* reports = config["reports"].as_table())
      for (const auto& [key, value] : *reports)
        names += ", " + std::string(key.str());
    throw Error(Exit::not_found, fmt::format("no report '{}'", name),
                fmt::format("reports: {}", names));
  }
  if (!params.empty())
    throw Error(Exit::usage, fmt::format("report '{}' takes no --param", name));
  Output output(ctx, path);
  write_report(ctx, *report, format, output);
  output.commit();
  return 0;
}

} // namespace

void register_export(CLI::App& command, Context& ctx) {
  command.require_subcommand(1);
  for (const auto& sub : k_export_subcommands)
    sub.fill(command, ctx);
}

void register_export_kinds(CLI::App& command, Context& ctx) {
  for (const auto& kind : export_kinds()) {
    auto* cmd =
        command.add_subcommand(std::string(kind.name), fmt::format("Export {}", kind.description));
    auto o = std::make_shared<KindOptions>();
    cmd->add_option("--where", o->where, "Filter over the contact (see crm(1) FILTERS)")
        ->type_name("EXPR");
    if (!kind.time_column.empty()) {
      cmd->add_option("--from", o->from,
                      fmt::format("Only rows with {} at or after T", kind.time_column))
          ->type_name("T");
      cmd->add_option("--to", o->to, fmt::format("Only rows with {} before T", kind.time_column))
          ->type_name("T");
    }
    cmd->add_option("--sort", o->sort, "Sort by FIELD[,-FIELD] (- descending)")
        ->type_name("FIELDS");
    cmd->add_option("--limit", o->limit, "At most N rows")
        ->type_name("N")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("-o,--output", o->output, "Write to FILE (whole or not at all, mode 0600)")
        ->type_name("FILE");
    const ExportKind* k = &kind;
    cmd->callback([&ctx, k, o] { ctx.action = [&ctx, k, o] { return run_kind(ctx, *k, *o); }; });
  }
}

void register_export_report(CLI::App& command, Context& ctx) {
  auto* cmd = command.add_subcommand(
      "report", "Run a report: summary, abc, rfm, consent-coverage or [reports.NAME]");
  auto name = std::make_shared<std::string>();
  auto params = std::make_shared<std::vector<std::string>>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("name", *name, "The report")->required();
  cmd->add_option("--param", *params, "A :NAME parameter of the report's SQL")
      ->type_name("NAME=VALUE");
  cmd->add_option("-o,--output", *output, "Write to FILE (whole or not at all, mode 0600)")
      ->type_name("FILE");
  cmd->callback([&ctx, name, params, output] {
    ctx.action = [&ctx, name, params, output] { return run_report(ctx, *name, *params, *output); };
  });
}

// The data subject's copy: one JSON document, to stdout or -o FILE (0600).
void register_export_subject(CLI::App& command, Context& ctx) {
  auto* cmd = command.add_subcommand(
      "subject", "Everything stored about a person, as one JSON document (GDPR Art. 15, 20)");
  auto ref = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("ref", *ref, "Contact: id, email, ext:ID or tel:PHONE")->required();
  cmd->add_option("-o,--output", *output, "Write to FILE (whole or not at all, mode 0600)")
      ->type_name("FILE");
  cmd->callback([&ctx, ref, output] {
    ctx.action = [&ctx, ref, output] {
      if (*ref == "-")
        throw Error(Exit::usage, "export subject takes one contact, not -");
      if (ctx.options.format && *ctx.options.format != "json")
        throw Error(Exit::usage, "export subject writes json only");
      auto ids = ctx.resolve({*ref});
      auto purposes = consent_purposes(ctx.config());
      auto document = subject_document(ctx.database(), ids.front(), purposes, ctx.now());
      Output out(ctx, *output);
      out.stream() << document;
      out.commit();
      return 0;
    };
  });
}

void register_db_query(CLI::App& db, Context& ctx) {
  auto* cmd = db.add_subcommand("query", "Run one read-only SQL statement");
  auto sql = std::make_shared<std::string>();
  auto params = std::make_shared<std::vector<std::string>>();
  cmd->add_option("sql", *sql, "The statement")->required();
  cmd->add_option("--param", *params, "A :NAME parameter of the statement")
      ->type_name("NAME=VALUE");
  cmd->callback([&ctx, sql, params] {
    ctx.action = [&ctx, sql, params] {
      auto values = parse_params(*params);
      auto& db = ctx.database();
      auto writer = ctx.writer();
      QuerySource source{"query", Exit::data, {}};
      run_readonly_query(db.path(), ctx.config().busy_timeout_ms(), *sql, values, source, *writer);
      return 0;
    };
  });
}

} // namespace crm::cli
