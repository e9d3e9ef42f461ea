#include "exit_of.hpp"
#include "temp_dir.hpp"

#include <crm/config.hpp>
#include <crm/consent.hpp>
#include <crm/database.hpp>
#include <crm/error.hpp>
#include <crm/score.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/core.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace crm;

namespace {

const TimePoint k_now = *parse_time("2026-11-22T09:30:00Z");

// A database of `n` contacts, with a config written from `toml`.
struct Fixture {
  TempDir dir;
  Database db{dir / "crm.db", 1000, Create::yes};
  Config config;

  explicit Fixture(int n, std::string_view toml = "") {
    std::ofstream(dir / "crm.toml") << toml;
    config = Config::load({dir / "crm.toml", true});
    for (int i = 1; i <= n; ++i) {
      SQLite::Statement q(db.sql(), "INSERT INTO contact (id, email, email_norm, first_name, "
                                    "country, created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
                                    "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')");
      const std::string email = "c" + std::to_string(i) + "@example.com";
      q.bind(1, i);
      q.bind(2, email);
      q.bind(3, email);
      q.bind(4, "C" + std::to_string(i));
      q.bind(5, i % 2 == 0 ? "DE" : "FR");
      q.exec();
    }
  }

  void event(int contact, std::string_view touchpoint, std::string_view at,
             std::optional<std::int64_t> amount = std::nullopt,
             std::optional<int> rating = std::nullopt) {
    SQLite::Statement q(db.sql(), "INSERT INTO event (contact_id, touchpoint, at, amount, rating) "
                                  "VALUES (?, ?, ?, ?, ?)");
    q.bind(1, contact);
    q.bind(2, std::string(touchpoint));
    q.bind(3, std::string(at));
    if (amount)
      q.bind(4, *amount);
    if (rating)
      q.bind(5, *rating);
    q.exec();
  }

  // The ledger is the real one (migration 7); entries go in as crm writes them.
  void consent_table() {}

  void consent(int contact, std::string_view purpose, std::string_view action,
               std::string_view at) {
    ConsentChange change;
    change.action = std::string(action);
    change.purpose = std::string(purpose);
    change.at = parse_time(at);
    change.proof = "test";
    WriteContext ctx;
    ctx.now = k_now;
    db.write([&] { append_consent_entry(db, contact, change, std::nullopt, ctx); });
  }

  std::vector<ScoreRunSummary> run(std::vector<std::string> models, TimePoint now = k_now) {
    return run_scores(db, config, models, now);
  }

  std::map<std::int64_t, Score> scores(std::string_view model) {
    std::map<std::int64_t, Score> out;
    list_scores(db, model, std::nullopt, std::nullopt,
                [&](const Score& s) { out.emplace(s.contact_id, s); });
    return out;
  }

  Explanation explain(std::int64_t id, std::string model) {
    auto all = explain_scores(db, config, id, model, k_now);
    REQUIRE(all.size() == 1);
    return all.front();
  }
};

Hundredths sum(const std::vector<ScorePart>& parts) {
  Hundredths total = 0;
  for (const auto& p : parts)
    total += p.points;
  return total;
}

} // namespace

TEST_CASE("rfm ranks customers into quintiles, ties to the lower id first, with segments") {
  Fixture f(11);
  // Ten customers: contact i bought i times for 10 EUR x i each, the last time in month i;
  // contact 11 never bought.
  for (int i = 1; i <= 10; ++i) {
    for (int k = 0; k < i; ++k)
      f.event(i, "purchase", fmt::format("2026-{:02}-{:02}T10:00:00Z", 1 + k, 10 + i), 1000 * i);
  }
  f.run({"rfm"});
  const auto s = f.scores("rfm");
  CHECK(s.size() == 10);
  CHECK(s.count(11) == 0);
  // Frequency: 10 purchases is best (5), 1 the worst (1): two per quintile.
  CHECK(s.at(10).value == 55500);
  CHECK(s.at(10).label == "champions");
  CHECK(s.at(1).value == 11100);
  CHECK(s.at(1).label == "hibernating");
  CHECK(s.at(5).value == 33300);
  CHECK(s.at(5).label == "need_attention");
  for (const auto& [id, score] : s) {
    const Explanation e = f.explain(id, "rfm");
    REQUIRE(e.score);
    CHECK(e.parts.size() == 3);
    CHECK(sum(e.parts) == score.value);
  }
  const Explanation e = f.explain(10, "rfm");
  CHECK(e.parts[0].reason ==
        "recency 5 of 5 (x100): the last purchase was on 2026-10-20, 32 days before 2026-11-22");
  CHECK(e.parts[1].reason == "frequency 5 of 5 (x10): 10 purchases in the 365d up to 2026-11-22");
  CHECK(e.parts[2].reason ==
        "monetary 5 of 5 (x1): 1000.00 EUR spent in the 365d up to 2026-11-22");
  CHECK(f.explain(11, "rfm").note ==
        "not scored: no 'purchase' event (a purchase) up to the last run");
}

