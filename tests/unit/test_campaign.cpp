#include "exit_of.hpp"
#include "temp_dir.hpp"

#include <crm/campaign.hpp>
#include <crm/consent.hpp>
#include <crm/database.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace crm;

namespace {

Campaign weekly(std::string schedule) {
  Campaign c;
  c.name = "winback";
  c.channel = "email";
  c.purpose = "newsletter";
  c.schedule = std::move(schedule);
  return c;
}

TimePoint at(const char* text) { return *parse_time(text); }

} // namespace

TEST_CASE("the default run id is the campaign and the period of its schedule") {
  CHECK(default_run_id(weekly("once"), at("2026-11-22T09:30:00Z")) == "winback");
  CHECK(default_run_id(weekly("daily"), at("2026-11-22T23:59:59Z")) == "winback-2026-11-22");
  CHECK(default_run_id(weekly("monthly"), at("2026-11-22T09:30:00Z")) == "winback-2026-11");
  CHECK(default_run_id(weekly("weekly"), at("2026-11-22T09:30:00Z")) == "winback-2026-W47");
  // ISO weeks belong to the year of their Thursday.
  CHECK(default_run_id(weekly("weekly"), at("2027-01-01T00:00:00Z")) == "winback-2026-W53");
  CHECK(default_run_id(weekly("weekly"), at("2025-12-29T00:00:00Z")) == "winback-2026-W01");
  CHECK(default_run_id(weekly("weekly"), at("2026-11-23T00:00:00Z")) == "winback-2026-W48");
}

TEST_CASE("the holdout share is within 1 point of the configured share on 100k contacts") {
  for (double share : {0.10, 0.25}) {
    int in = 0;
    for (std::int64_t id = 1; id <= 100000; ++id)
      in += holdout_draw("winback", id) < share ? 1 : 0;
    CHECK(std::abs(in / 100000.0 - share) < 0.01);
  }
  CHECK(holdout_draw("winback", 42) == holdout_draw("winback", 42));
  CHECK(holdout_draw("winback", 42) != holdout_draw("spring", 42));
}

TEST_CASE("the draw is SHA3-256 of \"campaign\\ncontact id\", 13 hex digits over 2^52") {
  // sqlite3: substr(hex(sha3('winback' || char(10) || 42, 256)), 1, 13)
  // is 2666617CFE173 (crm-campaign(1) documents the formula).
  CHECK(holdout_draw("winback", 42) == 0x2666617cfe173 / 4503599627370496.0);
}

TEST_CASE("select never returns a contact without a current consent (random histories)") {
  TempDir dir;
  Database db{dir / "crm.db", 1000, Create::yes};
  Purpose newsletter;
  newsletter.name = "newsletter";
  newsletter.channels = {"email", "sms"};
  newsletter.valid_for = Duration{6, Duration::Unit::months};
  const TimePoint now = at("2026-11-22T09:30:00Z");
  WriteContext ctx;
  ctx.now = now;
  std::mt19937 rng(7);
  const char* actions[] = {"grant", "withdraw", "object", "grant"};
  const char* channels[] = {"email", "sms"};
  db.write([&] {
    SQLite::Statement add(db.sql(), "INSERT INTO contact (email, email_norm, created_at, "
                                    "updated_at) VALUES (?, ?, ?, ?)");
    for (int i = 1; i <= 300; ++i) {
      const std::string email = "p" + std::to_string(i) + "@example.com";
      add.bind(1, email);
      add.bind(2, email);
      add.bind(3, "2026-01-01T00:00:00Z");
      add.bind(4, "2026-01-01T00:00:00Z");
      add.exec();
      add.reset();
      const int entries = static_cast<int>(rng() % 5);
      for (int e = 0; e < entries; ++e) {
        ConsentChange change;
        change.action = actions[rng() % 4];
        if (change.action != "object" || rng() % 2 == 0)
          change.purpose = "newsletter";
        if (change.purpose && rng() % 3 != 0)
          change.channel = channels[rng() % 2];
        // Some in the future of `now`, some older than valid_for.
        change.at =
            now - std::chrono::hours(static_cast<int>(rng() % 9000)) + std::chrono::hours(200);
        append_consent_entry(db, i, change, std::nullopt, ctx);
      }
    }
  });
  Campaign c = weekly("weekly");
  c.holdout = 0.2;
  SelectOptions options;
  options.consent = consent_allowed_sql(newsletter, std::string("email"), now);
  const Selection s = select_campaign(db, c, options, ctx);
  std::set<std::int64_t> chosen;
  for (const auto& m : s.members) {
    chosen.insert(m.contact_id);
    CHECK_MESSAGE(consent_allowed(db, newsletter, std::string("email"), m.contact_id, now),
                  "member without consent: ", m.contact_id);
  }
  std::int64_t allowed = 0;
  for (std::int64_t id = 1; id <= 300; ++id)
    allowed += consent_allowed(db, newsletter, std::string("email"), id, now) ? 1 : 0;
  CHECK(static_cast<std::int64_t>(chosen.size()) == allowed);
  CHECK(allowed > 20);

  // A retried run returns identical members and records nothing.
  const Selection again = select_campaign(db, c, options, ctx);
  CHECK(again.existing);
  REQUIRE(again.members.size() == s.members.size());
  for (std::size_t i = 0; i < s.members.size(); ++i) {
    CHECK(again.members[i].contact_id == s.members[i].contact_id);
    CHECK(again.members[i].holdout == s.members[i].holdout);
  }
  SQLite::Statement runs(db.sql(), "SELECT count(*) FROM campaign_run");
  runs.executeStep();
  CHECK(runs.getColumn(0).getInt() == 1);
}

