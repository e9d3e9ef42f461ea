#pragma once

#include <crm/filter.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

enum class Create { no, yes };

// The one SQLite connection of a command. On open: WAL, foreign keys, the
// busy timeout, then pending migrations (each in one transaction with its
// `PRAGMA user_version` bump).
class Database {
public:
  // Opens (or with Create::yes creates, mode 0600) the database at `path`.
  // Throws Error: 66 if it does not exist (and Create::no) or cannot be
  // opened, 74 if it is not a database or is corrupt, 78 if it was written
  // by a newer crm, 75 if it stays locked past the busy timeout.
  Database(const std::filesystem::path& path, int busy_timeout_ms, Create create);

  SQLite::Database& sql() { return m_db; }
  const std::filesystem::path& path() const { return m_path; }

  // The schema version of the file, and the newest this binary knows.
  int schema_version();
  static int latest_schema_version();

  // Applies pending migrations; returns how many ran.
  int migrate();

  // Runs `work` in one write transaction (BEGIN IMMEDIATE): committed if it
  // returns, rolled back if it throws. SQLite errors become crm::Error.
  void write(const std::function<void()>& work);

  // Runs `work` in one read transaction, so it sees one snapshot.
  void read(const std::function<void()>& work);

private:
  std::filesystem::path m_path;
  SQLite::Database m_db;
};

// Converts a SQLite error into crm::Error with the exit code of SPEC.md
// section 3 (busy/locked 75, full/I/O/corrupt/read-only 74, constraint 65),
// prefixed by `context` ("cannot add contact").
[[noreturn]] void throw_sqlite_error(const std::exception& e, std::string_view context);

// Binds values to `?` placeholders starting at index `first`.
void bind_all(SQLite::Statement& statement, const std::vector<SqlValue>& values, int first = 1);

// True if the file can be read by group or others.
bool readable_by_others(const std::filesystem::path& path);

// Checks integrity (PRAGMA integrity_check and foreign_key_check); returns
// the problems found, empty if none.
std::vector<std::string> check_database(Database& db);

// Writes a consistent copy of the database to `target` (mode 0600) using
// the online backup API, safe while other processes write. Throws Error 73
// if the target cannot be created.
void backup_database(Database& db, const std::filesystem::path& target);

// Rebuilds the file (VACUUM) and truncates the WAL.
void vacuum_database(Database& db);

struct TableStats {
  std::string name;
  std::int64_t rows = 0;
};
struct DatabaseStats {
  std::string path;
  int schema_version = 0;
  std::int64_t page_size = 0;
  std::int64_t page_count = 0;
  std::int64_t freelist_count = 0;
  std::int64_t file_bytes = 0;
  std::vector<TableStats> tables;
};
DatabaseStats database_stats(Database& db);

// A table or view a user may read with sqlite3 (crm-schema(5) documents
// each); the full-text index's shadow tables and SQLite's own are left out.
struct SchemaObject {
  std::string type; // "table" or "view"
  std::string name;
  std::string sql; // its CREATE statement, as stored
};
std::vector<SchemaObject> database_schema(Database& db);

} // namespace crm
