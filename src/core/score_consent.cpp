#include <crm/score.hpp>

#include <fmt/core.h>

#include <SQLiteCpp/SQLiteCpp.h>

namespace crm {

// The gate decides as `crm consent check` does: the latest grant,
// confirmation, withdrawal or objection up to `now` (ties by ledger order)
// decides; an objection without a purpose (NULL) objects to every purpose;
// a double opt-in request alone decides nothing.
std::unordered_map<std::int64_t, std::string>
profiling_refusals(Database& db, std::string_view requires_consent, TimePoint now,
                   std::optional<std::int64_t> contact_id, std::optional<Duration> valid_for) {
  std::unordered_map<std::int64_t, std::string> refused;
  SQLite::Statement exists(db.sql(),
                           "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'consent'");
  if (!exists.executeStep())
    return refused;
  const std::string sql =
      fmt::format(R"sql(
WITH latest AS (
  SELECT contact_id, purpose, action, at FROM (
    SELECT k.contact_id, p.purpose, k.action, k.at,
           row_number() OVER (PARTITION BY k.contact_id, p.purpose
                              ORDER BY k.at DESC, k.rowid DESC) AS n
    FROM consent k
    JOIN (SELECT 'profiling' AS purpose UNION SELECT ?1) p
      ON k.purpose = p.purpose OR (k.purpose IS NULL AND k.action = 'object')
    WHERE k.action <> 'request' AND k.at <= ?2 {0})
  WHERE n = 1)
SELECT c.id, o.action, o.at, r.action, r.at FROM contact c
LEFT JOIN latest o ON o.contact_id = c.id AND o.purpose = 'profiling'
LEFT JOIN latest r ON r.contact_id = c.id AND r.purpose = ?1
WHERE {1} (o.action = 'object'
           OR (?1 <> '' AND (r.action IS NULL OR r.action NOT IN ('grant', 'confirm')
                             OR r.at <= ?4)))
)sql",
                  contact_id ? "AND k.contact_id = ?3" : "", contact_id ? "c.id = ?3 AND" : "");
  SQLite::Statement q(db.sql(), sql);
  q.bind(1, std::string(requires_consent));
  q.bind(2, format_time(now));
  q.bind(4, valid_for ? format_time(shift(now, *valid_for, -1)) : std::string());
  if (contact_id)
    q.bind(3, *contact_id);
  while (q.executeStep()) {
    const std::int64_t id = q.getColumn(0).getInt64();
    std::string why;
    if (!q.getColumn(1).isNull() && q.getColumn(1).getString() == "object") {
      why = fmt::format("objected to profiling on {}", q.getColumn(2).getString());
    } else if (q.getColumn(3).isNull()) {
      why =
          fmt::format("no '{}' consent, which [score].requires_consent demands", requires_consent);
    } else {
      const std::string action = q.getColumn(3).getString();
      const std::string at = q.getColumn(4).getString();
      if ((action == "grant" || action == "confirm") && valid_for)
        why = fmt::format("'{}' consent given on {} expired after {}", requires_consent, at,
                          format_duration(*valid_for));
      else if (action == "request")
        why = fmt::format("'{}' consent requested on {} but not confirmed", requires_consent, at);
      else
        why = fmt::format("'{}' consent: the latest entry is '{}' on {}, not a grant",
                          requires_consent, action, at);
      why += " ([score].requires_consent demands a current grant)";
    }
    refused.emplace(id, std::move(why));
  }
  return refused;
}

} // namespace crm
