#include "temp_dir.hpp"

#include <crm/campaign.hpp>
#include <crm/consent.hpp>
#include <crm/database.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

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
