#pragma once
// Campaigns (SPEC.md section 6 "campaign"): definitions from the config,
// audience selection with consent, caps, pressure and a deterministic
// holdout, and the recorded runs and memberships.

#include <crm/clock.hpp>
#include <crm/config.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>
#include <crm/import.hpp>

#include <cstdint>
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
// [0, 1) from SHA-256 of campaign name and contact id, the same in every run.
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

} // namespace crm
