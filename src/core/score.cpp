#include <crm/score.hpp>

#include <crm/error.hpp>
#include <crm/normalize.hpp>

#include <fmt/format.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_set>

namespace crm {

namespace {

constexpr std::array<std::string_view, 5> k_models = {"rfm", "abc", "lead", "nps", "churn"};
constexpr std::string_view k_default_window = "365d";
constexpr std::string_view k_default_conversion = "purchase";
constexpr double k_default_abc_a = 0.80;
constexpr double k_default_abc_b = 0.95;
constexpr double k_seconds_per_day = 86400.0;
// A repeat customer whose purchases all fell on one second still has a rhythm.
constexpr double k_min_gap_days = 1.0;
// Churn's fallback rhythm when nobody bought twice.
constexpr double k_fallback_gap_days = 365.0;

// The usual segments of the R×F grid (recency 1-5 by frequency 1-5).
struct SegmentCells {
  std::string_view label;
  std::string_view recency; // the R digits the label covers
  std::string_view frequency;
};
constexpr std::array k_default_segments = {
    SegmentCells{"hibernating", "12", "12"},
    SegmentCells{"at_risk", "12", "34"},
    SegmentCells{"cannot_lose", "12", "5"},
    SegmentCells{"about_to_sleep", "3", "12"},
    SegmentCells{"need_attention", "3", "3"},
    SegmentCells{"loyal", "34", "45"},
    SegmentCells{"promising", "4", "1"},
    SegmentCells{"potential_loyalist", "45", "23"},
    SegmentCells{"new", "5", "1"},
    SegmentCells{"champions", "5", "45"},
};

using Grid = std::array<std::array<std::string, 5>, 5>; // [R-1][F-1]

Hundredths to_hundredths(double value) { return std::llround(value * 100.0); }

std::string fixed2(Hundredths h) {
  const char* sign = h < 0 ? "-" : "";
  const auto magnitude = static_cast<std::uint64_t>(h < 0 ? -h : h);
  return fmt::format("{}{}.{:02}", sign, magnitude / 100, magnitude % 100);
}

std::string day_of(std::string_view timestamp) { return std::string(timestamp.substr(0, 10)); }

double days_between(TimePoint from, TimePoint to) {
  return static_cast<double>((to - from).count()) / k_seconds_per_day;
}

// Days as people say them: whole days, or one decimal below ten.
std::string days_text(double days) {
  if (days < 10.0)
    return fmt::format("{:.1f} days", days);
  return fmt::format("{:.0f} days", std::floor(days));
}

TimePoint time_of(const std::string& text) {
  auto t = parse_time(text);
  if (!t)
    throw Error(Exit::data, fmt::format("invalid time '{}' in the event table", text),
                "event times are RFC 3339 in UTC; 'crm db check' looks for damage");
  return *t;
}

const toml::table& section(const Config& config, std::string_view model) {
  static const toml::table empty;
  if (const toml::table* t = config.table()["score"][model].as_table())
    return *t;
  return empty;
}

std::string conversion(const Config& config) {
  return config.table()["journey"]["conversion"].value_or(std::string(k_default_conversion));
}

Duration window_of(const toml::table& t, std::string_view fallback) {
  const std::string text = t["window"].value_or(std::string(fallback));
  auto d = parse_duration(text);
  if (!d)
    throw Error(Exit::config, fmt::format("invalid window '{}'", text));
  return *d;
}

// A run's result for one contact, before it is written.
struct Result {
  std::int64_t contact_id = 0;
  std::optional<std::string> label;
  std::vector<ScorePart> parts;
};

class ModelRun {
public:
  ModelRun(Database& db, const Config& config, TimePoint now,
           const std::unordered_map<std::int64_t, std::string>& refused)
      : m_db(db), m_config(config), m_now(now), m_now_text(format_time(now)), m_refused(refused) {}

  std::vector<Result> run(std::string_view model) {
    if (model == "rfm")
      return rfm();
    if (model == "abc")
      return abc();
    if (model == "lead")
      return lead();
    if (model == "nps")
      return nps();
    return churn();
  }

private:
  bool refused(std::int64_t id) const { return m_refused.count(id) != 0; }

  std::string window_text(const Duration& d) const {
    return fmt::format("the {} up to {}", format_duration(d), day_of(m_now_text));
  }

