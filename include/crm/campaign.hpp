#pragma once
// Campaigns (SPEC.md section 6 "campaign"): definitions from the config,
// audience selection with consent, caps, pressure and a deterministic
// holdout, and the recorded runs and memberships.

#include <crm/clock.hpp>
#include <crm/config.hpp>
#include <crm/consent.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>
#include <crm/import.hpp>
#include <crm/readers.hpp>
#include <crm/rejects.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

// A campaign of [campaigns.NAME].
struct Campaign {
  std::string name;
  std::string channel, purpose;
  std::optional<std::string> segment; // a filter expression; nullopt: every contact
  std::optional<Rate> cap;            // memberships of this campaign per window
  double holdout = 0.0;               // share kept as control, 0 <= h < 1
  std::int64_t priority = 0;
  std::string schedule = "once"; // once, daily, weekly, monthly
  std::optional<std::int64_t> limit;
  std::vector<std::string> variants;
  std::optional<std::string> description;
};

// The campaigns of the config, by name.
std::vector<Campaign> campaigns(const Config& config);

// [pressure].max; nullopt if unset (no global cap).
std::optional<Rate> pressure_cap(const Config& config);

// The campaign called `name`; Error(Exit::not_found) naming the known ones.
const Campaign& find_campaign(std::span<const Campaign> all, std::string_view name);

// The default run id: the name plus the period of the schedule at `now`
// (once: NAME; daily: NAME-2026-11-22; weekly: NAME-2026-W47, ISO week,
// UTC; monthly: NAME-2026-11).
std::string default_run_id(const Campaign& campaign, TimePoint now);

// Where a contact falls in the holdout and variant split: a number in
// [0, 1) from SHA3-256 of "CAMPAIGN\nCONTACT_ID" (its first 13 hex digits
// over 2^52), the same in every run.
double holdout_draw(std::string_view campaign, std::int64_t contact_id);

struct SelectOptions {
  std::optional<std::string> run_id; // default: default_run_id
  std::optional<std::int64_t> limit; // overrides the campaign's limit
  DryRun dry_run = DryRun::no;       // decide, record nothing
  SqlFilter segment;                 // the compiled segment; empty sql: every contact
  SqlFilter consent;                 // consent_allowed_sql of purpose and channel at now
  std::optional<Rate> pressure;
};

struct Member {
  std::int64_t contact_id = 0;
  std::optional<std::string> address; // email or phone, by the channel
  std::optional<std::string> first_name, last_name;
  std::optional<std::string> variant; // "control" for the holdout
  bool holdout = false;
};

// A contact the segment matched that the run left out, and why: no
// consent, capped, pressure, holdout, limit, suppressed or undeliverable.
struct LeftOut {
  std::int64_t contact_id = 0;
  std::string reason;
};

struct Selection {
  std::string run_id;
  bool existing = false;         // the run was recorded before: same members, nothing new
  std::vector<Member> members;   // sent-to members, then the holdout, each in hash order
  std::vector<LeftOut> left_out; // empty for an existing run
};

// Selects the audience of `campaign` at ctx.now (SPEC.md section 6): the
// segment, with a current consent, not suppressed or undeliverable on the
// channel, within the campaign's cap and the pressure cap, split into
// holdout and members by holdout_draw, members cut to the limit in draw
// order. Unless a dry run, records the run, its members (holdout too) and
// a history entry per member in one write transaction; a run id recorded
// before returns its members and records nothing. Throws Error(temp_fail)
// when another process holds the database past the busy timeout.
Selection select_campaign(Database& db, const Campaign& campaign, const SelectOptions& options,
                          const WriteContext& ctx);

struct CampaignRun {
  std::int64_t id = 0;
  std::string campaign, run_id, at;
  std::int64_t members = 0, holdout = 0;
};

// The recorded runs of `campaign` (all campaigns if empty), oldest first.
std::vector<CampaignRun> campaign_runs(Database& db, std::string_view campaign);

// --- responses (crm campaign respond, import-responses) -----------------

// What a contact did with a campaign's message.
enum class ResponseType {
  delivered,
  bounced_hard,
  bounced_soft,
  opened,
  clicked,
  converted,
  unsubscribed
};

// The type called `name` ("opened"); nullopt if there is none.
std::optional<ResponseType> parse_response_type(std::string_view name);
std::string_view response_type_name(ResponseType type);

// What recording responses needs from the config.
struct ResponseSettings {
  std::vector<Campaign> campaigns;
  std::vector<Purpose> purposes;
  JourneySettings journey;
};