TEST_CASE("rfm ties: equal customers are ranked by id, the lower first and into the better "
          "quintile") {
  Fixture f(7);
  for (int i = 1; i <= 7; ++i)
    f.event(i, "purchase", "2026-11-01T00:00:00Z", 500);
  f.run({"rfm"});
  const auto s = f.scores("rfm");
  // NTILE(5) over 7 rows: 2, 2, 1, 1, 1; the best group first.
  CHECK(s.at(1).value == 55500);
  CHECK(s.at(2).value == 55500);
  CHECK(s.at(3).value == 44400);
  CHECK(s.at(5).value == 33300);
  CHECK(s.at(6).value == 22200);
  CHECK(s.at(7).value == 11100);
}

TEST_CASE("rfm segments follow the config's override; a cell named twice is a config error") {
  Fixture f(1, "[score.rfm.segments]\nstars = [\"5 5\"]\n");
  f.event(1, "purchase", "2026-11-01T00:00:00Z", 500);
  f.run({"rfm"});
  CHECK(f.scores("rfm").at(1).label == "stars");

  Fixture g(1, "[score.rfm.segments]\nstars = [\"5 5\"]\nmoons = [\"5 5\"]\n");
  g.event(1, "purchase", "2026-11-01T00:00:00Z", 500);
  CHECK(exit_of([&] { g.run({"rfm"}); }) == Exit::config);
}

TEST_CASE("abc classes by cumulative revenue share; the customer crossing a threshold keeps the "
          "better class") {
  Fixture f(5, "[score.abc]\na = 0.5\nb = 0.9\n");
  f.event(1, "purchase", "2026-11-01T00:00:00Z", 6000);
  f.event(2, "purchase", "2026-11-01T00:00:00Z", 3000);
  f.event(3, "purchase", "2026-11-01T00:00:00Z", 500);
  f.event(4, "purchase", "2026-11-01T00:00:00Z", 500);
  f.event(5, "purchase", "2024-11-01T00:00:00Z", 99999); // outside the window: revenue 0
  f.run({"abc"});
  const auto s = f.scores("abc");
  CHECK(s.at(1).label == "A"); // 0% before
  CHECK(s.at(2).label == "B"); // 60% before
  CHECK(s.at(3).label == "C"); // 90% before
  CHECK(s.at(4).label == "C");
  CHECK(s.at(5).label == "C");
  CHECK(s.at(1).value == 6000);
  CHECK(s.at(5).value == 0);
  const Explanation e = f.explain(2, "abc");
  CHECK(e.parts.at(0).reason ==
        "revenue of 30.00 EUR in the 365d up to 2026-11-22: rank 2 of 5 customers by revenue; "
        "those ranked before hold 60.0% of all 100.00 EUR, so class B (A below 50%, B below 90%, "
        "else C)");
}

