#pragma once

#include <crm/config.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>
#include <crm/import.hpp>
#include <crm/readers.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// One journey event as stored (table `event`).
struct Event {
  std::int64_t id = 0;
  std::int64_t contact_id = 0;
  std::string touchpoint;
  std::optional<std::string> channel, phase;
  std::string at;                     // ISO-8601 UTC
  std::optional<std::int64_t> amount; // cents
  std::optional<std::int64_t> rating; // 0-10
  std::optional<std::string> campaign;
  std::string attrs = "{}"; // a JSON object of strings
  std::optional<std::int64_t> batch_id;
};

// An event as a user gives it (command line or one input row), not yet checked.
struct EventFields {
  std::string touchpoint;
  std::optional<std::string> channel, phase, campaign;
  std::optional<std::string> at;     // RFC 3339 or YYYY-MM-DD; none: now
  std::optional<std::string> amount; // a decimal, at most two places: "12.30"
  std::optional<std::string> rating; // an integer 0-10
  std::vector<std::pair<std::string, std::string>> attrs;
};

// What checking an event found besides errors.
enum class KnownTouchpoint { no, yes };

// Checks and completes `fields` into an event of `contact_id`: the phase and
// channel default from the touchpoint's config, the time from `now`, the
// amount becomes cents. Throws Error(Exit::data) for an invalid value (time,
// amount, rating outside 0-10, attribute name) and Error(Exit::not_found)
// for a phase the config does not list or, with [journey].strict, an
// unknown touchpoint. `known` says whether the config lists the touchpoint.
Event make_event(std::int64_t contact_id, const EventFields& fields, const JourneySettings& journey,
                 TimePoint now, KnownTouchpoint& known);

// Parses a money amount ("12", "12.3", "-4.99") into cents; nullopt if it
// is not one or is out of range.
std::optional<std::int64_t> parse_amount(std::string_view text);

// Stores `event` (its id is set). The same event again (same contact,
// touchpoint, time, channel, phase and campaign) is not stored twice:
// returns false and sets the id of the one stored already.
bool log_event(Database& db, Event& event);

// Like log_event, inside the caller's write transaction.
bool insert_event(Database& db, Event& event);

// The WHERE condition that finds an event by its identity (contact,
// touchpoint, time, channel, phase, campaign) through the event_identity
// index, and the binding of its six parameters from `e` (which must outlive
// the statement's next step).
extern const char* const k_event_identity;
void bind_identity(SQLite::Statement& s, const Event& e);

// The events of a contact, oldest first (then in the order they were stored).
std::vector<Event> contact_events(Database& db, std::int64_t contact_id);

// --- crm journey import ------------------------------------------------

struct EventImportOptions {
  std::vector<std::pair<std::string, std::string>> map; // "Source Column" -> field
  DryRun dry_run = DryRun::no;
  std::size_t batch = 0; // rows per transaction; 0: the whole input
  std::optional<std::size_t> max_rejects;
  std::string source; // the input's name, recorded with the batch
};

struct EventImportSummary {
  std::size_t inserted = 0;
  std::size_t unchanged = 0; // the same event is stored already
  std::size_t rejected = 0;
  std::int64_t batch_id = 0; // 0 in a dry run
  // Touchpoints the config does not list, with their event counts (only
  // without [journey].strict; with it such rows are rejected).
  std::vector<std::pair<std::string, std::size_t>> unknown_touchpoints;
};

// Imports events from `reader`. Columns: contact_id (or id), external_id
// and email reference the contact (the first one a row fills is used; an
// unknown one rejects the row), touchpoint and at are required, channel,
// phase, amount, rating and campaign optional, attr.NAME and other columns
// become attributes. Each row is checked as make_event does; a bad row goes
// to `rejects` and the import goes on. An event stored already counts as
// unchanged, so importing a file again adds nothing. Each `batch` rows are
// one transaction. Throws Error(Exit::data) when the rejects exceed
// max_rejects: nothing is imported then (committed batches are removed).
EventImportSummary import_events(Database& db, RecordReader& reader,
                                 const EventImportOptions& options, const JourneySettings& journey,
                                 const WriteContext& ctx, RejectSink& rejects,
                                 const std::function<void(std::size_t)>& progress);

// --- crm journey map ---------------------------------------------------

struct JourneyMapQuery {
  std::optional<SqlFilter> where;    // over contacts (`c`)
  std::optional<TimePoint> from, to; // events with at in [from, to)
  std::size_t min_ratings = 5;       // a touchpoint needs this many ratings to be judged
};

// One box of the map: a touchpoint in a phase.
struct JourneyMapRow {
  std::optional<std::string> phase; // nullopt: events without a phase
  std::string touchpoint;
  std::int64_t contacts = 0; // distinct contacts with such an event
  std::int64_t events = 0;
  // Contacts who had an event of a later phase after their first event here;
  // `moved_on_share` is nullopt where no later phase exists.
  std::int64_t moved_on = 0;
  std::optional<double> moved_on_share; // 0-1
  std::int64_t ratings = 0;
  std::optional<double> satisfaction; // mean rating 0-10
  std::optional<double> nps;          // % promoters (9-10) - % detractors (0-6)
  bool weakest = false;
};

