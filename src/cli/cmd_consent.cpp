#include "context.hpp"
#include "import_ui.hpp"

#include <crm/consent.hpp>
#include <crm/erase.hpp>
#include <crm/error.hpp>
#include <crm/normalize.hpp>
#include <crm/readers.hpp>
#include <crm/rejects.hpp>

#include <fmt/core.h>

#include <iostream>

namespace crm::cli {

namespace {

struct ChangeOptions {
  std::vector<std::string> refs;
  std::optional<std::string> purpose, channel, source, proof, at;
};

ConsentChange to_change(Context& ctx, const std::string& action, const ChangeOptions& o) {
  ConsentChange change;
  change.action = action;
  change.purpose = o.purpose;
  change.channel = o.channel;
  change.source = o.source;
  change.proof = o.proof;
  if (o.at)
    change.at = parse_time_or_throw(*o.at, "--at");
  (void)ctx;
  return change;
}

void add_change_options(CLI::App* cmd, ChangeOptions& o, bool purpose_required, bool with_proof) {
  cmd->add_option("ref", o.refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
      ->required();
  auto* purpose = cmd->add_option("--purpose", o.purpose, "Purpose of [consent.purposes]");
  if (purpose_required)
    purpose->required();
  cmd->add_option("--channel", o.channel, "Channel of the purpose (default: all of them)");
  cmd->add_option("--source", o.source, "Where the entry comes from (default: cli)");
  if (with_proof)
    cmd->add_option("--proof", o.proof, "Evidence: form version, IP, double opt-in token");
  cmd->add_option("--at", o.at, "When it happened (RFC 3339 or YYYY-MM-DD; default: now)");
}

// True if `ref` names an email or phone of an erased person.
bool erased_ref(Context& ctx, const std::string& ref) {
  std::optional<std::string> email, phone;
  try {
    if (ref.starts_with("tel:"))
      phone = normalize_phone(ref.substr(4), ctx.config().default_country());
    else if (ref.find('@') != std::string::npos)
      email = email_match_key(normalize_email_display(ref));
    else
      return false;
  } catch (const Error&) {
    return false;
  }
  Suppression suppression(ctx.database());
  return suppression.erased(email, phone);
}

void register_change(CLI::App& consent, Context& ctx, const std::string& action,
                     const std::string& help, bool purpose_required, bool with_proof) {
  auto* cmd = consent.add_subcommand(action, help);
  auto o = std::make_shared<ChangeOptions>();
  add_change_options(cmd, *o, purpose_required, with_proof);
  cmd->callback([&ctx, o, action] {
    ctx.action = [&ctx, o, action] {
      auto purposes = consent_purposes(ctx.config());
      auto change = to_change(ctx, action, *o);
      validate_consent_change(purposes, change);
      auto ids = ctx.resolve(o->refs);
      auto added = append_consent(ctx.database(), purposes, ids, change, ctx.write_context());
      ctx.summary(fmt::format("{} {} recorded for {} contact{}{}", added,
                              added == 1 ? "entry" : "entries", ids.size(),
                              ids.size() == 1 ? "" : "s",
                              added < ids.size() ? " (the rest were already in the ledger)" : ""));
      return 0;
    };
  });
}

std::string text(const std::optional<std::string>& v) { return v.value_or(""); }

} // namespace

void register_consent(CLI::App& command, Context& ctx) {
  auto* consent = &command;
  consent->require_subcommand(1);
  register_change(*consent, ctx, "grant", "Record a consent for a purpose (and channel)", true,
                  true);
  register_change(*consent, ctx, "withdraw", "Record the withdrawal of a consent", true, true);
  register_change(*consent, ctx, "object",
                  "Record an objection (GDPR Art. 21); without --purpose to every purpose", false,
                  true);
  {
    auto* cmd = consent->add_subcommand("request", "Start a double opt-in; prints its token");
    auto o = std::make_shared<ChangeOptions>();
    add_change_options(cmd, *o, true, false);
    cmd->callback([&ctx, o] {
      ctx.action = [&ctx, o] {
        auto purposes = consent_purposes(ctx.config());
        auto change = to_change(ctx, "request", *o);
        validate_consent_change(purposes, change);
        auto ids = ctx.resolve(o->refs);
        if (ids.size() != 1)
          throw Error(Exit::usage, "request takes one contact");
        ctx.out() << request_consent(ctx.database(), purposes, ids.front(), change,
                                     ctx.write_context())
                  << '\n';
        return 0;
      };
    });
  }
  {
    auto* cmd = consent->add_subcommand("confirm", "Complete a double opt-in with its token");
    auto token = std::make_shared<std::string>();
    cmd->add_option("token", *token, "The token that request printed")->required();
    cmd->callback([&ctx, token] {
      ctx.action = [&ctx, token] {
        auto purposes = consent_purposes(ctx.config());
        auto done = confirm_consent(ctx.database(), purposes, *token, ctx.write_context());
        ctx.summary(done.already ? fmt::format("request {} was already confirmed", done.request_id)
                                 : fmt::format("confirmed request {} of contact {}",
                                               done.request_id, done.contact_id));
        return 0;
      };
    });
  }
  {
    auto* cmd = consent->add_subcommand("show", "Current state per purpose and channel");
    auto refs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("ref", *refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->callback([&ctx, refs] {
      ctx.action = [&ctx, refs] {
        auto purposes = consent_purposes(ctx.config());
        auto ids = ctx.resolve(*refs);
        auto writer = ctx.writer();
        writer->header(std::vector<std::string>{"contact_id", "purpose", "channel", "state",
                                                "since", "until", "source"});
        auto& db = ctx.database();
        db.read([&] {
          for (auto id : ids) {
            auto entries = consent_entries(db, id);
            for (const auto& s : consent_states(purposes, entries, ctx.now())) {
              std::vector<Cell> row = {id,
                                       s.purpose,
                                       text(s.channel),
                                       s.state,
                                       s.since ? Cell(*s.since) : Cell(std::monostate{}),
                                       s.until ? Cell(*s.until) : Cell(std::monostate{}),
                                       s.source ? Cell(*s.source) : Cell(std::monostate{})};
              writer->row(row);
            }
          }
        });
        writer->finish();
        return 0;
      };
    });
  }
  {
    auto* cmd = consent->add_subcommand("history", "The ledger entries of contacts");
    auto refs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("ref", *refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->callback([&ctx, refs] {
      ctx.action = [&ctx, refs] {
        auto ids = ctx.resolve(*refs);
        auto writer = ctx.writer();
        writer->header(std::vector<std::string>{"id", "contact_id", "purpose", "channel", "action",
                                                "at", "source", "proof", "recorded_at", "digest"});
        auto& db = ctx.database();
        auto opt = [](const std::optional<std::string>& v) {
          return v ? Cell(*v) : Cell(std::monostate{});
        };
        db.read([&] {
          for (auto id : ids)
            for (const auto& e : consent_entries(db, id)) {
              std::vector<Cell> row = {e.id,          id,      opt(e.purpose), opt(e.channel),
                                       e.action,      e.at,    opt(e.source),  opt(e.proof),
                                       e.recorded_at, e.digest};
              writer->row(row);
            }
        });
        writer->finish();
        return 0;
      };
    });
  }
  {
    auto* cmd = consent->add_subcommand(
        "check", "Exit 0 if the contact may be contacted for the purpose now, 1 if not");
    auto o = std::make_shared<ChangeOptions>();
    cmd->add_option("ref", o->refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required()
        ->expected(1);
    cmd->add_option("--purpose", o->purpose, "Purpose of [consent.purposes]")->required();
    cmd->add_option("--channel", o->channel, "Channel (default: any channel of the purpose)");
    cmd->callback([&ctx, o] {
      ctx.action = [&ctx, o] {
        auto purposes = consent_purposes(ctx.config());
        ConsentChange probe;
        probe.action = "withdraw"; // validates purpose and channel like a change
        probe.purpose = o->purpose;
        probe.channel = o->channel;
        validate_consent_change(purposes, probe);
        const Purpose& purpose = find_purpose(purposes, *o->purpose);
        auto& db = ctx.database();
        const auto& country = ctx.config().default_country();
        auto answer = [&](const std::string& ref) -> std::optional<bool> {
          auto id = resolve_ref(db, ref, country);
          if (!id)
            return erased_ref(ctx, ref) ? std::optional<bool>(false) : std::nullopt;
          return consent_allowed(db, purpose, o->channel, *id, ctx.now());
        };
        const std::string& ref = o->refs.front();
        if (ref != "-") {
          auto yes = answer(ref);
          if (!yes)
            throw Error(Exit::not_found, fmt::format("no contact '{}'", ref));
          return *yes ? 0 : 1;
        }
        auto refs = read_refs(std::cin);
        std::vector<std::optional<bool>> answers;
        std::vector<std::string> unknown;
        for (const auto& r : refs) {
          answers.push_back(answer(r));
          if (!answers.back())
            unknown.push_back(r);
        }
        if (!unknown.empty()) {
          for (std::size_t i = 0; i + 1 < unknown.size(); ++i)
            std::cerr << fmt::format("crm: no contact '{}'\n", unknown[i]);
          throw Error(Exit::not_found, fmt::format("no contact '{}'", unknown.back()));
        }
        bool all = true;
        for (std::size_t i = 0; i < refs.size(); ++i) {
          all = all && *answers[i];
          ctx.out() << refs[i] << '\t' << (*answers[i] ? "yes" : "no") << '\n';
        }
        return all ? 0 : 1;
      };
    });
  }
  {
    auto* cmd =
        consent->add_subcommand("import", "Append ledger entries from csv, tsv, json or ndjson");
    auto a = std::make_shared<RowImportArgs>();
    add_row_import_options(*cmd, *a, "");
    cmd->callback([&ctx, a] {
      ctx.action = [&ctx, a] {
        auto purposes = consent_purposes(ctx.config());
        auto& db = ctx.database();
        auto reader = open_rows(*a, "consent import", "ledger entries");
        ConsentImportOptions options;
        options.max_rejects = a->max_rejects;
        options.dry_run = a->dry_run;
        options.batch = a->batch;
        auto write = ctx.write_context();
        write.source = fmt::format("consent import {}", a->file == "-" ? "stdin" : a->file);
        const auto summary =
            run_import(ctx, a->file, a->rejects, *reader, [&](RejectSink& sink, const auto&) {
              return import_consents(db, *reader, purposes, options, write, sink);
            });
        ctx.summary(
            row_import_summary(*a,
                               fmt::format("added {}, unchanged {}, rejected {}", summary.added,
                                           summary.unchanged, summary.rejected),
                               summary.rejected));
        return 0;
      };
    });
  }
  consent->add_subcommand("verify", "Walk the ledger's hash chain; problems are printed, exit 1")
      ->callback([&ctx] {
        ctx.action = [&ctx] {
          std::int64_t entries = 0;
          auto problems = verify_consent_ledger(ctx.database(), entries);
          for (const auto& p : problems)
            ctx.out() << p << '\n';
          if (problems.empty())
            ctx.summary(fmt::format("consent ledger ok: {} entr{} verify", entries,
                                    entries == 1 ? "y" : "ies"));
          return problems.empty() ? 0 : 1;
        };
      });
}

} // namespace crm::cli