TEST_CASE("lead adds rule points, fades events by half-life, caps them, and the parts add up") {
  Fixture f(3, R"(
[[score.lead.rules]]
when = 'country = "DE"'
points = 10
description = "based in Germany"
[[score.lead.rules]]
event = "email_click"
points = 3
half_life = "30d"
within = "90d"
[[score.lead.rules]]
event = "page_view"
points = 2
cap = 5
)");
  f.event(2, "email_click", "2026-11-22T09:30:00Z"); // now: 3
  f.event(2, "email_click", "2026-10-23T09:30:00Z"); // 30 days: 1.5
  f.event(2, "email_click", "2026-09-23T09:30:00Z"); // 60 days: 0.75
  f.event(2, "email_click", "2026-01-01T09:30:00Z"); // outside 90d
  for (int d = 1; d <= 4; ++d)
    f.event(1, "page_view", fmt::format("2026-11-0{}T00:00:00Z", d));
  f.run({"lead"});
  const auto s = f.scores("lead");
  CHECK(s.size() == 3);
  CHECK(s.at(1).value == 500);        // 4 x 2 = 8, capped at 5
  CHECK(s.at(2).value == 1000 + 525); // Germany + 5.25
  CHECK(s.at(3).value == 0);
  const Explanation e = f.explain(2, "lead");
  REQUIRE(e.parts.size() == 2);
  CHECK(e.parts[0].reason == "based in Germany: matches 'country = \"DE\"' (10 points)");
  CHECK(e.parts[1].reason == "3 'email_click' events in the last 90d (3 points each, half-life "
                             "30d: 9 points fade to 5.25, rule 2)");
  CHECK(sum(e.parts) == s.at(2).value);
  CHECK(f.explain(1, "lead").parts.at(0).reason ==
        "4 'page_view' events so far (2 points each, capped at 5, rule 3)");
}

TEST_CASE("lead: a rule whose filter does not compile is a config error naming the rule") {
  Fixture f(1, "[[score.lead.rules]]\nwhen = 'country = '\npoints = 1\n");
  try {
    f.run({"lead"});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::config);
    CHECK(std::string(e.what()).starts_with("score.lead.rules[0].when: bad filter expression:"));
  }
}

TEST_CASE("nps takes the latest rating; the overall NPS is promoters minus detractors") {
  Fixture f(4);
  f.event(1, "survey", "2026-01-01T00:00:00Z", std::nullopt, 3);
  f.event(1, "survey", "2026-06-01T00:00:00Z", std::nullopt, 10);
  f.event(2, "survey", "2026-06-01T00:00:00Z", std::nullopt, 8);
  f.event(3, "support_ticket", "2026-06-01T00:00:00Z", std::nullopt, 2);
  f.event(4, "survey", "2026-12-01T00:00:00Z", std::nullopt, 10); // after now
  f.run({"nps"});
  const auto s = f.scores("nps");
  CHECK(s.size() == 3);
  CHECK(s.at(1).value == 1000);
  CHECK(s.at(1).label == "promoter");
  CHECK(s.at(2).label == "passive");
  CHECK(s.at(3).label == "detractor");
  const auto o = overall_nps(f.db);
  REQUIRE(o);
  CHECK(o->promoters == 1);
  CHECK(o->detractors == 1);
  CHECK(o->nps == 0);
  CHECK(f.explain(1, "nps").parts.at(0).reason ==
        "latest rating 10 of 10, given on 2026-06-01 (survey); 9-10 is a promoter");
}

TEST_CASE("churn: 1 - exp(-silence/gap) from the customer's own rhythm, else the median") {
  Fixture f(3);
  // Every 10 days, last one 10 days ago: 1 - e^-1 = 0.63.
  for (const char* at : {"2026-10-23T09:30:00Z", "2026-11-02T09:30:00Z", "2026-11-12T09:30:00Z"})
    f.event(1, "purchase", at, 100);
  // Every 100 days, last one 10 days ago: 1 - e^-0.1 = 0.10.
  f.event(2, "purchase", "2026-08-04T09:30:00Z", 100);
  f.event(2, "purchase", "2026-11-12T09:30:00Z", 100);
  // One purchase 110 days ago; the median gap of (10, 100) is 55: 1 - e^-2 = 0.86.
  f.event(3, "purchase", "2026-08-04T09:30:00Z", 100);
  f.run({"churn"});
  const auto s = f.scores("churn");
  CHECK(s.at(1).value == 63);
  CHECK(s.at(1).label == "at_risk");
  CHECK(s.at(2).value == 10);
  CHECK(s.at(2).label == "active");
  CHECK(s.at(3).value == 86);
  CHECK(s.at(3).label == "lapsed");
  const Explanation e = f.explain(1, "churn");
  CHECK(e.parts.at(0).reason ==
        "3 purchases ever between 2026-10-23 and 2026-11-12, one every 10.0 days on average; none "
        "in the 10 days since: a customer buying at that rate goes that long without a purchase "
        "with probability exp(-10.0/10.0) = 0.37, so the probability of having lapsed is 0.63 "
        "(at_risk)");
}

