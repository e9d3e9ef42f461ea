#pragma once

#include <crm/database.hpp>

#include <SQLiteCpp/Statement.h>
#include <fmt/core.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// An index that takes a bulk load's rows in random order costs the load far
// more than building it afterwards, sorted. A load into an empty table drops
// such indexes for its transaction and builds them again before it commits:
// inside the transaction, so nobody ever sees the table without them. Make
// one inside the transaction, before the first row; call restore() before
// the transaction commits (a rollback brings the indexes back by itself).
// Statements prepared before are prepared again by SQLite when they next
// run, so only indexes no statement of the load needs may be named.
class DeferredIndexes {
public:
  DeferredIndexes(Database& db, std::string_view table,
                  std::initializer_list<std::string_view> names)
      : m_db(db) {
    if (db.sql().execAndGet(fmt::format("SELECT EXISTS (SELECT 1 FROM {})", table)).getInt() != 0)
      return;
    SQLite::Statement find(db.sql(), "SELECT name, sql FROM sqlite_schema WHERE type = 'index' "
                                     "AND tbl_name = ? AND name = ?");
    for (auto name : names) {
      find.bind(1, std::string(table));
      find.bind(2, std::string(name));
      if (find.executeStep())
        m_dropped.emplace_back(find.getColumn(0).getString(), find.getColumn(1).getString());
      find.reset();
    }
    for (const auto& [name, sql] : m_dropped)
      db.sql().exec("DROP INDEX " + name);
  }

  // Builds the dropped indexes again.
  void restore() {
    for (const auto& [name, sql] : m_dropped)
      m_db.sql().exec(sql);
    m_dropped.clear();
  }

private:
  Database& m_db;
  std::vector<std::pair<std::string, std::string>> m_dropped; // name, CREATE statement
};

} // namespace crm