struct Response {
  std::int64_t contact_id = 0;
  ResponseType type = ResponseType::delivered;
  std::optional<std::string> run_id;  // nullopt: the latest run the contact is a member of
  std::optional<std::int64_t> amount; // cents; converted only
  TimePoint at{};
};

struct ResponseResult {
  std::string run_id;
  bool recorded = false; // false: the same response was recorded before, nothing changed
};

// Records `response` to `campaign` in one write transaction: the response
// row, a history entry, the journey event (touchpoint CHANNEL_TYPE, or the
// conversion touchpoint for converted) and, for unsubscribed, a withdrawal
// of the campaign's purpose and channel in the consent ledger (source
// "campaign NAME"), for bounced_hard an undeliverable mark on the channel.
// The same response (run, contact, type, time) again changes nothing.
// Throws Error(Exit::not_found) for an unknown run or a contact that is not
// a member of the run (or of any run), Error(Exit::data) for a holdout
// member (it was sent nothing) or an amount on a type other than converted.
ResponseResult record_response(Database& db, const ResponseSettings& settings,
                               const Campaign& campaign, const Response& response,
                               const WriteContext& ctx);

struct ResponseImportOptions {
  std::vector<std::pair<std::string, std::string>> map; // "Source Column" -> field
  DryRun dry_run = DryRun::no;
  std::size_t batch = 0; // rows per transaction; 0: the whole input
  std::optional<std::size_t> max_rejects;
};

struct ResponseImportSummary {
  std::size_t inserted = 0;
  std::size_t unchanged = 0; // recorded before
  std::size_t rejected = 0;
};

// Imports responses from `reader`. Columns: campaign, type and at are
// required; contact_id (or id), external_id or email name the contact; run
// (a run id) and amount are optional. Every row is checked against the
// database first, as record_response would (an unknown campaign, contact or
// run, a non-member, a bad type, time or amount rejects the row), and kept
// in memory (a few dozen bytes a row); only if the rejects stay within
// max_rejects are the rows written, `batch` rows per transaction, so that
// too many rejects leave everything as it was (Error(Exit::data)). A
// response recorded before counts as unchanged.
ResponseImportSummary import_responses(Database& db, RecordReader& reader,
                                       const ResponseImportOptions& options,
                                       const ResponseSettings& settings, const WriteContext& ctx,
                                       RejectSink& rejects,
                                       const std::function<void(std::size_t)>& progress);

// --- crm campaign report -------------------------------------------------

struct ReportOptions {
  std::optional<std::string> run_id; // nullopt: every run of the campaign
  Duration window{};                 // conversions within this long after the run
  std::string conversion;            // the conversion touchpoint
};

// One run's results. Rates are shares (0-1) of the treated members (those
// sent to); conversions of both groups are contacts with an event of the
// conversion touchpoint in (run time, run time + window]; revenue is the
// sum of those events' amounts for treated members (cents). The uplift is
// in percentage points, treated minus holdout conversion rate, with a 95%
// Wald interval; nullopt where a group is empty.
struct RunReport {
  std::string run_id, at;
  std::int64_t audience = 0, members = 0, holdout = 0;
  std::int64_t delivered = 0, bounced = 0, opened = 0, clicked = 0, unsubscribed = 0;
  std::int64_t conversions = 0, holdout_conversions = 0;
  std::int64_t revenue = 0; // cents
  std::optional<double> delivered_rate, open_rate, click_rate, conversion_rate,
      holdout_conversion_rate, uplift, uplift_low, uplift_high;
};

// The report of each run of `campaign` (or of options.run_id), oldest
// first. Throws Error(Exit::not_found) for an unknown run id.
std::vector<RunReport> campaign_report(Database& db, const Campaign& campaign,
                                       const ReportOptions& options);

// --- crm campaign plan -----------------------------------------------------

struct PlanCampaign {
  const Campaign* campaign = nullptr;
  SelectOptions options; // as for select_campaign (a dry run)
};

struct PlanRow {
  std::int64_t contact_id = 0;
  std::string campaign;
  std::int64_t priority = 0;
};

// Next best action: each contact that some campaign of `plan` would send to
// now (as a dry-run select decides: consent, caps, pressure, limit, not in
// that campaign's holdout) gets the one with the highest priority (ties: by
// name). Records nothing. Rows in contact id order.
std::vector<PlanRow> campaign_plan(Database& db, std::span<const PlanCampaign> plan,
                                   const WriteContext& ctx);

} // namespace crm
