#include "context.hpp"

#include <crm/campaign.hpp>
#include <crm/consent.hpp>
#include <crm/error.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>

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

} // namespace

void register_campaign(CLI::App& command, Context& ctx) {
  command.require_subcommand(1);
  register_list(command, ctx);
  register_show(command, ctx);
  register_select(command, ctx);
}

} // namespace crm::cli
