#include "context.hpp"
#include "import_ui.hpp"

#include <crm/campaign.hpp>
#include <crm/consent.hpp>
#include <crm/error.hpp>
#include <crm/journey.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace crm::cli {

namespace {

const std::vector<std::string> k_list_columns = {"name",     "channel", "purpose", "schedule",
                                                 "priority", "holdout", "cap",     "limit",
                                                 "runs",     "last_run"};
const std::vector<std::string> k_show_columns = {"field", "value"};
const std::vector<std::string> k_explain_columns = {"contact_id", "reason"};

std::vector<std::string> member_columns(const Campaign& campaign) {
  return {"contact_id", campaign.channel == "email" ? "email" : "phone", "first_name", "last_name",
          "variant"};
}

Cell text_or_null(const std::optional<std::string>& v) {
  return v ? Cell(*v) : Cell(std::monostate{});
}

Cell rate_cell(const std::optional<Rate>& r) {
  if (!r)
    return std::monostate{};
  return fmt::format("{} per {}", r->count, format_duration(r->per));
}

std::string holdout_text(double h) { return fmt::format("{:g}", h); }

// The consent condition of the campaign's purpose and channel, checked
// against the purposes of the config (an unknown channel is a config error).
SqlFilter campaign_consent(Context& ctx, const Campaign& campaign) {
  const auto purposes = consent_purposes(ctx.config());
  ConsentChange probe;
  probe.action = "withdraw";
  probe.purpose = campaign.purpose;
  probe.channel = campaign.channel;
  try {
    validate_consent_change(purposes, probe);
  } catch (const Error& e) {
    throw Error(Exit::config, fmt::format("campaigns.{}: {}", campaign.name, e.what()), e.hint());
  }
  return consent_allowed_sql(find_purpose(purposes, campaign.purpose), campaign.channel, ctx.now());
}

void register_list(CLI::App& command, Context& ctx) {
  auto* list = command.add_subcommand("list", "The campaigns of the config and their runs");
  list->callback([&ctx] {
    ctx.action = [&ctx] {
      if (fields_help(ctx, k_list_columns))
        return 0;
      const auto all = campaigns(ctx.config());
      const auto runs = campaign_runs(ctx.database(), "");
      FieldRows rows(ctx, k_list_columns);
      for (const auto& c : all) {
        std::int64_t count = 0;
        std::optional<std::string> last;
        for (const auto& r : runs)
          if (r.campaign == c.name) {
            ++count;
            last = r.run_id;
          }
        rows.row({c.name, c.channel, c.purpose, c.schedule, c.priority, holdout_text(c.holdout),
                  rate_cell(c.cap), c.limit ? Cell(*c.limit) : Cell(std::monostate{}), count,
                  text_or_null(last)});
      }
      rows.finish();
      return 0;
    };
  });
}

void register_show(CLI::App& command, Context& ctx) {
  auto* show = command.add_subcommand("show", "A campaign's definition and run statistics");
  auto name = std::make_shared<std::string>();
  show->add_option("name", *name, "The campaign ([campaigns.NAME])")->required();
  show->callback([&ctx, name] {
    ctx.action = [&ctx, name] {
      if (fields_help(ctx, k_show_columns))
        return 0;
      const auto all = campaigns(ctx.config());
      const Campaign& c = find_campaign(all, *name);
      const auto runs = campaign_runs(ctx.database(), c.name);
      std::int64_t members = 0, holdout = 0;
      for (const auto& r : runs) {
        members += r.members;
        holdout += r.holdout;
      }
      std::string variants;
      for (const auto& v : c.variants)
        variants += (variants.empty() ? "" : ",") + v;
      FieldRows rows(ctx, k_show_columns);
      auto field = [&](std::string key, Cell value) {
        rows.row({std::move(key), std::move(value)});
      };
      field("name", c.name);
      field("channel", c.channel);
      field("purpose", c.purpose);
      field("segment", text_or_null(c.segment));
      field("cap", rate_cell(c.cap));
      field("holdout", holdout_text(c.holdout));
      field("priority", c.priority);
      field("schedule", c.schedule);
      field("limit", c.limit ? Cell(*c.limit) : Cell(std::monostate{}));
      field("variants", variants.empty() ? Cell(std::monostate{}) : Cell(variants));
      field("description", text_or_null(c.description));
      field("next_run_id", default_run_id(c, ctx.now()));
      field("runs", static_cast<std::int64_t>(runs.size()));
      field("members", members);
      field("holdout_members", holdout);
      field("last_run", runs.empty() ? Cell(std::monostate{}) : Cell(runs.back().run_id));
      field("last_run_at", runs.empty() ? Cell(std::monostate{}) : Cell(runs.back().at));
      rows.finish();
      return 0;
    };
  });
}

void register_select(CLI::App& command, Context& ctx) {
  auto* select = command.add_subcommand(
      "select", "Choose and record the audience of a run; print its members");
  struct Args {
    std::string name;
    std::optional<std::string> run_id;
    std::optional<std::int64_t> limit;
    bool dry_run = false, explain = false, include_holdout = false;
  };
  auto a = std::make_shared<Args>();
  select->add_option("name", a->name, "The campaign ([campaigns.NAME])")->required();
  select->add_option("--run-id", a->run_id, "The run (default: the campaign and its period)")
      ->type_name("ID");
  select->add_option("--limit", a->limit, "At most N members (after the holdout)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  select->add_flag("--dry-run", a->dry_run, "Decide but record nothing");
  select->add_flag("--explain", a->explain,
                   "Print why each contact of the segment was left out (records nothing)");
  select->add_flag("--include-holdout", a->include_holdout,
                   "Print the control group too, with variant 'control'");
  select->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      const auto all = campaigns(ctx.config());
      const Campaign& c = find_campaign(all, a->name);
      const auto columns = a->explain ? k_explain_columns : member_columns(c);
      if (fields_help(ctx, columns))
        return 0;
      SelectOptions options;
      options.run_id = a->run_id;
      options.limit = a->limit;
      options.dry_run = a->dry_run || a->explain ? DryRun::yes : DryRun::no;
      if (c.segment) {
        try {
          options.segment = where_filter(ctx, *c.segment);
        } catch (const Error& e) {
          throw Error(e.code(), fmt::format("campaigns.{}.segment: {}", c.name, e.what()),
                      e.hint());
        }
      }
      options.consent = campaign_consent(ctx, c);
      options.pressure = pressure_cap(ctx.config());
      // A bad --fields or --format is refused before anything is recorded.
      pick_fields(ctx, columns);
      (void)ctx.format();
      const Selection s = select_campaign(ctx.database(), c, options, ctx.write_context());
      FieldRows rows(ctx, columns);
      std::size_t members = 0, holdout = 0;
      for (const auto& m : s.members)
        (m.holdout ? holdout : members) += 1;
      if (a->explain) {
        for (const auto& l : s.left_out)
          rows.row({l.contact_id, l.reason});
      } else {
        for (const auto& m : s.members)
          if (!m.holdout || a->include_holdout)
            rows.row({m.contact_id, text_or_null(m.address), text_or_null(m.first_name),
                      text_or_null(m.last_name), text_or_null(m.variant)});
      }
      rows.finish();
      std::string line = fmt::format("selected {}, holdout {}", members, holdout);
      if (!s.existing)
        line += fmt::format(", left out {}", s.left_out.size() - holdout);
      line += fmt::format("; run {}", s.run_id);
      if (s.existing)
        line += " (recorded before: the same members, nothing new recorded)";
      else if (options.dry_run == DryRun::yes)
        line += " (dry run: nothing recorded)";
      ctx.summary(line);
      return 0;
    };
  });
}