  struct Customer {
    std::int64_t id = 0;
    std::string last_at;
    std::int64_t frequency = 0;
    std::int64_t monetary = 0; // cents
  };

  // Contacts with at least one conversion up to now: the last one ever,
  // and the count and revenue of those after `from`.
  std::vector<Customer> customers(TimePoint from) {
    SQLite::Statement q(m_db.sql(), R"sql(
SELECT e.contact_id, max(e.at), count(CASE WHEN e.at > ?2 THEN 1 END),
       coalesce(sum(CASE WHEN e.at > ?2 THEN e.amount END), 0)
FROM event e WHERE e.touchpoint = ?1 AND e.at <= ?3
GROUP BY e.contact_id ORDER BY e.contact_id
)sql");
    q.bind(1, conversion(m_config));
    q.bind(2, format_time(from));
    q.bind(3, m_now_text);
    std::vector<Customer> all;
    while (q.executeStep()) {
      Customer c;
      c.id = q.getColumn(0).getInt64();
      if (refused(c.id))
        continue;
      c.last_at = q.getColumn(1).getString();
      c.frequency = q.getColumn(2).getInt64();
      c.monetary = q.getColumn(3).getInt64();
      all.push_back(std::move(c));
    }
    return all;
  }

  // Quintiles 1-5 (5 best) of `n` items ranked best first: NTILE(5) over
  // that order, so the n mod 5 left over go to the best quintiles.
  static std::vector<int> quintiles(const std::vector<std::size_t>& best_first) {
    const std::size_t n = best_first.size();
    const std::size_t q = n / 5, r = n % 5;
    std::vector<int> out(n);
    for (std::size_t pos = 0; pos < n; ++pos) {
      const std::size_t tile =
          pos < r * (q + 1) ? pos / (q + 1) : r + (pos - r * (q + 1)) / std::max<std::size_t>(q, 1);
      out[best_first[pos]] = 5 - static_cast<int>(tile);
    }
    return out;
  }

  template <typename Better>
  static std::vector<int> rank(const std::vector<Customer>& all, Better better) {
    std::vector<std::size_t> order(all.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (better(all[a], all[b]))
        return true;
      if (better(all[b], all[a]))
        return false;
      return all[a].id < all[b].id;
    });
    return quintiles(order);
  }

  Grid segments() const {
    Grid grid;
    for (const auto& s : k_default_segments)
      for (char r : s.recency)
        for (char f : s.frequency)
          grid[static_cast<std::size_t>(r - '1')][static_cast<std::size_t>(f - '1')] = s.label;
    const toml::table* custom = section(m_config, "rfm")["segments"].as_table();
    if (!custom)
      return grid;
    std::map<std::string, std::string> taken; // cell -> label of the config
    for (const auto& [label, cells] : *custom) {
      for (const auto& cell : *cells.as_array()) {
        const std::string text = cell.value_or(std::string());
        if (auto it = taken.find(text); it != taken.end())
          throw Error(Exit::config,
                      fmt::format("score.rfm.segments: cell '{}' is in both '{}' and '{}'", text,
                                  it->second, label.str()),
                      "each cell of the R×F grid belongs to one segment");
        taken.emplace(text, std::string(label.str()));
        grid[static_cast<std::size_t>(text[0] - '1')][static_cast<std::size_t>(text[2] - '1')] =
            std::string(label.str());
      }
    }
    return grid;
  }

  std::vector<Result> rfm() {
    const Duration window = window_of(section(m_config, "rfm"), k_default_window);
    const auto all = customers(shift(m_now, window, -1));
    const auto r =
        rank(all, [](const Customer& a, const Customer& b) { return a.last_at > b.last_at; });
    const auto f =
        rank(all, [](const Customer& a, const Customer& b) { return a.frequency > b.frequency; });
    const auto m =
        rank(all, [](const Customer& a, const Customer& b) { return a.monetary > b.monetary; });
    const Grid grid = segments();
    const std::string currency = m_config.currency();
    const std::string in_window = window_text(window);
    std::vector<Result> out;
    out.reserve(all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const Customer& c = all[i];
      Result res;
      res.contact_id = c.id;
      res.label = grid[static_cast<std::size_t>(r[i] - 1)][static_cast<std::size_t>(f[i] - 1)];
      const double days = days_between(time_of(c.last_at), m_now);
      res.parts.push_back(
          {r[i] * 10000,
           fmt::format("recency {} of 5 (x100): the last purchase was on {}, {} before {}", r[i],
                       day_of(c.last_at), days_text(days), day_of(m_now_text))});
      res.parts.push_back(
          {f[i] * 1000, fmt::format("frequency {} of 5 (x10): {} purchase{} in {}", f[i],
                                    c.frequency, c.frequency == 1 ? "" : "s", in_window)});
      res.parts.push_back({m[i] * 100, fmt::format("monetary {} of 5 (x1): {} {} spent in {}", m[i],
                                                   fixed2(c.monetary), currency, in_window)});
      out.push_back(std::move(res));
    }
    return out;
  }

