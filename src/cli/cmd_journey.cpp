#include "context.hpp"
#include "import_ui.hpp"

#include <crm/error.hpp>
#include <crm/journey.hpp>
#include <crm/readers.hpp>
#include <crm/rejects.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace crm::cli {

namespace {

const std::vector<std::string> k_event_columns = {"id",       "contact_id", "touchpoint", "channel",
                                                  "phase",    "at",         "amount",     "rating",
                                                  "campaign", "attrs",      "batch_id"};

// The timeline adds where the journey entered another phase.
const std::vector<std::string> k_timeline_columns = [] {
  auto columns = k_event_columns;
  columns.push_back("phase_change");
  return columns;
}();

const std::vector<std::string> k_map_columns = {
    "phase",        "touchpoint", "contacts",     "events", "moved_on",
    "moved_on_pct", "ratings",    "satisfaction", "nps",    "weakest"};

Cell text(const std::optional<std::string>& v) { return v ? Cell(*v) : Cell(std::monostate{}); }
Cell number(const std::optional<std::int64_t>& v) { return v ? Cell(*v) : Cell(std::monostate{}); }
Cell rounded(const std::optional<double>& v, double scale) {
  return v ? Cell(std::round(*v * scale) / scale) : Cell(std::monostate{});
}

void event_cells(const Event& e, std::vector<Cell>& all) {
  all[0] = e.id;
  all[1] = e.contact_id;
  all[2] = e.touchpoint;
  all[3] = text(e.channel);
  all[4] = text(e.phase);
  all[5] = e.at;
  all[6] = e.amount ? Cell(Money{*e.amount}) : Cell(std::monostate{});
  all[7] = number(e.rating);
  all[8] = text(e.campaign);
  all[9] = e.attrs;
  all[10] = number(e.batch_id);
}

// Writes rows of `columns` picked by --fields; `fill` sets all cells of row i.
void write_rows(Context& ctx, const std::vector<std::string>& columns, std::size_t count,
                const std::function<void(std::size_t, std::vector<Cell>&)>& fill) {
  auto pick = pick_fields(ctx, columns);
  auto writer = ctx.writer();
  std::vector<std::string> names;
  for (auto i : pick)
    names.push_back(columns[i]);
  writer->header(names);
  std::vector<Cell> all(columns.size()), cells;
  for (std::size_t r = 0; r < count; ++r) {
    fill(r, all);
    cells.clear();
    for (auto i : pick)
      cells.push_back(all[i]);
    writer->row(cells);
  }
  writer->finish();
}

// key=value pairs of --attr.
std::vector<std::pair<std::string, std::string>> parse_attrs(const std::vector<std::string>& in) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& a : in) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(Exit::usage, fmt::format("--attr '{}': expected key=value", a));
    out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return out;
}

void register_log(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand("log", "Record an event: a contact went through a touchpoint");
  struct Args {
    std::string ref, touchpoint;
    std::optional<std::string> channel, phase, at, amount, rating, campaign;
    std::vector<std::string> attrs;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("ref", a->ref, "The contact: id, email, ext:ID, tel:PHONE")->required();
  cmd->add_option("touchpoint", a->touchpoint, "The touchpoint, like purchase or page_view")
      ->required();
  cmd->add_option("--channel", a->channel, "The channel (default: the touchpoint's)")
      ->type_name("C");
  cmd->add_option("--phase", a->phase, "The journey phase (default: the touchpoint's)")
      ->type_name("P");
  cmd->add_option("--at", a->at, "When, RFC 3339 or YYYY-MM-DD (default: now)")->type_name("T");
  cmd->add_option("--amount", a->amount, "Money, like 12.30, in [defaults].currency")
      ->type_name("X");
  cmd->add_option("--rating", a->rating, "Satisfaction, an integer from 0 to 10")->type_name("N");
  cmd->add_option("--campaign", a->campaign, "The campaign that led to it")->type_name("NAME");
  cmd->add_option("--attr", a->attrs, "An attribute of the event, key=value (repeatable)")
      ->type_name("K=V");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      EventFields fields;
      fields.touchpoint = a->touchpoint;
      fields.channel = a->channel;
      fields.phase = a->phase;
      fields.at = a->at;
      fields.amount = a->amount;
      fields.rating = a->rating;
      fields.campaign = a->campaign;
      fields.attrs = parse_attrs(a->attrs);
      const auto journey = ctx.config().journey();
      KnownTouchpoint known = KnownTouchpoint::yes;
      // The values first: a bad one is 65 whatever the reference.
      make_event(0, fields, journey, ctx.now(), known);
      const auto id = ctx.resolve({a->ref}).front();
      Event event = make_event(id, fields, journey, ctx.now(), known);
      if (known == KnownTouchpoint::no)
        ctx.warn(fmt::format("touchpoint '{}' is not in the config ([journey.touchpoints]); "
                             "logged all the same",
                             event.touchpoint));
      if (!log_event(ctx.database(), event))
        ctx.warn(
            fmt::format("the same event is logged already (event {}); nothing changed", event.id));
      auto format = ctx.format();
      if (format == Format::json || format == Format::ndjson)
        write_rows(ctx, k_event_columns, 1,
                   [&](std::size_t, auto& all) { event_cells(event, all); });
      else
        ctx.out() << event.id << '\n';
      return 0;
    };
  });
}

