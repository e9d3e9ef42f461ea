#include "cmd_export.hpp"
#include "context.hpp"

#include <crm/error.hpp>
#include <crm/version.hpp>

#include <fmt/core.h>

#include <csignal>
#include <iostream>
#include <optional>

namespace {

using crm::cli::Context;

void add_global_options(CLI::App& app, Context& ctx) {
  auto& o = ctx.options;
  app.add_option("--db", o.db, "Database file (else $CRM_DB, [database].path, ./crm.db)")
      ->type_name("PATH");
  app.add_option("--config", o.config,
                 "Config file (else $CRM_CONFIG, ./crm.toml, ~/.config/crm/config.toml)")
      ->type_name("PATH");
  app.add_option("-f,--format", o.format, "Output format: table, csv, tsv, json, ndjson")
      ->type_name("FMT");
  app.add_option("--fields", o.fields, "Choose and order output columns; 'help' lists them")
      ->type_name("A,B,C");
  app.add_flag("--no-header", o.no_header, "No header row in table, csv and tsv");
  app.add_option("--color", o.color, "Colour: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");
  app.add_option("--now", o.now, "The clock, RFC 3339 or YYYY-MM-DD (else $CRM_NOW)")
      ->type_name("TIMESTAMP");
  app.add_flag("-q,--quiet", o.quiet, "Less on stderr: no progress, no summaries");
  app.add_flag("-v,--verbose", o.verbose, "More on stderr");
  app.add_option("--progress", o.progress, "Progress bar: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");
}

// Every (sub)command takes the global options after its name too.
void allow_fallthrough(CLI::App& app) {
  for (auto* sub : app.get_subcommands({})) {
    sub->fallthrough();
    allow_fallthrough(*sub);
  }
}

// Usage lines name the whole command ("crm contact add"), not only its last word.
class Formatter : public CLI::Formatter {
public:
  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string path = app->get_name();
    for (const CLI::App* parent = app->get_parent(); parent != nullptr;
         parent = parent->get_parent())
      path = parent->get_name() + " " + path;
    (void)name;
    return CLI::Formatter::make_usage(app, path);
  }
};

struct Command {
  const char* name;
  const char* description;
  void (*fill)(CLI::App&, Context&);
};

const Command k_commands[] = {
    {"init", "Create the database (mode 0600) and a starter crm.toml", crm::cli::register_init},
    {"contact", "Add, find, change and delete contacts", crm::cli::register_contact},
    {"consent", "Record and check consent: the append-only ledger", crm::cli::register_consent},
    {"score", "Compute, list and explain scores (rfm, abc, lead, nps, churn)",
     crm::cli::register_score},
    {"journey", "Events, timelines and the customer journey map", crm::cli::register_journey},
    {"campaign", "Select campaign audiences: consent-safe, capped, idempotent",
     crm::cli::register_campaign},
    {"export", "Export data and run reports for shell pipelines", crm::cli::register_export},
    {"db", "Maintain the database file", crm::cli::register_db},
    {"config", "Check and show the configuration", crm::cli::register_config},
    {"completion", "Print the completion script for a shell", crm::cli::register_completion},
};

constexpr const char* k_complete = "__complete";

// The command named on the command line (the first word that is not an
// option or an option's value), if it is one of k_commands, and the word
// after it (its subcommand, if it has them).
std::optional<std::string> selected_command(CLI::App& app, int argc, char** argv,
                                            std::optional<std::string>& subcommand) {
  std::optional<std::string> command;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "-V" || word == "--version")
      return "--version";
    if (word.size() > 1 && word[0] == '-') {
      if (word.find('=') == std::string::npos)
        if (const CLI::Option* option = app.get_option_no_throw(word))
          if (option->get_expected_min() > 0)
            ++i;
      continue;
    }
    if (command) {
      subcommand = word;
      return command;
    }
    for (const auto& c : k_commands)
      if (word == c.name)
        command = word;
    if (word == k_complete)
      command = word;
    if (!command)
      return std::nullopt;
  }
  return command;
}