  std::vector<Result> abc() {
    const toml::table& t = section(m_config, "abc");
    const Duration window = window_of(t, k_default_window);
    const double a = t["a"].value_or(k_default_abc_a);
    const double b = t["b"].value_or(k_default_abc_b);
    auto all = customers(shift(m_now, window, -1));
    std::stable_sort(all.begin(), all.end(), [](const Customer& x, const Customer& y) {
      return x.monetary != y.monetary ? x.monetary > y.monetary : x.id < y.id;
    });
    std::int64_t total = 0;
    for (const auto& c : all)
      total += c.monetary;
    const std::string currency = m_config.currency();
    const std::string in_window = window_text(window);
    std::vector<Result> out;
    out.reserve(all.size());
    std::int64_t before = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const Customer& c = all[i];
      const double total_d = static_cast<double>(total);
      const double before_d = static_cast<double>(before);
      std::string cls = "C";
      if (total > 0 && before_d < a * total_d)
        cls = "A";
      else if (total > 0 && before_d < b * total_d)
        cls = "B";
      const double share = total > 0 ? 100.0 * before_d / total_d : 100.0;
      Result res;
      res.contact_id = c.id;
      res.label = cls;
      res.parts.push_back(
          {c.monetary,
           fmt::format("revenue of {} {} in {}: rank {} of {} customers by revenue; those ranked "
                       "before hold {:.1f}% of all {} {}, so class {} (A below {:g}%, B below "
                       "{:g}%, else C)",
                       fixed2(c.monetary), currency, in_window, i + 1, all.size(), share,
                       fixed2(total), currency, cls, a * 100.0, b * 100.0)});
      out.push_back(std::move(res));
      before += c.monetary;
    }
    std::sort(out.begin(), out.end(),
              [](const Result& x, const Result& y) { return x.contact_id < y.contact_id; });
    return out;
  }

  std::vector<Result> nps() {
    const toml::table& t = section(m_config, "nps");
    std::string from;
    if (t.contains("window"))
      from = format_time(shift(m_now, window_of(t, k_default_window), -1));
    SQLite::Statement q(m_db.sql(), R"sql(
SELECT contact_id, rating, at, touchpoint FROM (
  SELECT e.contact_id, e.rating, e.at, e.touchpoint,
         row_number() OVER (PARTITION BY e.contact_id ORDER BY e.at DESC, e.id DESC) AS n
  FROM event e WHERE e.rating IS NOT NULL AND e.at <= ?1 AND e.at > ?2)
WHERE n = 1 ORDER BY contact_id
)sql");
    q.bind(1, m_now_text);
    q.bind(2, from);
    std::vector<Result> out;
    while (q.executeStep()) {
      Result res;
      res.contact_id = q.getColumn(0).getInt64();
      if (refused(res.contact_id))
        continue;
      const int rating = q.getColumn(1).getInt();
      const std::string group = rating >= 9 ? "promoter" : rating >= 7 ? "passive" : "detractor";
      const std::string_view range = rating >= 9 ? "9-10" : rating >= 7 ? "7-8" : "0-6";
      res.label = group;
      res.parts.push_back(
          {rating * 100, fmt::format("latest rating {} of 10, given on {} ({}); {} is a {}", rating,
                                     day_of(q.getColumn(2).getString()), q.getColumn(3).getString(),
                                     range, group)});
      out.push_back(std::move(res));
    }
    return out;
  }