void register_import(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand("import", "Import events from csv, tsv, json or ndjson");
  auto a = std::make_shared<RowImportArgs>();
  add_row_import_options(*cmd, *a, "event field, attr.NAME, -");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      EventImportOptions options;
      set_row_import_options(options, *a);
      options.source = a->file;
      const auto journey = ctx.config().journey();
      auto& db = ctx.database();
      auto write = ctx.write_context();
      auto reader = open_rows(*a, "journey import", "events");
      const auto summary =
          run_import(ctx, a->file, a->rejects, *reader, [&](RejectSink& sink, const auto& on_rows) {
            return import_events(db, *reader, options, journey, write, sink, on_rows);
          });
      if (!summary.unknown_touchpoints.empty()) {
        std::string names;
        for (const auto& [name, count] : summary.unknown_touchpoints)
          names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", name, count);
        ctx.warn(fmt::format("touchpoints not in the config ([journey.touchpoints]): {}", names));
      }
      ctx.summary(
          row_import_summary(*a,
                             fmt::format("inserted {}, unchanged {}, rejected {}", summary.inserted,
                                         summary.unchanged, summary.rejected),
                             summary.rejected, summary.batch_id));
      return 0;
    };
  });
}

void register_show(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand("show", "A contact's timeline, oldest first, phase changes "
                                             "marked");
  auto ref = std::make_shared<std::string>();
  cmd->add_option("ref", *ref, "The contact: id, email, ext:ID, tel:PHONE")->required();
  cmd->callback([&ctx, ref] {
    ctx.action = [&ctx, ref] {
      if (fields_help(ctx, k_timeline_columns))
        return 0;
      const auto id = ctx.resolve({*ref}).front();
      const auto events = contact_events(ctx.database(), id);
      std::optional<std::string> phase;
      write_rows(ctx, k_timeline_columns, events.size(), [&](std::size_t r, auto& all) {
        const Event& e = events[r];
        event_cells(e, all);
        all[11] = std::monostate{};
        if (e.phase && e.phase != phase) {
          all[11] = phase ? fmt::format("{} -> {}", *phase, *e.phase) : "-> " + *e.phase;
          phase = e.phase;
        }
      });
      return 0;
    };
  });
}