namespace {

// A database with `n` contacts who all may be mailed, and one recorded run
// of `c` at 2026-11-22T09:30:00Z.
struct RunFixture {
  TempDir dir;
  Database db{dir / "crm.db", 1000, Create::yes};
  ResponseSettings settings;
  WriteContext ctx;
  Selection run;

  RunFixture(const Campaign& c, int n) {
    Purpose newsletter;
    newsletter.name = "newsletter";
    newsletter.channels = {"email"};
    settings.purposes = {newsletter};
    settings.campaigns = {c};
    settings.journey.conversion = "purchase";
    ctx.now = at("2026-11-22T09:30:00Z");
    db.write([&] {
      SQLite::Statement add(db.sql(), "INSERT INTO contact (email, email_norm, created_at, "
                                      "updated_at) VALUES (?, ?, ?, ?)");
      for (int i = 1; i <= n; ++i) {
        const std::string email = "p" + std::to_string(i) + "@example.com";
        add.bind(1, email);
        add.bind(2, email);
        add.bind(3, "2026-01-01T00:00:00Z");
        add.bind(4, "2026-01-01T00:00:00Z");
        add.exec();
        add.reset();
        ConsentChange grant;
        grant.action = "grant";
        grant.purpose = "newsletter";
        grant.channel = "email";
        grant.at = at("2026-01-01T00:00:00Z");
        append_consent_entry(db, i, grant, std::nullopt, ctx);
      }
    });
    SelectOptions options;
    options.consent = consent_allowed_sql(newsletter, std::string("email"), ctx.now);
    run = select_campaign(db, c, options, ctx);
  }

  std::int64_t count(const char* sql) { return db.sql().execAndGet(sql).getInt64(); }

  std::int64_t member(bool holdout) const {
    for (const auto& m : run.members)
      if (m.holdout == holdout)
        return m.contact_id;
    return 0;
  }
};

} // namespace

TEST_CASE("a response is recorded once, with its journey event") {
  Campaign c = weekly("weekly");
  c.holdout = 0.3;
  RunFixture f(c, 40);
  Response r;
  r.contact_id = f.member(false);
  r.type = ResponseType::opened;
  r.at = at("2026-11-22T10:00:00Z");
  const auto first = record_response(f.db, f.settings, c, r, f.ctx);
  CHECK(first.recorded);
  CHECK(first.run_id == "winback-2026-W47");
  const auto again = record_response(f.db, f.settings, c, r, f.ctx);
  CHECK_FALSE(again.recorded);
  CHECK(f.count("SELECT count(*) FROM campaign_response") == 1);
  CHECK(f.count("SELECT count(*) FROM event WHERE touchpoint = 'email_opened' "
                "AND campaign = 'winback'") == 1);
}

TEST_CASE("a response of a non-member is 2, of a holdout member 65, and changes nothing") {
  Campaign c = weekly("weekly");
  c.holdout = 0.3;
  RunFixture f(c, 40);
  Response r;
  r.type = ResponseType::clicked;
  r.at = at("2026-11-22T10:00:00Z");
  r.contact_id = 41; // no such member
  auto respond = [&] { record_response(f.db, f.settings, c, r, f.ctx); };
  CHECK(exit_of(respond) == Exit::not_found);
  r.contact_id = f.member(true);
  REQUIRE(r.contact_id != 0);
  CHECK(exit_of(respond) == Exit::data);
  r.contact_id = f.member(false);
  r.run_id = "winback-1999-W01";
  CHECK(exit_of(respond) == Exit::not_found);
  r.run_id.reset();
  r.type = ResponseType::opened;
  r.amount = 100;
  CHECK(exit_of(respond) == Exit::data);
  CHECK(f.count("SELECT count(*) FROM campaign_response") == 0);
  CHECK(f.count("SELECT count(*) FROM event") == 0);
}