  std::vector<Result> churn() {
    const toml::table& t = section(m_config, "churn");
    std::string from;
    std::string history = "ever";
    if (t.contains("window")) {
      const Duration window = window_of(t, k_default_window);
      from = format_time(shift(m_now, window, -1));
      history = "in " + window_text(window);
    }
    SQLite::Statement q(m_db.sql(), R"sql(
SELECT e.contact_id, count(*), min(e.at), max(e.at)
FROM event e WHERE e.touchpoint = ?1 AND e.at <= ?2 AND e.at > ?3
GROUP BY e.contact_id ORDER BY e.contact_id
)sql");
    q.bind(1, conversion(m_config));
    q.bind(2, m_now_text);
    q.bind(3, from);
    struct Buyer {
      std::int64_t id, count;
      std::string first, last;
    };
    std::vector<Buyer> buyers;
    std::vector<double> gaps;
    while (q.executeStep()) {
      Buyer b{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getString(),
              q.getColumn(3).getString()};
      if (refused(b.id))
        continue;
      if (b.count >= 2)
        gaps.push_back(std::max(k_min_gap_days, days_between(time_of(b.first), time_of(b.last)) /
                                                    static_cast<double>(b.count - 1)));
      buyers.push_back(std::move(b));
    }
    double median = k_fallback_gap_days;
    std::string median_text =
        fmt::format("nobody bought twice, so a gap of {:.0f} days is assumed", k_fallback_gap_days);
    if (!gaps.empty()) {
      std::sort(gaps.begin(), gaps.end());
      const std::size_t n = gaps.size();
      median = n % 2 == 1 ? gaps[n / 2] : (gaps[n / 2 - 1] + gaps[n / 2]) / 2.0;
      median_text =
          fmt::format("the median gap of the {} repeat customers, {:.1f} days, is used", n, median);
    }
    std::vector<Result> out;
    out.reserve(buyers.size());
    for (const auto& b : buyers) {
      const double silence = days_between(time_of(b.last), m_now);
      std::string rhythm;
      double gap = median;
      if (b.count >= 2) {
        gap = std::max(k_min_gap_days, days_between(time_of(b.first), time_of(b.last)) /
                                           static_cast<double>(b.count - 1));
        rhythm = fmt::format("{} purchases {} between {} and {}, one every {:.1f} days on average",
                             b.count, history, day_of(b.first), day_of(b.last), gap);
      } else {
        rhythm = fmt::format("one purchase {}, on {}; with no rhythm of their own, {}", history,
                             day_of(b.first), median_text);
      }
      const Hundredths lapsed = to_hundredths(1.0 - std::exp(-silence / gap));
      const std::string label = lapsed >= 80 ? "lapsed" : lapsed >= 50 ? "at_risk" : "active";
      Result res;
      res.contact_id = b.id;
      res.label = label;
      res.parts.push_back(
          {lapsed, fmt::format("{}; none in the {} since: a customer buying at that rate goes that "
                               "long without a purchase with probability exp(-{:.1f}/{:.1f}) = {}, "
                               "so the probability of having lapsed is {} ({})",
                               rhythm, days_text(silence), silence, gap, fixed2(100 - lapsed),
                               fixed2(lapsed), label)});
      out.push_back(std::move(res));
    }
    return out;
  }

  struct LeadRule {
    std::size_t number = 0;
    std::optional<std::string> when, event, description;
    std::int64_t points = 0;
    std::optional<Duration> half_life, within;
    std::optional<std::int64_t> cap;
  };