// The customer journey map: one row per phase and touchpoint, phases in
// config order (unknown phases after them, by name, then events without a
// phase), touchpoints of a phase in config order, then the others by name.
// The weakest are the lowest quarter (at least one) by NPS of the rows
// with at least min_ratings ratings, when two or more such rows exist.
std::vector<JourneyMapRow> journey_map(Database& db, const JourneySettings& journey,
                                       const JourneyMapQuery& query);

// The map drawn as a standalone SVG picture: phases as columns left to
// right, touchpoints as boxes whose height grows with the contacts reached
// and whose colour is the mean rating (red to green, grey without ratings),
// an arrow from each box labelled with the share that moved on, the
// weakest with a red border; `subtitle` goes under the title.
std::string journey_map_svg(const std::vector<JourneyMapRow>& rows, const JourneySettings& journey,
                            std::string_view subtitle);
// The same picture in an HTML page, with the numbers as a table below it.
std::string journey_map_html(const std::vector<JourneyMapRow>& rows, const JourneySettings& journey,
                             std::string_view subtitle);

// --- crm journey funnel ------------------------------------------------

struct JourneyFunnelQuery {
  std::vector<std::string> phases;   // the steps, in order; each one of the config's
  bool by_channel = false;           // one funnel per entry channel
  std::optional<SqlFilter> where;    // over contacts (`c`)
  std::optional<TimePoint> from, to; // events with at in [from, to)
};

// One step of a funnel.
struct JourneyFunnelRow {
  std::optional<std::string> channel; // by_channel: the entry channel (nullopt: none)
  std::size_t step = 0;               // 1, 2, ...
  std::string phase;
  std::int64_t contacts = 0;         // contacts who reached this step
  std::optional<double> of_previous; // share of the previous step's contacts (0-1)
  std::optional<double> of_first;    // share of the first step's contacts (0-1)
};

// Conversion between phases: a contact reaches step 1 with any event of its
// phase, and step k+1 with an event of that phase at or after the event that
// reached step k. With by_channel, contacts are split by the channel of
// their first event of step 1 (their entry channel), channels by name, no
// channel last. Throws Error(Exit::not_found) for a phase the config does
// not list, Error(Exit::usage) for an empty or repeating list.
std::vector<JourneyFunnelRow> journey_funnel(Database& db, const JourneySettings& journey,
                                             const JourneyFunnelQuery& query);

// --- crm journey stage -------------------------------------------------

// A stage rule of [[journey.stages]] compiled: contacts for which `when`
// holds are in stage `name`.
struct StageRule {
  std::string name;
  SqlFilter when;
};

struct StageOptions {
  std::vector<StageRule> rules;   // first match wins
  std::optional<SqlFilter> where; // only these contacts
  Force force = Force::no;        // yes: also contacts whose stage was set by hand
};

struct StageSummary {
  std::vector<std::int64_t> changed; // ids, in id order
  std::size_t unchanged = 0;
  std::size_t kept = 0; // set by hand, left alone without Force::yes
};

// Recomputes the lifecycle stage of each contact (of `where`) in one
// transaction: the name of the first rule that holds, none (null) if no
// rule does. A stage set by hand (contact add/update/import --stage) is kept
// unless Force::yes; a recomputed stage is no longer one set by hand. Each
// change is in the contact's history (action "stage", detail
// {"stage": [old, new]}) with ctx.source, and moves updated_at.
StageSummary recompute_stages(Database& db, const StageOptions& options, const WriteContext& ctx);

// --- crm journey attribution --------------------------------------------

enum class AttributionModel { last, first, linear, time_decay, position };
enum class AttributionBy { touchpoint, channel, campaign };

std::optional<AttributionModel> parse_attribution_model(std::string_view name);
std::optional<AttributionBy> parse_attribution_by(std::string_view name);

struct AttributionQuery {
  AttributionModel model = AttributionModel::last;
  AttributionBy by = AttributionBy::touchpoint;
  Duration window{30, Duration::Unit::days}; // touches this long before a conversion count
  std::optional<SqlFilter> where;            // over contacts (`c`)
  std::optional<TimePoint> from, to;         // conversions with at in [from, to)
};

// The credit one key (a touchpoint, channel or campaign) earned.
struct AttributionRow {
  std::string key;          // "(none)": no touch before the conversion, or no channel/campaign
  double conversions = 0;   // credits, summed over conversions
  double revenue_cents = 0; // credits times each conversion's amount
};

struct AttributionResult {
  std::vector<AttributionRow> rows; // most credit first, then by key
  std::int64_t conversions = 0;
  std::int64_t revenue_cents = 0;
};

// Credits each conversion (an event of [journey].conversion) to the events
// of the same contact in the `window` before it (strictly before, other
// conversions aside), by the model: last or first touch 1; linear 1/n each;
// time_decay 2^(-age / 7 days) normalised; position 40% first, 40% last,
// 20% shared by those between (one touch: 1, two: 1/2 each). One
// conversion's credits sum to 1 (and to its revenue); a conversion with no
// touch before it credits "(none)".
AttributionResult journey_attribution(Database& db, const JourneySettings& journey,
                                      const AttributionQuery& query);

} // namespace crm
