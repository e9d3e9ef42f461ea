#include <crm/journey.hpp>

#include <crm/error.hpp>
#include <crm/json.hpp>

#include "contact_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace crm {

namespace {

std::optional<std::string> non_empty(const std::optional<std::string>& value) {
  if (!value || value->empty())
    return std::nullopt;
  return value;
}

std::optional<std::string> column_text(const SQLite::Column& column) {
  if (column.isNull())
    return std::nullopt;
  return column.getString();
}

std::optional<std::int64_t> column_int(const SQLite::Column& column) {
  if (column.isNull())
    return std::nullopt;
  return column.getInt64();
}

constexpr std::string_view k_event_columns =
    "id, contact_id, touchpoint, channel, phase, at, amount, rating, campaign, attrs, batch_id";

Event event_of(SQLite::Statement& s) {
  Event e;
  e.id = s.getColumn(0).getInt64();
  e.contact_id = s.getColumn(1).getInt64();
  e.touchpoint = s.getColumn(2).getString();
  e.channel = column_text(s.getColumn(3));
  e.phase = column_text(s.getColumn(4));
  e.at = s.getColumn(5).getString();
  e.amount = column_int(s.getColumn(6));
  e.rating = column_int(s.getColumn(7));
  e.campaign = column_text(s.getColumn(8));
  e.attrs = s.getColumn(9).getString();
  e.batch_id = column_int(s.getColumn(10));
  return e;
}

void bind_text(SQLite::Statement& s, int index, const std::optional<std::string>& value) {
  if (value)
    s.bind(index, *value);
  else
    s.bind(index);
}

void bind_int(SQLite::Statement& s, int index, const std::optional<std::int64_t>& value) {
  if (value)
    s.bind(index, *value);
  else
    s.bind(index);
}

} // namespace

const char* const k_event_identity =
    "contact_id = ? AND touchpoint = ? AND at = ? AND ifnull(channel, '') = ? AND ifnull(phase, "
    "'') = ? AND ifnull(campaign, '') = ?";

void bind_identity(SQLite::Statement& s, const Event& e) {
  s.bind(1, e.contact_id);
  s.bindNoCopy(2, e.touchpoint);
  s.bindNoCopy(3, e.at);
  static const std::string none;
  s.bindNoCopy(4, e.channel ? *e.channel : none);
  s.bindNoCopy(5, e.phase ? *e.phase : none);
  s.bindNoCopy(6, e.campaign ? *e.campaign : none);
}

std::optional<std::int64_t> parse_amount(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 2 || (dot != std::string_view::npos && fraction.empty()))
    return std::nullopt;
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || !digits(fraction) || whole.size() > 15)
    return std::nullopt;
  std::int64_t units = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), units);
  std::int64_t cents = 0;
  for (std::size_t i = 0; i < 2; ++i)
    cents = cents * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  std::int64_t total = units * 100 + cents;
  return negative ? -total : total;
}