  std::vector<LeadRule> lead_rules() const {
    const toml::table& t = section(m_config, "lead");
    std::optional<Duration> default_half_life;
    if (auto text = t["half_life"].value<std::string>())
      default_half_life = parse_duration(*text);
    std::vector<LeadRule> rules;
    if (const toml::array* list = t["rules"].as_array()) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::table& r = *(*list)[i].as_table();
        LeadRule rule;
        rule.number = i + 1;
        rule.when = r["when"].value<std::string>();
        rule.event = r["event"].value<std::string>();
        rule.description = r["description"].value<std::string>();
        rule.points = r["points"].value_or(std::int64_t{0});
        rule.half_life = default_half_life;
        if (auto text = r["half_life"].value<std::string>())
          rule.half_life = parse_duration(*text);
        if (auto text = r["within"].value<std::string>())
          rule.within = parse_duration(*text);
        if (auto cap = r["cap"].value<std::int64_t>())
          rule.cap = *cap;
        rules.push_back(std::move(rule));
      }
    }
    return rules;
  }

  std::string rule_name(const LeadRule& rule) const {
    return rule.description ? *rule.description : fmt::format("rule {}", rule.number);
  }

  void lead_condition(const LeadRule& rule, std::map<std::int64_t, Result>& results) {
    FilterOptions options;
    options.now = m_now;
    options.default_country = m_config.default_country();
    options.normalize_phone = [](std::string_view v, std::string_view region) {
      return normalize_phone(v, region);
    };
    SqlFilter filter;
    try {
      filter = compile_contact_filter(*rule.when, options);
    } catch (const Error& e) {
      throw Error(Exit::config,
                  fmt::format("score.lead.rules[{}].when: {}", rule.number - 1, e.what()),
                  e.hint());
    }
    SQLite::Statement q(
        m_db.sql(), fmt::format("SELECT c.id FROM contact c WHERE {} ORDER BY c.id", filter.sql));
    bind_all(q, filter.params);
    const std::string reason = rule.description
                                   ? fmt::format("{}: matches '{}' ({} points)", *rule.description,
                                                 *rule.when, rule.points)
                                   : fmt::format("matches '{}' ({} points, rule {})", *rule.when,
                                                 rule.points, rule.number);
    while (q.executeStep()) {
      const std::int64_t id = q.getColumn(0).getInt64();
      if (auto it = results.find(id); it != results.end())
        it->second.parts.push_back({rule.points * 100, reason});
    }
  }

  void lead_event(const LeadRule& rule, std::map<std::int64_t, Result>& results) {
    std::string from;
    if (rule.within)
      from = format_time(shift(m_now, *rule.within, -1));
    double half_life_days = 0;
    if (rule.half_life)
      half_life_days = days_between(shift(m_now, *rule.half_life, -1), m_now);
    SQLite::Statement q(m_db.sql(), "SELECT e.contact_id, e.at FROM event e WHERE e.touchpoint = ? "
                                    "AND e.at <= ? AND e.at > ? ORDER BY e.contact_id");
    q.bind(1, *rule.event);
    q.bind(2, m_now_text);
    q.bind(3, from);
    std::int64_t current = 0, count = 0;
    double weight = 0;
    const auto flush = [&] {
      auto it = results.find(current);
      if (count == 0 || it == results.end())
        return;
      const double raw = static_cast<double>(rule.points) * weight;
      double points = raw;
      bool capped = false;
      if (rule.cap && std::abs(points) > static_cast<double>(*rule.cap)) {
        points = std::copysign(static_cast<double>(*rule.cap), points);
        capped = true;
      }
      const Hundredths h = to_hundredths(points);
      std::string what = fmt::format(
          "{} '{}' event{} {}", count, *rule.event, count == 1 ? "" : "s",
          rule.within ? "in the last " + format_duration(*rule.within) : std::string("so far"));
      std::string how = fmt::format("{} points each", rule.points);
      if (rule.half_life)
        how += fmt::format(", half-life {}: {} points fade to {}", format_duration(*rule.half_life),
                           rule.points * count, fixed2(to_hundredths(raw)));
      if (capped)
        how += fmt::format(", capped at {}", *rule.cap);
      it->second.parts.push_back(
          {h, rule.description ? fmt::format("{}: {} ({})", *rule.description, what, how)
                               : fmt::format("{} ({}, rule {})", what, how, rule.number)});
    };
    while (q.executeStep()) {
      const std::int64_t id = q.getColumn(0).getInt64();
      if (id != current) {
        flush();
        current = id;
        count = 0;
        weight = 0;
      }
      ++count;
      if (half_life_days > 0) {
        const double age = days_between(time_of(q.getColumn(1).getString()), m_now);
        weight += std::exp2(-age / half_life_days);
      } else {
        weight += 1.0;
      }
    }
    flush();
  }

  std::vector<Result> lead() {
    std::map<std::int64_t, Result> results;
    {
      SQLite::Statement q(m_db.sql(), "SELECT id FROM contact ORDER BY id");
      while (q.executeStep()) {
        const std::int64_t id = q.getColumn(0).getInt64();
        if (!refused(id))
          results[id].contact_id = id;
      }
    }
    for (const auto& rule : lead_rules()) {
      if (rule.when)
        lead_condition(rule, results);
      else
        lead_event(rule, results);
    }
    std::vector<Result> out;
    out.reserve(results.size());
    for (auto& [id, res] : results)
      out.push_back(std::move(res));
    return out;
  }

  Database& m_db;
  const Config& m_config;
  TimePoint m_now;
  std::string m_now_text;
  const std::unordered_map<std::int64_t, std::string>& m_refused;
};