TEST_CASE("unsubscribed withdraws the consent and bounced_hard marks the address") {
  Campaign c = weekly("weekly");
  RunFixture f(c, 10);
  Response r;
  r.contact_id = 3;
  r.type = ResponseType::unsubscribed;
  r.at = at("2026-11-22T11:00:00Z");
  record_response(f.db, f.settings, c, r, f.ctx);
  CHECK_FALSE(consent_allowed(f.db, f.settings.purposes[0], std::string("email"), 3,
                              at("2026-11-23T00:00:00Z")));
  CHECK(f.count("SELECT count(*) FROM consent WHERE contact_id = 3 AND action = 'withdraw' "
                "AND source = 'campaign winback'") == 1);
  std::int64_t entries = 0;
  CHECK(verify_consent_ledger(f.db, entries).empty());
  r.contact_id = 4;
  r.type = ResponseType::bounced_hard;
  record_response(f.db, f.settings, c, r, f.ctx);
  CHECK(f.count("SELECT count(*) FROM undeliverable WHERE contact_id = 4 AND channel = 'email'") ==
        1);
}

TEST_CASE("the report's uplift is the Wald interval of the two conversion rates") {
  Campaign c = weekly("weekly");
  c.holdout = 0.5;
  RunFixture f(c, 200);
  std::vector<std::int64_t> treated, control;
  for (const auto& m : f.run.members)
    (m.holdout ? control : treated).push_back(m.contact_id);
  REQUIRE(treated.size() > 20);
  REQUIRE(control.size() > 20);
  // 10 treated and 5 control contacts buy within the window, one more
  // treated contact after it.
  f.db.write([&] {
    SQLite::Statement buy(f.db.sql(), "INSERT INTO event (contact_id, touchpoint, at, amount) "
                                      "VALUES (?, 'purchase', ?, 1000)");
    auto log = [&](std::int64_t id, const char* when) {
      buy.bind(1, id);
      buy.bind(2, when);
      buy.exec();
      buy.reset();
    };
    for (int i = 0; i < 10; ++i)
      log(treated[static_cast<std::size_t>(i)], "2026-11-25T00:00:00Z");
    for (int i = 0; i < 5; ++i)
      log(control[static_cast<std::size_t>(i)], "2026-11-25T00:00:00Z");
    log(treated[10], "2027-01-25T00:00:00Z");
  });
  ReportOptions options;
  options.window = Duration{30, Duration::Unit::days};
  options.conversion = "purchase";
  const auto reports = campaign_report(f.db, c, options);
  REQUIRE(reports.size() == 1);
  const RunReport& r = reports[0];
  const double n1 = static_cast<double>(treated.size()), n0 = static_cast<double>(control.size());
  const double p1 = 10 / n1, p0 = 5 / n0;
  const double se = std::sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0);
  CHECK(r.conversions == 10);
  CHECK(r.holdout_conversions == 5);
  CHECK(r.revenue == 10000);
  CHECK(*r.uplift == doctest::Approx(100 * (p1 - p0)));
  CHECK(*r.uplift_low == doctest::Approx(100 * (p1 - p0 - 1.959963984540054 * se)));
  CHECK(*r.uplift_high == doctest::Approx(100 * (p1 - p0 + 1.959963984540054 * se)));
}

TEST_CASE("plan gives each contact the one highest-priority campaign and records nothing") {
  Campaign low = weekly("weekly");
  low.name = "low";
  low.priority = 1;
  Campaign high = weekly("weekly");
  high.name = "high";
  high.priority = 9;
  high.limit = 5;
  RunFixture f(low, 20);
  const auto runs_before = f.count("SELECT count(*) FROM campaign_run");
  Purpose newsletter = f.settings.purposes[0];
  // The next week: the first run of `low` no longer counts against pressure.
  const TimePoint next = at("2026-11-30T09:30:00Z");
  WriteContext ctx = f.ctx;
  ctx.now = next;
  std::vector<PlanCampaign> plan(2);
  plan[0].campaign = &low;
  plan[1].campaign = &high;
  for (auto& p : plan) {
    p.options.consent = consent_allowed_sql(newsletter, std::string("email"), next);
    p.options.pressure = Rate{1, Duration{7, Duration::Unit::days}};
  }
  const auto rows = campaign_plan(f.db, plan, ctx);
  CHECK(rows.size() == 20);
  std::set<std::int64_t> seen;
  int to_high = 0;
  for (const auto& r : rows) {
    CHECK(seen.insert(r.contact_id).second);
    to_high += r.campaign == "high" ? 1 : 0;
  }
  CHECK(to_high == 5);
  CHECK(f.count("SELECT count(*) FROM campaign_run") == runs_before);
}