void register_map(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand("map", "The customer journey map: reach, moving on, "
                                            "satisfaction and NPS per touchpoint");
  struct Args {
    std::string where, from, to;
    std::size_t min_ratings = 5;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--where", a->where, "Only contacts matching this filter")->type_name("EXPR");
  cmd->add_option("--from", a->from, "Only events at or after T")->type_name("T");
  cmd->add_option("--to", a->to, "Only events before T")->type_name("T");
  cmd->add_option("--min-ratings", a->min_ratings,
                  "Ratings a touchpoint needs to be judged weakest (default 5)")
      ->type_name("N");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      if (fields_help(ctx, k_map_columns))
        return 0;
      JourneyMapQuery query;
      if (!a->where.empty())
        query.where = where_filter(ctx, a->where);
      if (!a->from.empty())
        query.from = parse_time_or_throw(a->from, "--from");
      if (!a->to.empty())
        query.to = parse_time_or_throw(a->to, "--to");
      query.min_ratings = a->min_ratings;
      // Beyond the row formats, the map is drawn: svg or html.
      std::optional<std::string> drawn = ctx.options.format;
      if (!drawn)
        drawn = env("CRM_FORMAT");
      if (drawn && *drawn != "svg" && *drawn != "html")
        drawn.reset();
      if (!drawn)
        ctx.format(); // an unknown format is refused before the work
      const auto journey = ctx.config().journey();
      const auto rows = journey_map(ctx.database(), journey, query);
      if (drawn) {
        std::int64_t events = 0;
        for (const auto& r : rows)
          events += r.events;
        std::string subtitle = fmt::format("{} events", events);
        if (!a->where.empty())
          subtitle += fmt::format(" of contacts where {}", a->where);
        if (query.from)
          subtitle += " from " + format_time(*query.from);
        if (query.to)
          subtitle += " before " + format_time(*query.to);
        subtitle += fmt::format(" \u00b7 as of {}", format_time(ctx.now()));
        ctx.out() << (*drawn == "svg" ? journey_map_svg(rows, journey, subtitle)
                                      : journey_map_html(rows, journey, subtitle));
        return 0;
      }
      write_rows(ctx, k_map_columns, rows.size(), [&](std::size_t r, auto& all) {
        const JourneyMapRow& m = rows[r];
        all[0] = text(m.phase);
        all[1] = m.touchpoint;
        all[2] = m.contacts;
        all[3] = m.events;
        all[4] = m.moved_on_share ? Cell(m.moved_on) : Cell(std::monostate{});
        all[5] = rounded(m.moved_on_share ? std::optional<double>(*m.moved_on_share * 100.0)
                                          : std::nullopt,
                         10.0);
        all[6] = m.ratings;
        all[7] = rounded(m.satisfaction, 100.0);
        all[8] = rounded(m.nps, 10.0);
        all[9] = m.weakest ? Cell(std::string("weakest")) : Cell(std::monostate{});
      });
      return 0;
    };
  });
}

const std::vector<std::string> k_funnel_columns = {
    "channel", "step", "phase", "contacts", "of_previous_pct", "of_first_pct"};

// Splits "a,b,c" (spaces around names dropped).
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    std::string part = text.substr(start, end == std::string::npos ? end : end - start);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty())
      out.push_back(part);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

void register_funnel(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand("funnel", "Conversion between phases, step by step");
  struct Args {
    std::string phases, by, where, from, to;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--phases", a->phases, "The steps, in order (default: all phases)")
      ->type_name("A,B,C");
  cmd->add_option("--by", a->by, "One funnel per entry channel")
      ->type_name("WHAT")
      ->check(CLI::IsMember({"channel"}));
  cmd->add_option("--where", a->where, "Only contacts matching this filter")->type_name("EXPR");
  cmd->add_option("--from", a->from, "Only events at or after T")->type_name("T");
  cmd->add_option("--to", a->to, "Only events before T")->type_name("T");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      if (fields_help(ctx, k_funnel_columns))
        return 0;
      const auto journey = ctx.config().journey();
      JourneyFunnelQuery query;
      query.phases = a->phases.empty() ? journey.phases : split_list(a->phases);
      query.by_channel = a->by == "channel";
      if (!a->where.empty())
        query.where = where_filter(ctx, a->where);
      if (!a->from.empty())
        query.from = parse_time_or_throw(a->from, "--from");
      if (!a->to.empty())
        query.to = parse_time_or_throw(a->to, "--to");
      const auto rows = journey_funnel(ctx.database(), journey, query);
      std::vector<std::string> columns = k_funnel_columns;
      if (!query.by_channel)
        columns.erase(columns.begin());
      const std::size_t shift = query.by_channel ? 0 : 1;
      write_rows(ctx, columns, rows.size(), [&](std::size_t r, auto& all) {
        const JourneyFunnelRow& f = rows[r];
        std::vector<Cell> cells = {
            text(f.channel),
            static_cast<std::int64_t>(f.step),
            f.phase,
            f.contacts,
            rounded(f.of_previous ? std::optional<double>(*f.of_previous * 100) : std::nullopt,
                    10.0),
            rounded(f.of_first ? std::optional<double>(*f.of_first * 100) : std::nullopt, 10.0)};
        for (std::size_t i = 0; i < all.size(); ++i)
          all[i] = cells[i + shift];
      });
      return 0;
    };
  });
}