TEST_CASE("a run replaces the model's scores; --now sees no later events") {
  Fixture f(2);
  f.event(1, "purchase", "2026-03-01T00:00:00Z", 100);
  f.event(2, "purchase", "2026-06-01T00:00:00Z", 100);
  f.run({"rfm"}, *parse_time("2026-04-01"));
  CHECK(f.scores("rfm").size() == 1);
  CHECK(f.scores("rfm").at(1).at == "2026-04-01T00:00:00Z");
  f.run({"rfm"});
  CHECK(f.scores("rfm").size() == 2);
  CHECK(f.db.sql().execAndGet("SELECT count(*) FROM score_part WHERE model = 'rfm'").getInt() == 6);
}

TEST_CASE("an unknown model is exit 2 and changes nothing") {
  Fixture f(1);
  CHECK(exit_of([&] { f.run({"rfm", "ltv"}); }) == Exit::not_found);
  CHECK(f.db.sql().execAndGet("SELECT count(*) FROM score").getInt() == 0);
  CHECK(exit_of([&] { explain_scores(f.db, f.config, 1, std::string("ltv"), k_now); }) ==
        Exit::not_found);
}

TEST_CASE("profiling gate: without ledger entries and requires_consent everyone is scored") {
  Fixture f(2, "[consent.purposes.profiling]\nchannels = []\n");
  CHECK(profiling_refusals(f.db, "", k_now).empty());
  f.event(1, "purchase", "2026-11-01T00:00:00Z", 100);
  f.run({"rfm"});
  CHECK(f.scores("rfm").size() == 1);
}

TEST_CASE("profiling gate: an objection keeps a contact from being scored, and explain says so") {
  Fixture f(3);
  f.consent_table();
  f.consent(1, "profiling", "grant", "2026-01-01T00:00:00Z");
  f.consent(1, "profiling", "object", "2026-02-01T00:00:00Z");
  f.consent(2, "profiling", "object", "2026-01-01T00:00:00Z");
  f.consent(2, "profiling", "grant", "2026-03-01T00:00:00Z");  // lifted
  f.consent(3, "profiling", "object", "2026-12-01T00:00:00Z"); // after now
  const auto refused = profiling_refusals(f.db, "", k_now);
  REQUIRE(refused.size() == 1);
  CHECK(refused.at(1) == "objected to profiling on 2026-02-01T00:00:00Z");
  for (int i = 1; i <= 3; ++i)
    f.event(i, "purchase", "2026-11-01T00:00:00Z", 100);
  const auto summary = f.run({"rfm", "lead"});
  CHECK(summary.at(0).scored == 2);
  CHECK(summary.at(0).not_scored == 1);
  CHECK(f.scores("rfm").count(1) == 0);
  CHECK(f.scores("lead").count(1) == 0);
  CHECK(f.scores("lead").size() == 2);
  const Explanation e = f.explain(1, "rfm");
  CHECK_FALSE(e.score);
  CHECK(e.note == "not scored: objected to profiling on 2026-02-01T00:00:00Z");
}