ResponseSettings response_settings(Context& ctx) {
  ResponseSettings s;
  s.campaigns = campaigns(ctx.config());
  s.purposes = consent_purposes(ctx.config());
  s.journey = ctx.config().journey();
  return s;
}

const std::vector<std::string> k_respond_columns = {"campaign", "run_id", "contact_id", "type",
                                                    "amount",   "at",     "recorded"};

void register_respond(CLI::App& command, Context& ctx) {
  auto* cmd = command.add_subcommand("respond", "Record a contact's response to a campaign");
  struct Args {
    std::string name, ref, type;
    std::optional<std::string> run, amount, at;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("name", a->name, "The campaign ([campaigns.NAME])")->required();
  cmd->add_option("ref", a->ref, "The contact: id, email, ext:ID, tel:PHONE")->required();
  cmd->add_option("type", a->type,
                  "delivered, bounced_hard, bounced_soft, opened, clicked, converted or "
                  "unsubscribed")
      ->required();
  cmd->add_option("--run", a->run, "The run id (default: the latest run with the contact)")
      ->type_name("ID");
  cmd->add_option("--amount", a->amount, "Revenue of a conversion, like 12.30")->type_name("X");
  cmd->add_option("--at", a->at, "When, RFC 3339 or YYYY-MM-DD (default: now)")->type_name("T");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      const auto settings = response_settings(ctx);
      const Campaign& c = find_campaign(settings.campaigns, a->name);
      Response r;
      const auto type = parse_response_type(a->type);
      if (!type)
        throw Error(Exit::data, fmt::format("invalid response type '{}'", a->type),
                    "types: delivered, bounced_hard, bounced_soft, opened, clicked, converted, "
                    "unsubscribed");
      r.type = *type;
      if (a->amount) {
        r.amount = parse_amount(*a->amount);
        if (!r.amount)
          throw Error(Exit::data, fmt::format("invalid amount '{}': expected a decimal like 12.30",
                                              *a->amount));
      }
      r.at = a->at ? parse_time_or_throw(*a->at, "--at") : ctx.now();
      r.run_id = a->run;
      r.contact_id = ctx.resolve({a->ref}).front();
      const auto result = record_response(ctx.database(), settings, c, r, ctx.write_context());
      if (!result.recorded)
        ctx.warn(fmt::format("the same response is recorded already (run {}); nothing changed",
                             result.run_id));
      // json and ndjson: what was recorded (as journey log does); the
      // text formats print the run id, for scripts.
      const auto format = ctx.format();
      if (format == Format::json || format == Format::ndjson) {
        FieldRows rows(ctx, k_respond_columns);
        rows.row({c.name, result.run_id, r.contact_id, std::string(response_type_name(r.type)),
                  r.amount ? Cell(Money{*r.amount}) : Cell(std::monostate{}), format_time(r.at),
                  std::int64_t{result.recorded ? 1 : 0}});
        rows.finish();
      } else {
        ctx.out() << result.run_id << '\n';
      }
      return 0;
    };
  });
}

