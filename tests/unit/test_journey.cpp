#include "exit_of.hpp"
#include "temp_dir.hpp"

#include <crm/journey.hpp>

#include <doctest/doctest.h>

using namespace crm;

namespace {

JourneySettings settings() {
  JourneySettings j;
  j.phases = {"activation", "information", "action", "retention"};
  j.touchpoints = {{"page_view", "information", "web", std::nullopt},
                   {"purchase", "action", "shop", std::nullopt}};
  j.conversion = "purchase";
  return j;
}

const TimePoint k_now = *parse_time("2026-11-22T09:30:00Z");

Event make(const EventFields& f, KnownTouchpoint* known = nullptr,
           const JourneySettings& j = settings()) {
  KnownTouchpoint k = KnownTouchpoint::yes;
  Event e = make_event(7, f, j, k_now, k);
  if (known)
    *known = k;
  return e;
}

EventFields fields(std::string touchpoint) {
  EventFields f;
  f.touchpoint = std::move(touchpoint);
  return f;
}

} // namespace

TEST_CASE("amounts parse into cents with at most two places") {
  CHECK(parse_amount("12") == 1200);
  CHECK(parse_amount("12.3") == 1230);
  CHECK(parse_amount("12.30") == 1230);
  CHECK(parse_amount("0.05") == 5);
  CHECK(parse_amount("-4.99") == -499);
  CHECK(parse_amount("+1") == 100);
  CHECK_FALSE(parse_amount(""));
  CHECK_FALSE(parse_amount("12.345"));
  CHECK_FALSE(parse_amount("12."));
  CHECK_FALSE(parse_amount(".5"));
  CHECK_FALSE(parse_amount("1,50"));
  CHECK_FALSE(parse_amount("12 EUR"));
  CHECK_FALSE(parse_amount("1e3"));
  CHECK_FALSE(parse_amount("9999999999999999"));
}

TEST_CASE("an event takes phase and channel from its touchpoint unless it names them") {
  KnownTouchpoint known = KnownTouchpoint::no;
  Event e = make(fields("purchase"), &known);
  CHECK(known == KnownTouchpoint::yes);
  CHECK(e.contact_id == 7);
  CHECK(e.phase == "action");
  CHECK(e.channel == "shop");
  CHECK(e.at == "2026-11-22T09:30:00Z");
  CHECK(e.attrs == "{}");
  EventFields f = fields("purchase");
  f.phase = "retention";
  f.channel = "phone";
  f.at = "2026-01-02";
  f.amount = "9.90";
  f.rating = "10";
  f.attrs = {{"b", "2"}, {"a", "x\"y"}, {"b", "3"}};
  e = make(f);
  CHECK(e.phase == "retention");
  CHECK(e.channel == "phone");
  CHECK(e.at == "2026-01-02T00:00:00Z");
  CHECK(e.amount == 990);
  CHECK(e.rating == 10);
  CHECK(e.attrs == R"({"a":"x\"y","b":"3"})");
}

TEST_CASE("an unknown touchpoint is accepted without phase unless strict") {
  KnownTouchpoint known = KnownTouchpoint::yes;
  Event e = make(fields("webinar"), &known);
  CHECK(known == KnownTouchpoint::no);
  CHECK_FALSE(e.phase);
  CHECK_FALSE(e.channel);
  JourneySettings strict = settings();
  strict.strict = true;
  CHECK(exit_of([&] { make(fields("webinar"), nullptr, strict); }) == Exit::not_found);
  CHECK(exit_of([&] { make(fields("purchase"), nullptr, strict); }) == Exit::ok);
}

