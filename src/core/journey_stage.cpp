#include <crm/journey.hpp>

#include <crm/error.hpp>
#include <crm/json.hpp>

#include "contact_store.hpp"

namespace crm {

StageSummary recompute_stages(Database& db, const StageOptions& options, const WriteContext& ctx) {
  // One CASE with the rules in order: SQLite stops at the first that holds.
  std::string sql = "SELECT c.id, c.stage, c.stage_manual, ";
  std::vector<SqlValue> params;
  if (options.rules.empty()) {
    sql += "NULL";
  } else {
    sql += "CASE";
    for (const auto& rule : options.rules) {
      sql += " WHEN (" + rule.when.sql + ") THEN ?";
      params.insert(params.end(), rule.when.params.begin(), rule.when.params.end());
      params.emplace_back(rule.name);
    }
    sql += " END";
  }
  sql += " FROM contact c";
  if (options.where) {
    sql += " WHERE " + options.where->sql;
    params.insert(params.end(), options.where->params.begin(), options.where->params.end());
  }
  sql += " ORDER BY c.id";

  StageSummary summary;
  const std::string now = format_time(ctx.now);
  try {
    db.write([&] {
      summary = StageSummary{};
      struct Change {
        std::int64_t id;
        std::optional<std::string> before, after;
      };
      std::vector<Change> changes;
      {
        SQLite::Statement scan(db.sql(), sql);
        bind_all(scan, params);
        while (scan.executeStep()) {
          std::optional<std::string> before, after;
          if (!scan.getColumn(1).isNull())
            before = scan.getColumn(1).getString();
          if (!scan.getColumn(3).isNull())
            after = scan.getColumn(3).getString();
          const bool manual = scan.getColumn(2).getInt() != 0;
          if (manual && options.force == Force::no) {
            ++summary.kept;
            continue;
          }
          if (before == after) {
            if (manual) // --force: the stage stays, but is the rules' from now on
              changes.push_back({scan.getColumn(0).getInt64(), before, after});
            else
              ++summary.unchanged;
            continue;
          }
          changes.push_back({scan.getColumn(0).getInt64(), before, after});
        }
      }
      SQLite::Statement update(db.sql(), "UPDATE contact SET stage = ?, stage_manual = 0, "
                                         "updated_at = ? WHERE id = ?");
      ContactWriter writer(db);
      for (const auto& change : changes) {
        if (change.before == change.after) {
          SQLite::Statement release(db.sql(), "UPDATE contact SET stage_manual = 0 WHERE id = ?");
          release.bind(1, change.id);
          release.exec();
          ++summary.unchanged;
          continue;
        }
        if (change.after)
          update.bind(1, *change.after);
        else
          update.bind(1);
        update.bind(2, now);
        update.bind(3, change.id);
        update.exec();
        update.reset();
        std::string detail = "{\"stage\":[";
        detail += change.before ? json_string(*change.before) : "null";
        detail += ',';
        detail += change.after ? json_string(*change.after) : "null";
        detail += "]}";
        writer.history(change.id, now, ctx.source, "stage", detail);
        summary.changed.push_back(change.id);
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot recompute stages");
  }
  return summary;
}

} // namespace crm
