#include <crm/journey.hpp>

#include <crm/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace crm {

namespace {

constexpr double k_half_life_seconds = 7.0 * 24 * 3600;
constexpr std::string_view k_none = "(none)";

struct Touch {
  TimePoint at;
  std::string key;
  bool conversion = false;
  std::int64_t amount = 0;
};

// The weights of n touches (oldest first) before a conversion at `at`;
// they sum to 1.
std::vector<double> weights(AttributionModel model, const std::vector<const Touch*>& touches,
                            TimePoint at) {
  const std::size_t n = touches.size();
  std::vector<double> w(n, 0.0);
  switch (model) {
  case AttributionModel::last:
    w[n - 1] = 1.0;
    break;
  case AttributionModel::first:
    w[0] = 1.0;
    break;
  case AttributionModel::linear:
    std::fill(w.begin(), w.end(), 1.0 / static_cast<double>(n));
    break;
  case AttributionModel::time_decay: {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double age = static_cast<double>((at - touches[i]->at).count());
      w[i] = std::exp2(-age / k_half_life_seconds);
      sum += w[i];
    }
    for (auto& x : w)
      x /= sum;
    break;
  }
  case AttributionModel::position:
    if (n == 1) {
      w[0] = 1.0;
    } else if (n == 2) {
      w[0] = w[1] = 0.5;
    } else {
      w[0] = w[n - 1] = 0.4;
      for (std::size_t i = 1; i + 1 < n; ++i)
        w[i] = 0.2 / static_cast<double>(n - 2);
    }
    break;
  }
  return w;
}

} // namespace

std::optional<AttributionModel> parse_attribution_model(std::string_view name) {
  if (name == "last")
    return AttributionModel::last;
  if (name == "first")
    return AttributionModel::first;
  if (name == "linear")
    return AttributionModel::linear;
  if (name == "time_decay")
    return AttributionModel::time_decay;
  if (name == "position")
    return AttributionModel::position;
  return std::nullopt;
}

std::optional<AttributionBy> parse_attribution_by(std::string_view name) {
  if (name == "touchpoint")
    return AttributionBy::touchpoint;
  if (name == "channel")
    return AttributionBy::channel;
  if (name == "campaign")
    return AttributionBy::campaign;
  return std::nullopt;
}

AttributionResult journey_attribution(Database& db, const JourneySettings& journey,
                                      const AttributionQuery& query) {
  AttributionResult result;
  std::map<std::string, AttributionRow> credit;
  std::vector<Touch> touches; // one contact's events, oldest first

  auto finish_contact = [&] {
    std::vector<const Touch*> before;
    for (std::size_t i = 0; i < touches.size(); ++i) {
      const Touch& conversion = touches[i];
      if (!conversion.conversion)
        continue;
      if ((query.from && conversion.at < *query.from) || (query.to && conversion.at >= *query.to))
        continue;
      const TimePoint start = shift(conversion.at, query.window, -1);
      before.clear();
      for (std::size_t j = 0; j < i; ++j)
        if (!touches[j].conversion && touches[j].at >= start && touches[j].at < conversion.at)
          before.push_back(&touches[j]);
      ++result.conversions;
      result.revenue_cents += conversion.amount;
      const auto amount = static_cast<double>(conversion.amount);
      if (before.empty()) {
        auto& row = credit[std::string(k_none)];
        row.conversions += 1.0;
        row.revenue_cents += amount;
        continue;
      }
      const auto w = weights(query.model, before, conversion.at);
      for (std::size_t k = 0; k < before.size(); ++k) {
        auto& row = credit[before[k]->key];
        row.conversions += w[k];
        row.revenue_cents += w[k] * amount;
      }
    }
    touches.clear();
  };

  const char* key_column = query.by == AttributionBy::touchpoint ? "e.touchpoint"
                           : query.by == AttributionBy::channel  ? "e.channel"
                                                                 : "e.campaign";
  std::string sql = fmt::format(
      "SELECT e.contact_id, e.at, {}, e.touchpoint = ?, ifnull(e.amount, 0) FROM event e",
      key_column);
  std::vector<SqlValue> params{journey.conversion};
  if (query.where) {
    sql += " WHERE e.contact_id IN (SELECT c.id FROM contact c WHERE " + query.where->sql + ")";
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
        Touch t;
        t.at = parse_time_or_throw(scan.getColumn(1).getString(), "event time");
        t.key = scan.getColumn(2).isNull() ? std::string(k_none) : scan.getColumn(2).getString();
        t.conversion = scan.getColumn(3).getInt() != 0;
        t.amount = scan.getColumn(4).getInt64();
        touches.push_back(std::move(t));
      }
      finish_contact();
    });
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot compute the attribution");
  }
  for (auto& [key, row] : credit) {
    row.key = key;
    result.rows.push_back(row);
  }
  std::stable_sort(result.rows.begin(), result.rows.end(),
                   [](const AttributionRow& a, const AttributionRow& b) {
                     return a.conversions > b.conversions;
                   });
  return result;
}

} // namespace crm