void register_stage(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand("stage", "Recompute lifecycle stages from [[journey.stages]]");
  struct Args {
    std::string where;
    bool force = false, ids = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--where", a->where, "Only contacts matching this filter")->type_name("EXPR");
  cmd->add_flag("--force", a->force, "Recompute also stages set by hand");
  cmd->add_flag("--ids", a->ids, "Print the ids of the contacts whose stage changed");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      const auto journey = ctx.config().journey();
      const std::string file =
          ctx.config().file() ? ctx.config().file()->string() : std::string("the config");
      if (journey.stages.empty())
        throw Error(Exit::config,
                    fmt::format("{}: no [[journey.stages]]: no rules to compute "
                                "stages from",
                                file),
                    "add [[journey.stages]] tables with name and when (see crm.toml(5))");
      StageOptions options;
      for (std::size_t i = 0; i < journey.stages.size(); ++i) {
        const auto& stage = journey.stages[i];
        try {
          options.rules.push_back({stage.name, where_filter(ctx, stage.when)});
        } catch (const Error& e) {
          if (e.code() != Exit::data)
            throw;
          throw Error(Exit::config,
                      fmt::format("{}: journey.stages[{}].when (stage '{}'): {}", file, i,
                                  stage.name, e.what()),
                      e.hint());
        }
      }
      if (!a->where.empty())
        options.where = where_filter(ctx, a->where);
      options.force = a->force ? Force::yes : Force::no;
      auto write = ctx.write_context();
      write.source = "journey stage";
      const auto summary = recompute_stages(ctx.database(), options, write);
      if (a->ids)
        for (auto id : summary.changed)
          ctx.out() << id << '\n';
      std::string line =
          fmt::format("changed {}, unchanged {}", summary.changed.size(), summary.unchanged);
      if (summary.kept > 0)
        line += fmt::format(", kept {} (set by hand; --force recomputes them)", summary.kept);
      ctx.summary(line);
      return 0;
    };
  });
}

void register_attribution(CLI::App& journey, Context& ctx) {
  auto* cmd = journey.add_subcommand(
      "attribution", "Credit conversions and their revenue to the touchpoints before them");
  struct Args {
    std::string model = "last", by = "touchpoint", window = "30d", where, from, to;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model, "last (default), first, linear, time_decay or position")
      ->type_name("M")
      ->check(CLI::IsMember({"last", "first", "linear", "time_decay", "position"}));
  cmd->add_option("--by", a->by, "Credit touchpoints (default), channels or campaigns")
      ->type_name("WHAT")
      ->check(CLI::IsMember({"touchpoint", "channel", "campaign"}));
  cmd->add_option("--window", a->window, "Touches this long before a conversion count (30d)")
      ->type_name("D");
  cmd->add_option("--where", a->where, "Only contacts matching this filter")->type_name("EXPR");
  cmd->add_option("--from", a->from, "Only conversions at or after T")->type_name("T");
  cmd->add_option("--to", a->to, "Only conversions before T")->type_name("T");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      const std::vector<std::string> columns = {a->by, "conversions", "share_pct", "revenue"};
      if (fields_help(ctx, columns))
        return 0;
      AttributionQuery query;
      query.model = *parse_attribution_model(a->model);
      query.by = *parse_attribution_by(a->by);
      auto window = parse_duration(a->window);
      if (!window)
        throw Error(Exit::usage,
                    fmt::format("--window '{}': expected a duration like 30d", a->window));
      query.window = *window;
      if (!a->where.empty())
        query.where = where_filter(ctx, a->where);
      if (!a->from.empty())
        query.from = parse_time_or_throw(a->from, "--from");
      if (!a->to.empty())
        query.to = parse_time_or_throw(a->to, "--to");
      const auto journey = ctx.config().journey();
      const auto result = journey_attribution(ctx.database(), journey, query);
      write_rows(ctx, columns, result.rows.size(), [&](std::size_t r, auto& all) {
        const AttributionRow& row = result.rows[r];
        all[0] = row.key;
        all[1] = std::round(row.conversions * 1e6) / 1e6;
        all[2] = result.conversions > 0 ? Cell(std::round(row.conversions * 1000.0 /
                                                          static_cast<double>(result.conversions)) /
                                               10.0)
                                        : Cell(std::monostate{});
        // Credited revenue keeps fractions of a cent, so that it sums up.
        all[3] = std::round(row.revenue_cents * 100.0) / 10000.0;
      });
      ctx.summary(fmt::format("{} conversions ({}), revenue {}.{:02} {}; model {}, window {}",
                              result.conversions, journey.conversion, result.revenue_cents / 100,
                              std::llabs(result.revenue_cents % 100), ctx.config().currency(),
                              a->model, a->window));
      return 0;
    };
  });
}

} // namespace

void register_journey(CLI::App& command, Context& ctx) {
  command.require_subcommand(1);
  register_log(command, ctx);
  register_import(command, ctx);
  register_show(command, ctx);
  register_map(command, ctx);
  register_funnel(command, ctx);
  register_stage(command, ctx);
  register_attribution(command, ctx);
}

} // namespace crm::cli