TEST_CASE("profiling gate: a required consent must be granted or confirmed as the latest entry") {
  Fixture f(5, "[consent.purposes.profiling]\nchannels = []\n[score]\nrequires_consent = "
               "\"profiling\"\n");
  f.consent_table();
  f.consent(1, "profiling", "grant", "2026-01-01T00:00:00Z");
  f.consent(2, "profiling", "request", "2026-01-01T00:00:00Z");
  f.consent(2, "profiling", "confirm", "2026-01-02T00:00:00Z");
  f.consent(3, "profiling", "grant", "2026-01-01T00:00:00Z");
  f.consent(3, "profiling", "withdraw", "2026-01-01T00:00:00Z"); // same time: ledger order
  f.consent(4, "profiling", "request", "2026-01-01T00:00:00Z");
  const auto refused = profiling_refusals(f.db, "profiling", k_now);
  CHECK(refused.size() == 3);
  CHECK(refused.count(1) == 0);
  CHECK(refused.count(2) == 0);
  CHECK(refused.at(3) == "'profiling' consent: the latest entry is 'withdraw' on "
                         "2026-01-01T00:00:00Z, not a grant ([score].requires_consent demands a "
                         "current grant)");
  // A double opt-in request alone decides nothing, as for `consent check`.
  CHECK(refused.at(4) == "no 'profiling' consent, which [score].requires_consent demands");
  CHECK(refused.at(5) == "no 'profiling' consent, which [score].requires_consent demands");
  CHECK(profiling_refusals(f.db, "profiling", k_now, 5).size() == 1);
  CHECK(profiling_refusals(f.db, "profiling", k_now, 1).empty());
  f.run({"lead"});
  CHECK(f.scores("lead").size() == 2);
  CHECK(f.explain(5, "lead").note ==
        "not scored: no 'profiling' consent, which [score].requires_consent demands");
}

TEST_CASE("a score computed before an objection is flagged by explain until the next run") {
  Fixture f(1);
  f.event(1, "purchase", "2026-11-01T00:00:00Z", 100);
  f.run({"rfm"});
  f.consent_table();
  f.consent(1, "profiling", "object", "2026-11-22T09:00:00Z");
  const Explanation e = f.explain(1, "rfm");
  CHECK(e.score);
  CHECK(e.note == "computed before the contact objected to profiling on 2026-11-22T09:00:00Z; the "
                  "next run removes it");
  f.run({"rfm"});
  CHECK_FALSE(f.explain(1, "rfm").score);
}

TEST_CASE("profiling gate: a required consent older than the purpose's valid_for has expired") {
  Fixture f(2, "[consent.purposes.profiling]\nchannels = []\nvalid_for = \"12mo\"\n[score]\n"
               "requires_consent = \"profiling\"\n");
  f.consent_table();
  f.consent(1, "profiling", "grant", "2025-11-22T09:30:00Z"); // exactly 12 months: expired
  f.consent(2, "profiling", "grant", "2025-11-22T09:30:01Z");
  const auto refused =
      profiling_refusals(f.db, "profiling", k_now, std::nullopt, parse_duration("12mo"));
  REQUIRE(refused.size() == 1);
  CHECK(refused.at(1) == "'profiling' consent given on 2025-11-22T09:30:00Z expired after 12mo "
                         "([score].requires_consent demands a current grant)");
  f.run({"lead"});
  CHECK(f.scores("lead").size() == 1);
  CHECK(f.scores("lead").count(2) == 1);
}

TEST_CASE("a rerun keeps unchanged rows, drops parts a contact no longer has and contacts the "
          "model no longer scores") {
  Fixture f(2, "[[score.lead.rules]]\nevent = \"email_click\"\npoints = 3\n[[score.lead.rules]]\n"
               "when = 'country = \"DE\"'\npoints = 10\n");
  f.event(2, "email_click", "2026-11-01T00:00:00Z");
  f.event(1, "purchase", "2026-11-01T00:00:00Z", 100);
  f.run({"lead", "rfm"});
  CHECK(f.scores("lead").at(2).value == 1300);
  CHECK(f.explain(2, "lead").parts.size() == 2);
  f.db.sql().exec("DELETE FROM event WHERE touchpoint = 'email_click'");
  f.db.sql().exec("UPDATE contact SET country = 'FR' WHERE id = 2");
  f.db.sql().exec("DELETE FROM event WHERE contact_id = 1");
  f.event(2, "purchase", "2026-11-02T00:00:00Z", 100);
  f.run({"lead", "rfm"}, *parse_time("2026-11-23"));
  CHECK(f.scores("lead").at(2).value == 0);
  CHECK(f.scores("lead").at(2).at == "2026-11-23T00:00:00Z");
  CHECK(f.explain(2, "lead").parts.empty());
  CHECK(f.scores("rfm").size() == 1);
  CHECK(f.scores("rfm").count(2) == 1);
  CHECK(f.db.sql().execAndGet("SELECT count(*) FROM score_part WHERE contact_id = 1").getInt() ==
        0);
  CHECK(f.db.sql().execAndGet("SELECT count(*) FROM score_part").getInt() == 3);
}
