#include <crm/journey.hpp>

#include <crm/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace crm {

std::vector<JourneyFunnelRow> journey_funnel(Database& db, const JourneySettings& journey,
                                             const JourneyFunnelQuery& query) {
  if (query.phases.empty())
    throw Error(Exit::usage, "journey funnel: no phases", "name them with --phases a,b,c");
  for (std::size_t i = 0; i < query.phases.size(); ++i) {
    if (!journey.phase_index(query.phases[i]))
      throw Error(Exit::not_found, fmt::format("unknown phase '{}': expected one of {}",
                                               query.phases[i], fmt::join(journey.phases, ", ")));
    if (std::find(query.phases.begin(), query.phases.begin() + static_cast<std::ptrdiff_t>(i),
                  query.phases[i]) != query.phases.begin() + static_cast<std::ptrdiff_t>(i))
      throw Error(Exit::usage, fmt::format("--phases: '{}' given twice", query.phases[i]));
  }
  const std::size_t steps = query.phases.size();

  // Reached counts per entry channel ("" without --by channel); the key
  // "\x1f" stands for "no channel".
  std::map<std::string, std::vector<std::int64_t>> reached;
  struct Seen {
    std::size_t step;
    std::string at;
    std::optional<std::string> channel;
  };
  std::vector<Seen> events; // one contact's events in funnel phases, by time

  auto finish_contact = [&] {
    if (events.empty())
      return;
    std::optional<std::string> entry;
    std::string after; // the time the last step was reached
    std::size_t reached_steps = 0;
    for (std::size_t k = 0; k < steps; ++k) {
      auto it = std::find_if(events.begin(), events.end(), [&](const Seen& s) {
        return s.step == k && (k == 0 || s.at >= after);
      });
      if (it == events.end())
        break;
      if (k == 0)
        entry = it->channel;
      after = it->at;
      reached_steps = k + 1;
    }
    if (reached_steps > 0) {
      std::string key = !query.by_channel ? std::string() : entry ? *entry : std::string("\x1f");
      auto& counts = reached[key];
      counts.resize(steps, 0);
      for (std::size_t k = 0; k < reached_steps; ++k)
        ++counts[k];
    }
    events.clear();
  };

  std::string sql = "SELECT e.contact_id, e.phase, e.at, e.channel FROM event e WHERE e.phase IN (";
  std::vector<SqlValue> params;
  for (std::size_t i = 0; i < steps; ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.emplace_back(query.phases[i]);
  }
  sql += ")";
  if (query.from) {
    sql += " AND e.at >= ?";
    params.emplace_back(format_time(*query.from));
  }
  if (query.to) {
    sql += " AND e.at < ?";
    params.emplace_back(format_time(*query.to));
  }
  if (query.where) {
    sql += " AND e.contact_id IN (SELECT c.id FROM contact c WHERE " + query.where->sql + ")";
    params.insert(params.end(), query.where->params.begin(), query.where->params.end());
  }
  sql += " ORDER BY e.contact_id, e.at, e.id";
  try {
    db.read([&] {
      SQLite::Statement scan(db.sql(), sql);
      bind_all(scan, params);
      std::int64_t current = 0;
      while (scan.executeStep()) {
        const std::int64_t contact = scan.getColumn(0).getInt64();
        if (contact != current)
          finish_contact();
        current = contact;
        const std::string phase = scan.getColumn(1).getString();
        const auto step = static_cast<std::size_t>(
            std::find(query.phases.begin(), query.phases.end(), phase) - query.phases.begin());
        Seen seen{step, scan.getColumn(2).getString(), std::nullopt};
        if (!scan.getColumn(3).isNull())
          seen.channel = scan.getColumn(3).getString();
        events.push_back(std::move(seen));
      }
      finish_contact();
    });
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot compute the funnel");
  }

  if (reached.empty() && !query.by_channel)
    reached[""].assign(steps, 0);
  std::vector<JourneyFunnelRow> rows;
  for (const auto& [key, counts] : reached) {
    for (std::size_t k = 0; k < steps; ++k) {
      JourneyFunnelRow row;
      if (query.by_channel && key != "\x1f")
        row.channel = key;
      row.step = k + 1;
      row.phase = query.phases[k];
      row.contacts = counts[k];
      if (k > 0 && counts[k - 1] > 0)
        row.of_previous = static_cast<double>(counts[k]) / static_cast<double>(counts[k - 1]);
      if (counts[0] > 0)
        row.of_first = static_cast<double>(counts[k]) / static_cast<double>(counts[0]);
      rows.push_back(std::move(row));
    }
  }
  std::stable_partition(rows.begin(), rows.end(),
                        [&](const JourneyFunnelRow& r) { return !query.by_channel || r.channel; });
  return rows;
}

} // namespace crm