// CLI11 says "A subcommand is required" both for a missing and for an
// unknown subcommand; name the command and the word instead.
std::string usage_message(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  CLI::App* deepest = &app;
  std::string path = "crm";
  for (auto subs = app.get_subcommands(); !subs.empty(); subs = deepest->get_subcommands()) {
    deepest = subs.front();
    path += " " + deepest->get_name();
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) == nullptr ||
      deepest->get_require_subcommand_min() == 0)
    return e.what();
  std::string names;
  for (auto* sub : deepest->get_subcommands({}))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  int start = 1;
  for (int i = 1; i < argc; ++i)
    if (deepest != &app && argv[i] == deepest->get_name())
      start = i + 1;
  auto takes_value = [&](const std::string& flag) {
    if (flag.size() < 2 || flag[0] != '-' || flag.find('=') != std::string::npos)
      return false;
    for (CLI::App* owner : {deepest, &app})
      if (const CLI::Option* option = owner->get_option_no_throw(flag))
        return option->get_expected_min() > 0;
    return false;
  };
  for (int i = start; i < argc; ++i) {
    std::string word = argv[i];
    if (!word.empty() && word[0] != '-' && !(i > start && takes_value(argv[i - 1])))
      return fmt::format("unknown command '{}' for '{}' (commands: {})", word, path, names);
  }
  return fmt::format("'{}' needs a command: {}", path, names);
}

int run(int argc, char** argv) {
  Context ctx;
  CLI::App app("crm: a command-line CRM on one SQLite file", "crm");
  app.set_version_flag("-V,--version", std::string(crm::version()));
  app.formatter(std::make_shared<Formatter>());
  app.require_subcommand(1);
  add_global_options(app, ctx);
  // Options cost time to set up (about 15,000 instructions each), so only the
  // command being run gets its subcommands; help and --version get them all.
  auto selected = selected_command(app, argc, argv, ctx.subcommand);
  for (const auto& c : k_commands) {
    auto* command = app.add_subcommand(c.name, c.description);
    if (!selected || *selected == c.name)
      c.fill(*command, ctx);
  }

  // Names for the completion scripts, from the config; not in the help.
  auto* complete = app.add_subcommand(k_complete, "Names for the shell completions");
  complete->group("");
  if (!selected || *selected == k_complete)
    crm::cli::register_complete(*complete, ctx);

  std::vector<std::string> help_topic;
  auto* help = app.add_subcommand("help", "Show the help of a command");
  help->add_option("command", help_topic, "Command and subcommand");
  help->callback([&] {
    ctx.action = [&] {
      CLI::App* target = &app;
      for (const auto& name : help_topic) {
        CLI::App* next = nullptr;
        try {
          next = target->get_subcommand(name);
        } catch (const CLI::OptionNotFound&) {
        }
        if (next == nullptr)
          throw crm::Error(crm::Exit::usage, fmt::format("no command '{}'", name),
                           "'crm --help' lists the commands");
        target = next;
      }
      // App::help() of the root would describe the parsed `help` subcommand itself.
      ctx.out() << target->get_formatter()->make_help(target, target->get_name(),
                                                      CLI::AppFormatMode::Normal);
      ctx.out().flush();
      return 0;
    };
  });
  allow_fallthrough(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "crm: " << usage_message(app, e, argc, argv) << "\n"
              << "Run 'crm --help' or 'crm help COMMAND' for usage.\n";
    return static_cast<int>(crm::Exit::usage);
  }
  if (!ctx.action)
    throw crm::Error(crm::Exit::internal, "no action for this command (this is a bug in crm)");
  ctx.now(); // a bad --now or $CRM_NOW is an error even where no clock is read
  int status = ctx.action();
  ctx.out().flush();
  return status;
}

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::ios::sync_with_stdio(false);
  try {
    return run(argc, argv);
  } catch (const crm::BrokenPipe&) {
    return 0;
  } catch (const crm::Error& e) {
    std::cerr << "crm: " << e.what() << '\n';
    if (!e.hint().empty())
      std::cerr << e.hint() << '\n';
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "crm: internal error: " << e.what()
              << " (this is a bug in crm; please report it)\n";
    return static_cast<int>(crm::Exit::internal);
  }
}