// A larger page cache for the length of a run: the aggregate over the
// events and the writes of a model's rows touch far more than the default
// 2 MiB of pages.
class RunCache {
public:
  explicit RunCache(SQLite::Database& db)
      : m_db(db), m_before(db.execAndGet("PRAGMA cache_size").getInt()) {
    m_db.exec("PRAGMA cache_size = -65536");
  }
  ~RunCache() {
    try {
      m_db.exec(fmt::format("PRAGMA cache_size = {}", m_before));
    } catch (const std::exception&) {
      // The connection is closed right after a run; a failure here changes nothing.
    }
  }
  RunCache(const RunCache&) = delete;
  RunCache& operator=(const RunCache&) = delete;

private:
  SQLite::Database& m_db;
  int m_before;
};

// Replaces the stored scores of `model` by `results` in one transaction.
// Rows are updated in place and only where they changed, and the rows of
// contacts (or parts) the run no longer has are deleted: a daily run
// rewrites what changed, not every row of the model.
void store(Database& db, std::string_view model, const std::vector<Result>& results,
           const std::string& at) {
  const std::string name(model);
  db.write([&] {
    std::unordered_map<std::int64_t, std::int64_t> old_parts; // contact -> its last part
    {
      SQLite::Statement q(db.sql(), "SELECT contact_id, max(ord) FROM score_part WHERE model = ? "
                                    "GROUP BY contact_id");
      q.bind(1, name);
      while (q.executeStep())
        old_parts.emplace(q.getColumn(0).getInt64(), q.getColumn(1).getInt64());
    }
    std::vector<std::int64_t> old_scores;
    {
      SQLite::Statement q(db.sql(), "SELECT contact_id FROM score WHERE model = ?");
      q.bind(1, name);
      while (q.executeStep())
        old_scores.push_back(q.getColumn(0).getInt64());
    }
    SQLite::Statement s(db.sql(), R"sql(
INSERT INTO score (contact_id, model, value, label, at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (model, contact_id) DO UPDATE
SET value = excluded.value, label = excluded.label, at = excluded.at
WHERE value IS NOT excluded.value OR label IS NOT excluded.label OR at IS NOT excluded.at
)sql");
    SQLite::Statement p(db.sql(), R"sql(
INSERT INTO score_part (contact_id, model, ord, points, reason) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (model, contact_id, ord) DO UPDATE
SET points = excluded.points, reason = excluded.reason
WHERE points IS NOT excluded.points OR reason IS NOT excluded.reason
)sql");
    SQLite::Statement drop_parts(db.sql(), "DELETE FROM score_part WHERE model = ? AND "
                                           "contact_id = ? AND ord > ?");
    SQLite::Statement drop_score(db.sql(), "DELETE FROM score WHERE model = ? AND contact_id = ?");
    // Deletes the parts of a contact after the first `keep`, and with
    // keep = 0 its score too.
    const auto drop = [&](std::int64_t contact_id, std::int64_t keep) {
      drop_parts.bind(1, name);
      drop_parts.bind(2, contact_id);
      drop_parts.bind(3, keep);
      drop_parts.exec();
      drop_parts.reset();
      if (keep == 0) {
        drop_score.bind(1, name);
        drop_score.bind(2, contact_id);
        drop_score.exec();
        drop_score.reset();
      }
    };
    std::unordered_set<std::int64_t> scored;
    scored.reserve(results.size());
    for (const auto& r : results) {
      scored.insert(r.contact_id);
      Hundredths total = 0;
      for (std::size_t i = 0; i < r.parts.size(); ++i) {
        total += r.parts[i].points;
        p.bind(1, r.contact_id);
        p.bind(2, name);
        p.bind(3, static_cast<std::int64_t>(i + 1));
        p.bind(4, static_cast<double>(r.parts[i].points) / 100.0);
        p.bind(5, r.parts[i].reason);
        p.exec();
        p.reset();
      }
      const auto kept = static_cast<std::int64_t>(r.parts.size());
      if (auto it = old_parts.find(r.contact_id); it != old_parts.end() && it->second > kept) {
        drop_parts.bind(1, name);
        drop_parts.bind(2, r.contact_id);
        drop_parts.bind(3, kept);
        drop_parts.exec();
        drop_parts.reset();
      }
      s.bind(1, r.contact_id);
      s.bind(2, name);
      s.bind(3, static_cast<double>(total) / 100.0);
      if (r.label)
        s.bind(4, *r.label);
      else
        s.bind(4);
      s.bind(5, at);
      s.exec();
      s.reset();
    }
    for (const auto id : old_scores)
      if (scored.count(id) == 0)
        drop(id, 0);
  });
}

std::string requires_consent(const Config& config) {
  return config.table()["score"]["requires_consent"].value_or(std::string());
}

// How long a grant of the required purpose lasts ([consent.purposes.P].valid_for).
std::optional<Duration> consent_lifetime(const Config& config) {
  const std::string purpose = requires_consent(config);
  if (purpose.empty())
    return std::nullopt;
  if (auto text = config.table()["consent"]["purposes"][purpose]["valid_for"].value<std::string>())
    return parse_duration(*text);
  return std::nullopt;
}

Score read_score(SQLite::Statement& q) {
  Score s;
  s.contact_id = q.getColumn(0).getInt64();
  s.model = q.getColumn(1).getString();
  s.value = to_hundredths(q.getColumn(2).getDouble());
  if (!q.getColumn(3).isNull())
    s.label = q.getColumn(3).getString();
  s.at = q.getColumn(4).getString();
  return s;
}

std::size_t model_order(std::string_view model) {
  return static_cast<std::size_t>(std::find(k_models.begin(), k_models.end(), model) -
                                  k_models.begin());
}

// Why a contact has no score of a model that has run.
std::string unscored_reason(std::string_view model, const Config& config) {
  if (model == "nps")
    return "not scored: no rating up to the last run";
  if (model == "lead")
    return "not scored: the contact did not exist at the last run";
  return fmt::format("not scored: no '{}' event (a purchase) up to the last run",
                     conversion(config));
}

} // namespace

