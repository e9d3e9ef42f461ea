#include "context.hpp"

#include <crm/error.hpp>
#include <crm/score.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace crm::cli {

namespace {

const std::vector<std::string> k_score_columns = {"contact_id", "model", "value", "label", "at"};
const std::vector<std::string> k_explain_columns = {"contact_id", "model", "part", "points",
                                                    "reason"};

Cell text_or_null(const std::optional<std::string>& v) {
  return v ? Cell(*v) : Cell(std::monostate{});
}

std::vector<Cell> score_cells(const Score& s) {
  return {s.contact_id, s.model, Money{s.value}, text_or_null(s.label), s.at};
}

std::string fixed2(Hundredths h) {
  const auto magnitude = static_cast<std::uint64_t>(h < 0 ? -h : h);
  return fmt::format("{}{}.{:02}", h < 0 ? "-" : "", magnitude / 100, magnitude % 100);
}

// The last line of an explanation: the score as the sum of its parts.
std::string total_reason(const Explanation& e) {
  const Score& s = *e.score;
  std::string what;
  if (e.model == "rfm" && s.label) {
    const Hundredths v = s.value / 100;
    what = fmt::format("segment '{}', where recency {} and frequency {} fall in the R x F grid",
                       *s.label, v / 100, v / 10 % 10);
  } else if (e.model == "abc" && s.label) {
    what = fmt::format("class {}", *s.label);
  } else if (e.model == "nps" && s.label) {
    what = *s.label;
  } else if (e.model == "churn" && s.label) {
    what = fmt::format("probability of having lapsed, {}", *s.label);
  } else if (e.parts.empty()) {
    what = "no rule matched";
  } else {
    what = "lead points";
  }
  std::string text =
      fmt::format("= {}: the sum of the parts; {}; computed {}", fixed2(s.value), what, s.at);
  if (!e.note.empty())
    text += "; note: " + e.note;
  return text;
}

} // namespace

void register_score(CLI::App& command, Context& ctx) {
  command.require_subcommand(1);

  auto* run = command.add_subcommand("run", "Compute all or the named models, as of --now");
  auto models = std::make_shared<std::vector<std::string>>();
  run->add_option("model", *models, "Models to run: rfm, abc, lead, nps, churn (default: all)");
  run->callback([&ctx, models] {
    ctx.action = [&ctx, models] {
      auto summaries = run_scores(ctx.database(), ctx.config(), *models, ctx.now());
      std::string line;
      for (const auto& s : summaries) {
        line += fmt::format("{}{} {}", line.empty() ? "scored " : ", ", s.model, s.scored);
      }
      if (!summaries.empty() && summaries.front().not_scored > 0)
        line += fmt::format("; not scored (profiling) {}", summaries.front().not_scored);
      for (const auto& s : summaries)
        if (s.model == "nps")
          if (auto o = overall_nps(ctx.database()))
            line += fmt::format("; nps {}", fixed2(o->nps));
      ctx.summary(line);
      return 0;
    };
  });

  auto* show = command.add_subcommand("show", "A contact's scores, one row per model");
  auto show_ref = std::make_shared<std::string>();
  show->add_option("ref", *show_ref, "The contact: id, email, ext:ID, tel:PHONE")->required();
  show->callback([&ctx, show_ref] {
    ctx.action = [&ctx, show_ref] {
      if (fields_help(ctx, k_score_columns))
        return 0;
      const auto id = ctx.resolve({*show_ref}).front();
      FieldRows rows(ctx, k_score_columns);
      for (const auto& s : contact_scores(ctx.database(), id))
        rows.row(score_cells(s));
      rows.finish();
      return 0;
    };
  });

  auto* list = command.add_subcommand("list", "The scores of a model, by contact id");
  struct ListArgs {
    std::string model;
    std::optional<std::string> label, where, sort;
    std::optional<std::int64_t> limit;
  };
  auto l = std::make_shared<ListArgs>();
  list->add_option("model", l->model, "The model: rfm, abc, lead, nps, churn")->required();
  list->add_option("--label", l->label, "Only scores with this label (segment, class, group)")
      ->type_name("L");
  list->add_option("--where", l->where, "Only contacts matching this filter")->type_name("EXPR");
  list->add_option("--sort", l->sort, "Sort by FIELD[,-FIELD] (contact_id, value, label, at)")
      ->type_name("FIELDS");
  list->add_option("--limit", l->limit, "At most N rows")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  list->callback([&ctx, l] {
    ctx.action = [&ctx, l] {
      if (fields_help(ctx, k_score_columns))
        return 0;
      check_score_model(l->model);
      std::optional<SqlFilter> where;
      if (l->where)
        where = where_filter(ctx, *l->where);
      std::vector<ScoreSort> sort;
      if (l->sort)
        sort = parse_score_sort(*l->sort);
      FieldRows rows(ctx, k_score_columns);
      std::int64_t n = 0;
      list_scores(
          ctx.database(), l->model, l->label, where,
          [&](const Score& s) {
            if (l->limit && n >= *l->limit)
              return;
            ++n;
            rows.row(score_cells(s));
          },
          sort);
      rows.finish();
      if (l->model == "nps") {
        if (auto o = overall_nps(ctx.database()))
          ctx.summary(fmt::format("nps {} over {} rated contacts: {} promoters, {} passives, {} "
                                  "detractors",
                                  fixed2(o->nps), o->promoters + o->passives + o->detractors,
                                  o->promoters, o->passives, o->detractors));
      }
      return 0;
    };
  });

  auto* explain =
      command.add_subcommand("explain", "Why a contact got its scores, part by part, in words");
  struct ExplainArgs {
    std::string ref;
    std::optional<std::string> model;
  };
  auto e = std::make_shared<ExplainArgs>();
  explain->add_option("ref", e->ref, "The contact: id, email, ext:ID, tel:PHONE, or - (stdin)")
      ->required();
  explain->add_option("model", e->model, "Only this model (default: all)");
  explain->callback([&ctx, e] {
    ctx.action = [&ctx, e] {
      if (fields_help(ctx, k_explain_columns))
        return 0;
      if (e->model)
        check_score_model(*e->model);
      const auto ids = ctx.resolve({e->ref});
      FieldRows rows(ctx, k_explain_columns);
      for (const auto id : ids) {
        for (const auto& x :
             explain_scores(ctx.database(), ctx.config(), id, e->model, ctx.now())) {
          if (!x.score) {
            rows.row({id, x.model, std::monostate{}, std::monostate{}, x.note});
            continue;
          }
          for (std::size_t i = 0; i < x.parts.size(); ++i)
            rows.row({id, x.model, static_cast<std::int64_t>(i + 1), Money{x.parts[i].points},
                      x.parts[i].reason});
          rows.row({id, x.model, std::monostate{}, Money{x.score->value}, total_reason(x)});
        }
      }
      rows.finish();
      return 0;
    };
  });
}

} // namespace crm::cli
