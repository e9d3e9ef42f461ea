#include "context.hpp"
#include "import_ui.hpp"

#include <crm/consent.hpp>
#include <crm/error.hpp>
#include <crm/import.hpp>
#include <crm/import_profiles.hpp>
#include <crm/readers.hpp>
#include <crm/rejects.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace crm::cli {

void register_contact_import(CLI::App& contact, Context& ctx) {
  auto* cmd =
      contact.add_subcommand("import", "Import contacts from csv, tsv, json, ndjson or vCard");
  struct Args {
    std::string file;
    std::string input_format, encoding, delimiter, key = "email", on_conflict = "update", rejects,
                                                   profile;
    std::vector<std::string> map;
    bool strict = false, dry_run = false, ids = false, no_profile = false;
    std::size_t batch = 0;
    std::optional<std::size_t> max_rejects;
    std::optional<std::int64_t> undo;
    std::optional<std::string> consent_purpose, consent_channel;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("file", a->file, "The input file, or - for stdin");
  cmd->add_flag("--allow-erased", ctx.allow_erased,
                "Import rows with an email or phone of an erased person");
  cmd->add_option("--consent-purpose", a->consent_purpose,
                  "Purpose that consent evidence in the file (Mailchimp) is recorded for")
      ->type_name("P");
  cmd->add_option("--consent-channel", a->consent_channel,
                  "Channel of that evidence (default: email)")
      ->type_name("C");
  cmd->add_option("--undo", a->undo, "Revert what import batch BATCH created or changed")
      ->type_name("BATCH");
  cmd->add_option("--input-format", a->input_format, "csv, tsv, json, ndjson or vcard")
      ->type_name("FMT")
      ->check(CLI::IsMember({"csv", "tsv", "json", "ndjson", "vcard"}));
  cmd->add_option("--encoding", a->encoding, "Input encoding, like cp1252 (default UTF-8)")
      ->type_name("NAME");
  cmd->add_option("--delimiter", a->delimiter, "csv delimiter (default: from the header)")
      ->type_name("CHAR");
  cmd->add_option("--map", a->map,
                  "Map a column: \"Source Column=field\" (field, tags, attr.NAME, -)")
      ->type_name("COLUMN=FIELD");
  auto* profile_option =
      cmd->add_option("--profile", a->profile,
                      "A built-in profile (google, google-legacy, outlook, outlook-de, "
                      "outlook-com, thunderbird, mailchimp, hubspot) or [import.profiles.NAME]")
          ->type_name("NAME");
  cmd->add_flag("--no-profile", a->no_profile, "Do not recognise a known export from its header")
      ->excludes(profile_option);
  cmd->add_option("--key", a->key, "Identity: email, external_id, phone or none")
      ->type_name("FIELD")
      ->check(CLI::IsMember({"email", "external_id", "phone", "none"}));
  cmd->add_option("--on-conflict", a->on_conflict, "A known contact: update, skip or fail")
      ->type_name("WHAT")
      ->check(CLI::IsMember({"update", "skip", "fail"}));
  cmd->add_flag("--strict", a->strict, "An unmapped column is an error, not an attribute");
  cmd->add_option("--rejects", a->rejects, "Write rejected rows to FILE (mode 0600)")
      ->type_name("FILE");
  cmd->add_option("--max-rejects", a->max_rejects, "Abort (65, nothing imported) past N rejects")
      ->type_name("N");
  cmd->add_flag("--dry-run", a->dry_run, "Validate and count, write nothing");
  cmd->add_option("--batch", a->batch, "Rows per transaction (default: the whole input)")
      ->type_name("N");
  cmd->add_flag("--ids", a->ids, "Print the ids of the contacts inserted or updated");
  cmd->callback([&ctx, a, cmd] {
    ctx.action = [&ctx, a, cmd] {
      if (a->undo) {
        if (!a->file.empty())
          throw Error(Exit::usage, "--undo BATCH takes no input file");
        auto summary = undo_import(ctx.database(), *a->undo, ctx.write_context());
        std::string line = fmt::format("undid import batch {}: deleted {}, restored {}", *a->undo,
                                       summary.deleted, summary.restored);
        if (summary.gone > 0)
          line += fmt::format(", {} gone since (deleted or erased)", summary.gone);
        ctx.summary(line);
        return 0;
      }
      if (a->file.empty())
        throw Error(Exit::usage, "contact import: a FILE (or - for stdin) is required",
                    "or --undo BATCH to revert an import");
      // A profile fills in what the command line leaves open.
      std::vector<std::pair<std::string, std::string>> profile_map;
      std::optional<std::string> profile_source;
      const BuiltinProfile* builtin = nullptr;
      if (!a->profile.empty())
        builtin = find_builtin_profile(a->profile);
      if (builtin) {
        // German Outlook writes cp1252; a BOM still decides by itself.
        if (auto encoding = profile_encoding(*builtin); encoding && a->encoding.empty())
          a->encoding = *encoding;
      } else if (!a->profile.empty()) {
        auto profile = ctx.config().import_profile(a->profile);
        if (!profile)
          throw Error(Exit::not_found, fmt::format("no import profile '{}'", a->profile),
                      fmt::format("built-in profiles: {}; others are the "
                                  "[import.profiles.NAME] tables of the config",
                                  fmt::join(builtin_profile_names(), ", ")));
        auto fill = [&](const char* option, std::string& value,
                        const std::optional<std::string>& setting) {
          if (setting && cmd->count(option) == 0)
            value = *setting;
        };
        fill("--key", a->key, profile->key);
        fill("--input-format", a->input_format, profile->input_format);
        fill("--encoding", a->encoding, profile->encoding);
        fill("--delimiter", a->delimiter, profile->delimiter);
        fill("--on-conflict", a->on_conflict, profile->on_conflict);
        profile_map = profile->map;
        profile_source = profile->source;
      }
      ReaderOptions reader_options =
          cli::reader_options(a->input_format, a->encoding, a->delimiter);
      ImportOptions options;
      options.map = column_map(a->map);
      // --map comes first: the first mapping of a column wins.
      options.map.insert(options.map.end(), profile_map.begin(), profile_map.end());
      options.profile = a->profile;
      options.default_source = profile_source;
      options.key = *parse_import_key(a->key);
      options.on_conflict = *parse_on_conflict(a->on_conflict);
      options.strict = a->strict ? Strict::yes : Strict::no;
      options.dry_run = a->dry_run ? DryRun::yes : DryRun::no;
      options.batch = a->batch;
      options.max_rejects = a->max_rejects;
      options.source = a->file;
      if (a->ids)
        options.on_changed = [&ctx](std::int64_t id) { ctx.out() << id << '\n'; };
      // Consent evidence (Mailchimp) goes to --consent-purpose, else to the
      // one purpose of the config with an email channel, if there is one.
      {
        auto purposes = consent_purposes(ctx.config());
        std::optional<std::string> purpose = a->consent_purpose;
        if (!purpose) {
          std::vector<std::string> email;
          for (const auto& p : purposes)
            if (std::find(p.channels.begin(), p.channels.end(), "email") != p.channels.end())
              email.push_back(p.name);
          if (email.size() == 1)
            purpose = email.front();
        }
        if (purpose) {
          const Purpose& p = find_purpose(purposes, *purpose);
          std::optional<std::string> channel = a->consent_channel;
          if (!channel && !p.channels.empty()) {
            if (std::find(p.channels.begin(), p.channels.end(), "email") == p.channels.end())
              throw Error(Exit::usage, fmt::format("--consent-purpose {}: name its channel with "
                                                   "--consent-channel",
                                                   p.name));
            channel = "email";
          }
          ConsentChange probe;
          probe.action = "withdraw";
          probe.purpose = purpose;
          probe.channel = channel;
          validate_consent_change(purposes, probe);
          options.consent_purpose = purpose;
          options.consent_channel = channel;
        } else if (a->consent_channel) {
          throw Error(Exit::usage, "--consent-channel needs --consent-purpose");
        }
      }

      auto& db = ctx.database();
      auto write = ctx.write_context();
      bool recognise = a->profile.empty() && !a->no_profile && a->map.empty();
      std::unique_ptr<RecordReader> reader;
      try {
        reader = open_reader(a->file, reader_options);
      } catch (const Error& e) {
        // A German Outlook export is cp1252: recognised all the same.
        if (e.code() != Exit::data || !recognise ||
            !(reader = reopen_legacy_export(a->file, reader_options)))
          throw;
      }
      bool delimited = reader->format() == InputFormat::csv || reader->format() == InputFormat::tsv;
      if (builtin && !delimited)
        throw Error(Exit::usage, fmt::format("--profile {}: the profile reads csv exports, not {}",
                                             a->profile, input_format_name(reader->format())));
      // A known export is recognised from its header unless the user said
      // how to read it.
      if (recognise && delimited) {
        builtin = recognise_profile(reader->columns());
        if (builtin)
          options.profile = profile_name(*builtin);
      }
      options.builtin = builtin;
      const auto summary =
          run_import(ctx, a->file, a->rejects, *reader, [&](RejectSink& sink, const auto& on_rows) {
            return import_contacts(db, *reader, options, write, sink, on_rows);
          });
      std::string line =
          fmt::format("inserted {}, updated {}, unchanged {}, rejected {}", summary.inserted,
                      summary.updated, summary.unchanged, summary.rejected);
      if (!a->rejects.empty() && summary.rejected > 0)
        line += fmt::format(" (see {})", a->rejects);
      if (!options.profile.empty())
        line += fmt::format("; profile {}", options.profile);
      if (summary.consent_added > 0)
        line += fmt::format("; {} consent entr{} for {}", summary.consent_added,
                            summary.consent_added == 1 ? "y" : "ies", *options.consent_purpose);
      if (summary.consent_skipped > 0)
        ctx.warn(fmt::format("consent evidence of {} row{} not recorded: name the purpose with "
                             "--consent-purpose",
                             summary.consent_skipped, summary.consent_skipped == 1 ? "" : "s"));
      if (options.dry_run == DryRun::yes)
        line = "dry run: " + line + "; nothing was written";
      else
        line += fmt::format("; batch {}", summary.batch_id);
      ctx.summary(line);
      return 0;
    };
  });
}

} // namespace crm::cli