std::span<const std::string_view> score_models() { return k_models; }

void check_score_model(std::string_view name) {
  if (model_order(name) == k_models.size())
    throw Error(Exit::not_found, fmt::format("no model '{}'", name),
                fmt::format("models: {}", fmt::join(k_models, ", ")));
}

std::vector<ScoreRunSummary> run_scores(Database& db, const Config& config,
                                        std::span<const std::string> models, TimePoint now) {
  std::vector<std::string> names(models.begin(), models.end());
  for (const auto& name : names)
    check_score_model(name);
  if (names.empty())
    names.assign(k_models.begin(), k_models.end());
  std::vector<ScoreRunSummary> summaries;
  try {
    RunCache cache(db.sql());
    for (const auto& name : names) {
      std::vector<Result> results;
      std::int64_t not_scored = 0;
      db.read([&] {
        const auto refused = profiling_refusals(db, requires_consent(config), now, std::nullopt,
                                                consent_lifetime(config));
        not_scored = static_cast<std::int64_t>(refused.size());
        results = ModelRun(db, config, now, refused).run(name);
      });
      store(db, name, results, format_time(now));
      summaries.push_back({name, static_cast<std::int64_t>(results.size()), not_scored});
    }
  } catch (const std::exception& e) {
    // A locked, full or corrupt database is the user's 75 or 74, not a bug.
    throw_sqlite_error(e, "cannot run scores");
  }
  return summaries;
}

std::vector<ScoreSort> parse_score_sort(std::string_view text) {
  std::vector<ScoreSort> keys;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    std::string_view key = text.substr(begin, end - begin);
    ScoreSort sort;
    if (key.starts_with('-')) {
      sort.descending = true;
      key.remove_prefix(1);
    }
    if (key != "contact_id" && key != "value" && key != "label" && key != "at")
      throw Error(Exit::usage, fmt::format("unknown sort field '{}'", key),
                  "score lists sort by contact_id, value, label, at (-FIELD: descending)");
    sort.column = std::string(key);
    keys.push_back(std::move(sort));
    begin = end + 1;
  }
  return keys;
}