void register_import_responses(CLI::App& command, Context& ctx) {
  auto* cmd =
      command.add_subcommand("import-responses", "Import responses from csv, tsv, json or ndjson");
  auto a = std::make_shared<RowImportArgs>();
  add_row_import_options(*cmd, *a, "response field, -");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      ResponseImportOptions options;
      set_row_import_options(options, *a);
      const auto settings = response_settings(ctx);
      auto& db = ctx.database();
      auto write = ctx.write_context();
      auto reader = open_rows(*a, "campaign import-responses", "responses");
      const auto summary =
          run_import(ctx, a->file, a->rejects, *reader, [&](RejectSink& sink, const auto& on_rows) {
            return import_responses(db, *reader, options, settings, write, sink, on_rows);
          });
      ctx.summary(
          row_import_summary(*a,
                             fmt::format("inserted {}, unchanged {}, rejected {}", summary.inserted,
                                         summary.unchanged, summary.rejected),
                             summary.rejected));
      return 0;
    };
  });
}

const std::vector<std::string> k_report_columns = {"run_id",
                                                   "at",
                                                   "audience",
                                                   "members",
                                                   "holdout",
                                                   "delivered",
                                                   "bounced",
                                                   "opened",
                                                   "clicked",
                                                   "unsubscribed",
                                                   "conversions",
                                                   "holdout_conversions",
                                                   "delivered_rate",
                                                   "open_rate",
                                                   "click_rate",
                                                   "conversion_rate",
                                                   "holdout_conversion_rate",
                                                   "revenue",
                                                   "uplift_pp",
                                                   "uplift_low_pp",
                                                   "uplift_high_pp"};

Cell rate(const std::optional<double>& v, int places) {
  if (!v)
    return std::monostate{};
  const double scale = std::pow(10.0, places);
  return std::round(*v * scale) / scale;
}