Event make_event(std::int64_t contact_id, const EventFields& fields, const JourneySettings& journey,
                 TimePoint now, KnownTouchpoint& known) {
  Event e;
  e.contact_id = contact_id;
  e.touchpoint = fields.touchpoint;
  if (e.touchpoint.empty())
    throw Error(Exit::data, "no touchpoint");
  const JourneyTouchpoint* config = journey.touchpoint(e.touchpoint);
  known = config ? KnownTouchpoint::yes : KnownTouchpoint::no;
  if (!config && journey.strict)
    throw Error(Exit::not_found,
                fmt::format("unknown touchpoint '{}' ([journey].strict is on)", e.touchpoint),
                "add it as [journey.touchpoints." + e.touchpoint + "] to the config");
  e.phase = non_empty(fields.phase);
  if (!e.phase && config)
    e.phase = config->phase;
  if (e.phase && !journey.phase_index(*e.phase))
    throw Error(Exit::not_found, fmt::format("unknown phase '{}': expected one of {}", *e.phase,
                                             fmt::join(journey.phases, ", ")));
  e.channel = non_empty(fields.channel);
  if (!e.channel && config)
    e.channel = config->channel;
  e.campaign = non_empty(fields.campaign);
  if (auto at = non_empty(fields.at))
    e.at = format_time(parse_time_or_throw(*at, "time"));
  else
    e.at = format_time(now);
  if (auto amount = non_empty(fields.amount)) {
    e.amount = parse_amount(*amount);
    if (!e.amount)
      throw Error(Exit::data,
                  fmt::format("invalid amount '{}': expected a decimal like 12.30", *amount));
  }
  if (auto rating = non_empty(fields.rating)) {
    int value = -1;
    auto [end, ec] = std::from_chars(rating->data(), rating->data() + rating->size(), value);
    if (ec != std::errc{} || end != rating->data() + rating->size() || value < 0 || value > 10)
      throw Error(Exit::data,
                  fmt::format("invalid rating '{}': expected an integer from 0 to 10", *rating));
    e.rating = value;
  }
  if (!fields.attrs.empty()) {
    auto attrs = fields.attrs;
    std::stable_sort(attrs.begin(), attrs.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string json = "{";
    for (std::size_t i = 0; i < attrs.size(); ++i) {
      if (!valid_attr_key(attrs[i].first))
        throw Error(Exit::data, fmt::format("invalid attribute name '{}': use letters, digits, "
                                            "'_', '-' and '.'",
                                            attrs[i].first));
      // The last value of a name given twice wins.
      if (i + 1 < attrs.size() && attrs[i + 1].first == attrs[i].first)
        continue;
      if (json.size() > 1)
        json += ',';
      append_json_string(json, attrs[i].first);
      json += ':';
      append_json_string(json, attrs[i].second);
    }
    e.attrs = json + "}";
  }
  return e;
}

bool insert_event(Database& db, Event& event) {
  // Looked up first: an INSERT that the identity index ignores would still
  // advance the AUTOINCREMENT counter.
  SQLite::Statement find(
      db.sql(), fmt::format("SELECT {} FROM event WHERE {}", k_event_columns, k_event_identity));
  bind_identity(find, event);
  if (find.executeStep()) {
    event = event_of(find);
    return false;
  }
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO event (contact_id, touchpoint, channel, phase, at, "
                           "amount, rating, campaign, attrs, batch_id) VALUES (?, ?, ?, "
                           "?, ?, ?, ?, ?, ?, ?) RETURNING id");
  insert.bind(1, event.contact_id);
  insert.bind(2, event.touchpoint);
  bind_text(insert, 3, event.channel);
  bind_text(insert, 4, event.phase);
  insert.bind(5, event.at);
  bind_int(insert, 6, event.amount);
  bind_int(insert, 7, event.rating);
  bind_text(insert, 8, event.campaign);
  insert.bind(9, event.attrs);
  bind_int(insert, 10, event.batch_id);
  insert.executeStep();
  event.id = insert.getColumn(0).getInt64();
  return true;
}

bool log_event(Database& db, Event& event) {
  bool inserted = false;
  db.write([&] { inserted = insert_event(db, event); });
  return inserted;
}

std::vector<Event> contact_events(Database& db, std::int64_t contact_id) {
  std::vector<Event> events;
  try {
    SQLite::Statement query(
        db.sql(),
        fmt::format("SELECT {} FROM event WHERE contact_id = ? ORDER BY at, id", k_event_columns));
    query.bind(1, contact_id);
    while (query.executeStep())
      events.push_back(event_of(query));
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot read events");
  }
  return events;
}

// --- the map -------------------------------------------------------------

namespace {

struct Box {
  JourneyMapRow row;
  std::size_t phase_rank = 0; // journey order; unknown phases after, no phase last
  std::size_t touchpoint_rank = 0;
  std::int64_t rating_sum = 0, promoters = 0, detractors = 0;
};

// One contact's events, gathered while the scan is on that contact.
struct ContactPass {
  std::vector<std::pair<std::size_t, std::string>> firsts; // box, time of first event there
  std::vector<std::string> latest;                         // per phase rank: the last event
};

} // namespace

std::vector<JourneyMapRow> journey_map(Database& db, const JourneySettings& journey,
                                       const JourneyMapQuery& query) {
  const std::size_t known_phases = journey.phases.size();
  std::vector<Box> boxes;
  std::unordered_map<std::string, std::size_t> box_of; // phase '\x1f' touchpoint
  std::vector<std::string> unknown_phases;             // phases found in events, not in config
  ContactPass pass;
  pass.latest.assign(known_phases, std::string());

  auto finish_contact = [&] {
    // latest_after[p]: the last event of a phase later than p.
    std::vector<std::string> latest_after(known_phases, std::string());
    for (std::size_t p = known_phases; p-- > 1;)
      latest_after[p - 1] = std::max(latest_after[p], pass.latest[p]);
    for (const auto& [index, first] : pass.firsts) {
      Box& box = boxes[index];
      ++box.row.contacts;
      if (box.phase_rank < known_phases && latest_after[box.phase_rank] > first)
        ++box.row.moved_on;
    }
    pass.firsts.clear();
    std::fill(pass.latest.begin(), pass.latest.end(), std::string());
  };

  std::string sql = "SELECT e.contact_id, e.touchpoint, e.phase, e.at, e.rating FROM event e";
  std::vector<SqlValue> params;
  std::vector<std::string> conditions;
  if (query.from) {
    conditions.push_back("e.at >= ?");
    params.emplace_back(format_time(*query.from));
  }
  if (query.to) {
    conditions.push_back("e.at < ?");
    params.emplace_back(format_time(*query.to));
  }
  if (query.where) {
    conditions.push_back("e.contact_id IN (SELECT c.id FROM contact c WHERE " + query.where->sql +
                         ")");
    params.insert(params.end(), query.where->params.begin(), query.where->params.end());
  }
  for (std::size_t i = 0; i < conditions.size(); ++i)
    sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  sql += " ORDER BY e.contact_id";

  try {
    db.read([&] {
      SQLite::Statement scan(db.sql(), sql);
      bind_all(scan, params);
      std::int64_t current = 0;
      bool any = false;
      std::string key;
      while (scan.executeStep()) {
        const std::int64_t contact = scan.getColumn(0).getInt64();
        if (any && contact != current)
          finish_contact();
        current = contact;
        any = true;
        const char* touchpoint = scan.getColumn(1).getText();
        const bool has_phase = !scan.getColumn(2).isNull();
        const char* phase = scan.getColumn(2).getText();
        key.assign(has_phase ? phase : "");
        key += has_phase ? '\x1f' : '\x1e';
        key += touchpoint;
        auto [it, added] = box_of.try_emplace(key, boxes.size());
        if (added) {
          Box box;
          box.row.touchpoint = touchpoint;
          if (has_phase) {
            box.row.phase = phase;
            if (auto rank = journey.phase_index(phase)) {
              box.phase_rank = *rank;
            } else {
              auto u = std::find(unknown_phases.begin(), unknown_phases.end(), phase);
              if (u == unknown_phases.end())
                unknown_phases.emplace_back(phase);
              box.phase_rank = known_phases; // ranked below, by name
            }
          } else {
            box.phase_rank = std::numeric_limits<std::size_t>::max();
          }
          boxes.push_back(std::move(box));
        }
        const std::size_t index = it->second;
        Box& box = boxes[index];
        ++box.row.events;
        const SQLite::Column at_column = scan.getColumn(3);
        const char* at = at_column.getText();
        if (!scan.getColumn(4).isNull()) {
          const std::int64_t rating = scan.getColumn(4).getInt64();
          ++box.row.ratings;
          box.rating_sum += rating;
          box.promoters += rating >= 9 ? 1 : 0;
          box.detractors += rating <= 6 ? 1 : 0;
        }
        // Rows of one contact come in any order of time.
        auto first = std::find_if(pass.firsts.begin(), pass.firsts.end(),
                                  [&](const auto& f) { return f.first == index; });
        if (first == pass.firsts.end())
          pass.firsts.emplace_back(index, at);
        else if (first->second > at)
          first->second = at;
        if (box.phase_rank < known_phases && pass.latest[box.phase_rank] < at)
          pass.latest[box.phase_rank] = at;
      }
      if (any)
        finish_contact();
    });
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot draw the journey map");
  }

  for (auto& box : boxes) {
    const JourneyMapRow& r = box.row;
    box.touchpoint_rank = journey.touchpoints.size();
    for (std::size_t i = 0; i < journey.touchpoints.size(); ++i)
      if (journey.touchpoints[i].name == r.touchpoint)
        box.touchpoint_rank = i;
  }
  std::sort(unknown_phases.begin(), unknown_phases.end());
  // Unknown phases come after the known ones, by name.
  for (auto& box : boxes)
    if (box.phase_rank >= known_phases && box.row.phase)
      box.phase_rank =
          known_phases + static_cast<std::size_t>(std::find(unknown_phases.begin(),
                                                            unknown_phases.end(), *box.row.phase) -
                                                  unknown_phases.begin());
  std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
    if (a.phase_rank != b.phase_rank)
      return a.phase_rank < b.phase_rank;
    if (a.touchpoint_rank != b.touchpoint_rank)
      return a.touchpoint_rank < b.touchpoint_rank;
    return a.row.touchpoint < b.row.touchpoint;
  });

  std::vector<JourneyMapRow> rows;
  rows.reserve(boxes.size());
  std::vector<double> judged;
  for (auto& box : boxes) {
    JourneyMapRow& r = box.row;
    if (box.phase_rank + 1 < known_phases && r.contacts > 0)
      r.moved_on_share = static_cast<double>(r.moved_on) / static_cast<double>(r.contacts);
    if (r.ratings > 0) {
      const auto n = static_cast<double>(r.ratings);
      r.satisfaction = static_cast<double>(box.rating_sum) / n;
      r.nps = 100.0 * static_cast<double>(box.promoters - box.detractors) / n;
      if (static_cast<std::size_t>(r.ratings) >= query.min_ratings)
        judged.push_back(*r.nps);
    }
    rows.push_back(std::move(r));
  }
  if (judged.size() >= 2) {
    std::sort(judged.begin(), judged.end());
    const std::size_t flagged = (judged.size() + 3) / 4;
    const double threshold = judged[flagged - 1];
    for (auto& r : rows)
      r.weakest =
          r.nps && static_cast<std::size_t>(r.ratings) >= query.min_ratings && *r.nps <= threshold;
  }
  return rows;
}

} // namespace crm