void list_scores(Database& db, std::string_view model, const std::optional<std::string>& label,
                 const std::optional<SqlFilter>& where,
                 const std::function<void(const Score&)>& row, const std::vector<ScoreSort>& sort) {
  check_score_model(model);
  std::string sql = "SELECT s.contact_id, s.model, s.value, s.label, s.at FROM score s "
                    "JOIN contact c ON c.id = s.contact_id WHERE s.model = ?";
  if (label)
    sql += " AND s.label = ?";
  if (where)
    sql += " AND (" + where->sql + ")";
  sql += " ORDER BY ";
  for (const auto& key : sort) {
    // The column is one of parse_score_sort's four names, never user text.
    assert(key.column == "contact_id" || key.column == "value" || key.column == "label" ||
           key.column == "at");
    sql += fmt::format("s.{}{}, ", key.column, key.descending ? " DESC" : "");
  }
  sql += "s.contact_id";
  db.read([&] {
    SQLite::Statement q(db.sql(), sql);
    int i = 1;
    q.bind(i++, std::string(model));
    if (label)
      q.bind(i++, *label);
    if (where)
      bind_all(q, where->params, i);
    while (q.executeStep())
      row(read_score(q));
  });
}

std::vector<Score> contact_scores(Database& db, std::int64_t contact_id) {
  std::vector<Score> scores;
  SQLite::Statement q(db.sql(), "SELECT contact_id, model, value, label, at FROM score "
                                "WHERE contact_id = ?");
  q.bind(1, contact_id);
  while (q.executeStep())
    scores.push_back(read_score(q));
  std::sort(scores.begin(), scores.end(), [](const Score& a, const Score& b) {
    return model_order(a.model) != model_order(b.model)
               ? model_order(a.model) < model_order(b.model)
               : a.model < b.model;
  });
  return scores;
}

std::optional<NpsOverall> overall_nps(Database& db) {
  SQLite::Statement q(db.sql(), "SELECT count(CASE WHEN value >= 9 THEN 1 END), "
                                "count(CASE WHEN value >= 7 AND value < 9 THEN 1 END), "
                                "count(CASE WHEN value < 7 THEN 1 END) "
                                "FROM score s JOIN contact c ON c.id = s.contact_id "
                                "WHERE s.model = 'nps'");
  q.executeStep();
  NpsOverall o;
  o.promoters = q.getColumn(0).getInt64();
  o.passives = q.getColumn(1).getInt64();
  o.detractors = q.getColumn(2).getInt64();
  const std::int64_t n = o.promoters + o.passives + o.detractors;
  if (n == 0)
    return std::nullopt;
  o.nps = to_hundredths(100.0 * static_cast<double>(o.promoters - o.detractors) /
                        static_cast<double>(n));
  return o;
}

std::vector<Explanation> explain_scores(Database& db, const Config& config, std::int64_t contact_id,
                                        const std::optional<std::string>& model, TimePoint now) {
  std::vector<std::string> names;
  if (model) {
    check_score_model(*model);
    names.push_back(*model);
  } else {
    names.assign(k_models.begin(), k_models.end());
  }
  std::vector<Explanation> out;
  db.read([&] {
    const auto refused =
        profiling_refusals(db, requires_consent(config), now, contact_id, consent_lifetime(config));
    SQLite::Statement s(db.sql(), "SELECT contact_id, model, value, label, at FROM score "
                                  "WHERE contact_id = ? AND model = ?");
    SQLite::Statement p(db.sql(), "SELECT points, reason FROM score_part "
                                  "WHERE contact_id = ? AND model = ? ORDER BY ord");
    SQLite::Statement ran(db.sql(), "SELECT 1 FROM score WHERE model = ? LIMIT 1");
    for (const auto& name : names) {
      Explanation e;
      e.model = name;
      s.bind(1, contact_id);
      s.bind(2, name);
      if (s.executeStep())
        e.score = read_score(s);
      s.reset();
      auto why = refused.find(contact_id);
      if (e.score) {
        p.bind(1, contact_id);
        p.bind(2, name);
        while (p.executeStep())
          e.parts.push_back(
              {to_hundredths(p.getColumn(0).getDouble()), p.getColumn(1).getString()});
        p.reset();
        if (why != refused.end())
          e.note =
              fmt::format("computed before the contact {}; the next run removes it", why->second);
      } else if (why != refused.end()) {
        e.note = "not scored: " + why->second;
      } else {
        ran.bind(1, name);
        const bool has_run = ran.executeStep();
        ran.reset();
        e.note = has_run ? unscored_reason(name, config)
                         : fmt::format("not scored: the model has not run yet ('crm score run {}')",
                                       name);
      }
      out.push_back(std::move(e));
    }
  });
  return out;
}

} // namespace crm