void register_report(CLI::App& command, Context& ctx) {
  auto* cmd =
      command.add_subcommand("report", "Rates, revenue and the uplift over the holdout, per run");
  struct Args {
    std::string name;
    std::optional<std::string> run;
    std::string window = "30d";
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("name", a->name, "The campaign ([campaigns.NAME])")->required();
  cmd->add_option("--run", a->run, "Only this run id (default: every run)")->type_name("ID");
  cmd->add_option("--window", a->window, "Count conversions this long after the run (default: 30d)")
      ->type_name("D");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      if (fields_help(ctx, k_report_columns))
        return 0;
      const auto all = campaigns(ctx.config());
      const Campaign& c = find_campaign(all, a->name);
      ReportOptions options;
      options.run_id = a->run;
      const auto window = parse_duration(a->window);
      if (!window)
        throw Error(Exit::usage,
                    fmt::format("--window '{}': expected a duration like 30d", a->window));
      options.window = *window;
      options.conversion = ctx.config().journey().conversion;
      pick_fields(ctx, k_report_columns);
      const auto reports = campaign_report(ctx.database(), c, options);
      FieldRows rows(ctx, k_report_columns);
      for (const auto& r : reports)
        rows.row({r.run_id,
                  r.at,
                  r.audience,
                  r.members,
                  r.holdout,
                  r.delivered,
                  r.bounced,
                  r.opened,
                  r.clicked,
                  r.unsubscribed,
                  r.conversions,
                  r.holdout_conversions,
                  rate(r.delivered_rate, 4),
                  rate(r.open_rate, 4),
                  rate(r.click_rate, 4),
                  rate(r.conversion_rate, 4),
                  rate(r.holdout_conversion_rate, 4),
                  Money{r.revenue},
                  rate(r.uplift, 2),
                  rate(r.uplift_low, 2),
                  rate(r.uplift_high, 2)});
      rows.finish();
      return 0;
    };
  });
}

const std::vector<std::string> k_plan_columns = {"contact_id", "campaign", "priority"};

void register_plan(CLI::App& command, Context& ctx) {
  auto* cmd = command.add_subcommand(
      "plan", "Next best action: the one campaign each contact would get now (records nothing)");
  auto names = std::make_shared<std::string>();
  cmd->add_option("--campaigns", *names, "Only these campaigns, comma-separated (default: all)")
      ->type_name("A,B");
  cmd->callback([&ctx, names] {
    ctx.action = [&ctx, names] {
      if (fields_help(ctx, k_plan_columns))
        return 0;
      const auto all = campaigns(ctx.config());
      std::vector<const Campaign*> chosen;
      if (names->empty()) {
        for (const auto& c : all)
          chosen.push_back(&c);
      } else {
        std::string_view rest = *names;
        while (true) {
          const auto comma = rest.find(',');
          const std::string_view name = rest.substr(0, comma);
          const Campaign& c = find_campaign(all, name);
          if (std::find(chosen.begin(), chosen.end(), &c) == chosen.end())
            chosen.push_back(&c);
          if (comma == std::string_view::npos)
            break;
          rest.remove_prefix(comma + 1);
        }
      }
      std::vector<PlanCampaign> plan;
      for (const Campaign* c : chosen) {
        PlanCampaign p;
        p.campaign = c;
        if (c->segment) {
          try {
            p.options.segment = where_filter(ctx, *c->segment);
          } catch (const Error& e) {
            throw Error(e.code(), fmt::format("campaigns.{}.segment: {}", c->name, e.what()),
                        e.hint());
          }
        }
        p.options.consent = campaign_consent(ctx, *c);
        p.options.pressure = pressure_cap(ctx.config());
        plan.push_back(std::move(p));
      }
      pick_fields(ctx, k_plan_columns);
      const auto rows_out = campaign_plan(ctx.database(), plan, ctx.write_context());
      FieldRows rows(ctx, k_plan_columns);
      for (const auto& r : rows_out)
        rows.row({r.contact_id, r.campaign, r.priority});
      rows.finish();
      ctx.summary(fmt::format("planned {} contacts; nothing recorded", rows_out.size()));
      return 0;
    };
  });
}

} // namespace

void register_campaign(CLI::App& command, Context& ctx) {
  command.require_subcommand(1);
  register_list(command, ctx);
  register_show(command, ctx);
  register_select(command, ctx);
  register_respond(command, ctx);
  register_import_responses(command, ctx);
  register_report(command, ctx);
  register_plan(command, ctx);
}

} // namespace crm::cli
