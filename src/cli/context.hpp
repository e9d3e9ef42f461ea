#pragma once

#include <crm/clock.hpp>
#include <crm/config.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>
#include <crm/output.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace crm::cli {

// The global options of SPEC.md section 1.
struct GlobalOptions {
  std::optional<std::string> db;
  std::optional<std::string> config;
  std::optional<std::string> format;
  std::optional<std::string> fields;
  bool no_header = false;
  std::string color = "auto";
  std::optional<std::string> now;
  bool quiet = false;
  bool verbose = false;
  std::string progress = "auto";
};

// What a command needs from the command line and the environment: options,
// config, database, clock and the output, each made on first use.
class Context {
public:
  GlobalOptions options;
  // The second word of the command line ("add" in `crm contact add`), if any.
  std::optional<std::string> subcommand;
  // --allow-erased of add, update and import: an erased person may come back.
  bool allow_erased = false;
  // The action of the chosen subcommand; returns the exit status.
  std::function<int()> action;

  const Config& config();
  Database& database();
  std::filesystem::path database_path();
  TimePoint now();
  WriteContext write_context();

  // The output format: --format, $CRM_FORMAT, else table on a terminal
  // (or [defaults].format), tsv otherwise. `extra` are formats a command
  // adds beyond the five row formats (checked by the command).
  Format format();
  std::unique_ptr<RowWriter> writer();
  std::ostream& out();

  // The --fields list, split on commas; empty if not given.
  std::vector<std::string> fields();

  // Messages on stderr: warnings unless -q, info only with -v, summaries unless -q.
  void warn(std::string_view message);
  void summary(std::string_view message);
  void info(std::string_view message);

  // Resolves contact references (SPEC.md section 4), "-" reading them from
  // stdin. Unknown ones are named on stderr, then Error(not_found).
  std::vector<std::int64_t> resolve(const std::vector<std::string>& refs);
  // True if the references came from stdin (a bulk command).
  static bool from_stdin(const std::vector<std::string>& refs);

private:
  std::optional<Config> m_config;
  std::unique_ptr<Database> m_database;
  std::optional<TimePoint> m_now;
};

// The positions of the --fields columns in `columns` (all if none given);
// Error(usage) for an unknown one.
std::vector<std::size_t> pick_fields(Context& ctx, const std::vector<std::string>& columns);

// `--fields help`: prints `columns`, one per line, and returns true.
bool fields_help(Context& ctx, const std::vector<std::string>& columns);

// Writes rows of `columns` through the context's writer, keeping the
// --fields ones in their order.
class FieldRows {
public:
  FieldRows(Context& ctx, const std::vector<std::string>& columns);
  void row(const std::vector<Cell>& all);
  void finish() { m_writer->finish(); }

private:
  std::vector<std::size_t> m_pick;
  std::unique_ptr<RowWriter> m_writer;
  std::vector<Cell> m_cells;
};

// Reads an environment variable; nullopt if unset or empty.
std::optional<std::string> env(const char* name);

// Each fills in its command: subcommands, options and actions.
void register_init(CLI::App& command, Context& ctx);
void register_contact(CLI::App& command, Context& ctx);
void register_contact_import(CLI::App& contact, Context& ctx);
void register_contact_dedupe(CLI::App& contact, Context& ctx);
void register_contact_merge(CLI::App& contact, Context& ctx);
void register_contact_task(CLI::App& contact, Context& ctx);
void register_contact_assign(CLI::App& contact, Context& ctx);

// Compiles a --where filter expression with the context's clock and country.
SqlFilter where_filter(Context& ctx, const std::string& expression);
void register_db(CLI::App& command, Context& ctx);
void register_consent(CLI::App& command, Context& ctx);
void register_journey(CLI::App& command, Context& ctx);
void register_config(CLI::App& command, Context& ctx);
void register_completion(CLI::App& command, Context& ctx);
// The hidden `crm __complete KIND` the completion scripts call.
void register_complete(CLI::App& command, Context& ctx);
void register_score(CLI::App& command, Context& ctx);
void register_campaign(CLI::App& command, Context& ctx);

} // namespace crm::cli
