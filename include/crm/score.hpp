#pragma once
// Scores you can explain (SPEC.md section 6 "score"): the built-in models
// rfm, abc, lead, nps and churn, computed by `crm score run`, stored per
// contact with their parts, listed and explained.

#include <crm/clock.hpp>
#include <crm/config.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace crm {

// The built-in models, in the order `score run` without names runs them.
std::span<const std::string_view> score_models();

// Throws Error(Exit::not_found) naming the models unless `name` is one.
void check_score_model(std::string_view name);

// Scores and points are fixed-point with two decimals, held in hundredths
// so that the parts add up to the score exactly.
using Hundredths = std::int64_t;

// One contribution to a score, in the words `explain` prints.
struct ScorePart {
  Hundredths points = 0;
  std::string reason;
};

// A stored score of one contact and model.
struct Score {
  std::int64_t contact_id = 0;
  std::string model;
  Hundredths value = 0;
  std::optional<std::string> label;
  std::string at; // when the run computed it, ISO-8601 UTC
};

// What one model's run did.
struct ScoreRunSummary {
  std::string model;
  std::int64_t scored = 0;
  std::int64_t not_scored = 0; // kept out by the profiling gate
};

// Computes `models` (empty: all, in score_models() order) as of `now`;
// each model replaces all its stored scores and parts in one transaction.
// Throws Error(Exit::not_found) for an unknown model, Error(Exit::config)
// for an invalid model setting (a lead rule's filter, an RFM segment cell
// given twice), and Error 74/75 for database failures.
std::vector<ScoreRunSummary> run_scores(Database& db, const Config& config,
                                        std::span<const std::string> models, TimePoint now);

// A --sort key of `score list`: contact_id, value, label or at.
struct ScoreSort {
  std::string column;
  bool descending = false;
};

// Parses a --sort list ("value,-at"; '-' is descending). Throws
// Error(Exit::usage) naming an unknown column.
std::vector<ScoreSort> parse_score_sort(std::string_view text);

// Calls `row` for each stored score of `model`, in `sort` order, then by
// contact id; only those with `label` if given, and only contacts matching
// `where` (a compiled filter over `c`) if given. Throws
// Error(Exit::not_found) for an unknown model.
void list_scores(Database& db, std::string_view model, const std::optional<std::string>& label,
                 const std::optional<SqlFilter>& where,
                 const std::function<void(const Score&)>& row,
                 const std::vector<ScoreSort>& sort = {});

// The stored scores of a contact, in score_models() order.
std::vector<Score> contact_scores(Database& db, std::int64_t contact_id);

// The overall NPS of the stored nps scores: % promoters (9-10) minus %
// detractors (0-6) of the contacts with a rating; nullopt if none.
struct NpsOverall {
  std::int64_t promoters = 0, passives = 0, detractors = 0;
  Hundredths nps = 0; // -100.00 .. 100.00
};
std::optional<NpsOverall> overall_nps(Database& db);

// Why a contact has (or has not) a score of one model.
struct Explanation {
  std::string model;
  std::optional<Score> score;   // nullopt: not scored
  std::vector<ScorePart> parts; // in order; their points add up to score->value
  std::string note;             // why not scored, or what changed since the run
};

// The explanations of a contact's scores: of `model` if given (throws
// Error(Exit::not_found) if unknown), else of every model, in score_models()
// order. Asks the profiling gate as of `now` for contacts without a score,
// and for those whose objection came after their score was computed.
std::vector<Explanation> explain_scores(Database& db, const Config& config, std::int64_t contact_id,
                                        const std::optional<std::string>& model, TimePoint now);

// The profiling gate. When the database has a `consent` table, a contact
// whose latest entry for purpose "profiling" (up to `now`, ties by ledger
// order) is an objection may not be scored; when `requires_consent` names
// a purpose, neither may one whose latest entry for it is not a grant or a
// confirmation, or is one older than `valid_for` (the purpose's lifetime,
// if it has one). Returns those contacts (only `contact_id` if given) with
// the reason in words; without a `consent` table, none.
std::unordered_map<std::int64_t, std::string>
profiling_refusals(Database& db, std::string_view requires_consent, TimePoint now,
                   std::optional<std::int64_t> contact_id = std::nullopt,
                   std::optional<Duration> valid_for = std::nullopt);

} // namespace crm