TEST_CASE("an event refuses bad values") {
  auto with = [](auto set) {
    EventFields f = fields("purchase");
    set(f);
    return exit_of([&] { make(f); });
  };
  CHECK(with([](EventFields& f) { f.rating = "11"; }) == Exit::data);
  CHECK(with([](EventFields& f) { f.rating = "-1"; }) == Exit::data);
  CHECK(with([](EventFields& f) { f.rating = "5.5"; }) == Exit::data);
  CHECK(with([](EventFields& f) { f.rating = "0"; }) == Exit::ok);
  CHECK(with([](EventFields& f) { f.amount = "abc"; }) == Exit::data);
  CHECK(with([](EventFields& f) { f.at = "2026-02-30"; }) == Exit::data);
  CHECK(with([](EventFields& f) { f.attrs = {{"bad key", "1"}}; }) == Exit::data);
  CHECK(with([](EventFields& f) { f.phase = "checkout"; }) == Exit::not_found);
  CHECK(with([](EventFields& f) { f.touchpoint.clear(); }) == Exit::data);
}

TEST_CASE("attribution models and keys parse") {
  CHECK(parse_attribution_model("time_decay") == AttributionModel::time_decay);
  CHECK(parse_attribution_model("position") == AttributionModel::position);
  CHECK_FALSE(parse_attribution_model("u_shaped"));
  CHECK(parse_attribution_by("campaign") == AttributionBy::campaign);
  CHECK_FALSE(parse_attribution_by("phase"));
}

TEST_CASE("log, timeline, map, funnel and attribution on a small journey") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  db.sql().exec("INSERT INTO contact (id, created_at, updated_at) VALUES (1, 'x', 'x'), "
                "(2, 'x', 'x')");
  const JourneySettings j = settings();
  auto log = [&](std::int64_t contact, std::string touchpoint, std::string at,
                 std::optional<std::string> rating = std::nullopt,
                 std::optional<std::string> amount = std::nullopt) {
    EventFields f = fields(std::move(touchpoint));
    f.at = std::move(at);
    f.rating = std::move(rating);
    f.amount = std::move(amount);
    KnownTouchpoint known = KnownTouchpoint::yes;
    Event e = make_event(contact, f, j, k_now, known);
    return log_event(db, e);
  };
  CHECK(log(1, "page_view", "2026-01-01", "10"));
  CHECK(log(1, "purchase", "2026-01-03", "6", "20.00"));
  CHECK(log(2, "page_view", "2026-01-02", "9"));
  CHECK(log(2, "page_view", "2026-01-05"));
  CHECK_FALSE(log(2, "page_view", "2026-01-05")); // the same event

  const auto timeline = contact_events(db, 1);
  REQUIRE(timeline.size() == 2);
  CHECK(timeline[0].touchpoint == "page_view");
  CHECK(timeline[1].amount == 2000);

  const auto map = journey_map(db, j, JourneyMapQuery{std::nullopt, std::nullopt, std::nullopt, 1});
  REQUIRE(map.size() == 2);
  CHECK(map[0].touchpoint == "page_view");
  CHECK(map[0].contacts == 2);
  CHECK(map[0].events == 3);
  CHECK(map[0].moved_on == 1);
  CHECK(map[0].moved_on_share == doctest::Approx(0.5));
  CHECK(map[0].satisfaction == doctest::Approx(9.5));
  CHECK(map[0].nps == doctest::Approx(100));
  CHECK(map[1].touchpoint == "purchase");
  CHECK(map[1].nps == doctest::Approx(-100));
  CHECK(map[1].weakest);
  CHECK_FALSE(map[0].weakest);

  JourneyFunnelQuery funnel;
  funnel.phases = {"information", "action"};
  const auto steps = journey_funnel(db, j, funnel);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].contacts == 2);
  CHECK(steps[1].contacts == 1);
  CHECK(steps[1].of_previous == doctest::Approx(0.5));

  AttributionQuery attribution;
  attribution.model = AttributionModel::linear;
  const auto credit = journey_attribution(db, j, attribution);
  CHECK(credit.conversions == 1);
  CHECK(credit.revenue_cents == 2000);
  REQUIRE(credit.rows.size() == 1);
  CHECK(credit.rows[0].key == "page_view");
  CHECK(credit.rows[0].conversions == doctest::Approx(1.0));
  CHECK(credit.rows[0].revenue_cents == doctest::Approx(2000));

  const std::string svg = journey_map_svg(map, j, "test");
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  for (const auto& phase : j.phases)
    CHECK(svg.find(phase) != std::string::npos);
  CHECK(svg.find("WEAKEST") != std::string::npos);
}
