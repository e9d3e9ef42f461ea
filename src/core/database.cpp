#include <crm/database.hpp>
#include <crm/error.hpp>

#include "migrations.hpp"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/core.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace crm {

namespace fs = std::filesystem;

namespace {

// Creates an empty file readable only by its owner, so personal data is
// never, even for a moment, world-readable.
void create_private_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return;
    throw Error(Exit::cant_create, fmt::format("cannot create database '{}': {}", path.string(),
                                               std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  ::close(fd);
}

SQLite::Database open_connection(const fs::path& path, int busy_timeout_ms, Create create) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (create == Create::yes && !fs::exists(status)) {
    create_private_file(path);
  } else if (!fs::exists(status)) {
    throw Error(Exit::no_input,
                fmt::format("cannot open database '{}': no such file", path.string()),
                "run 'crm init' to create it, or name another with --db or $CRM_DB");
  }
  if (fs::is_directory(path, ec))
    throw Error(Exit::no_input,
                fmt::format("cannot open database '{}': is a directory", path.string()));
  // Memory statistics take a global mutex on every allocation; crm reads
  // none of them. Must come before SQLite's first use, once per process.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  try {
    return SQLite::Database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX, busy_timeout_ms);
  } catch (const std::exception& e) {
    throw Error(Exit::no_input,
                fmt::format("cannot open database '{}': {}", path.string(), e.what()));
  }
}

} // namespace

[[noreturn]] void throw_sqlite_error(const std::exception& e, std::string_view context) {
  if (const auto* error = dynamic_cast<const Error*>(&e))
    throw *error;
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  if (sqlite == nullptr)
    throw Error(Exit::internal, fmt::format("{}: {} (this is a bug in crm)", context, e.what()));
  switch (sqlite->getErrorCode()) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    throw Error(Exit::temp_fail, fmt::format("{}: the database is locked", context),
                "another crm process is using it; retry later or raise "
                "[database].busy_timeout_ms");
  case SQLITE_FULL:
    throw Error(Exit::io, fmt::format("{}: the disk is full", context));
  case SQLITE_READONLY:
    throw Error(Exit::io, fmt::format("{}: the database is read-only", context),
                "check the permissions of the database file and its folder");
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    throw Error(Exit::io,
                fmt::format("{}: the database file is corrupt or not a crm database", context),
                "'crm db check' tells more; restore from a backup ('crm db backup')");
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
  case SQLITE_PERM:
    throw Error(Exit::io, fmt::format("{}: I/O error: {}", context, sqlite->what()));
  case SQLITE_CONSTRAINT:
    // crm writes only rows whose references it has just read, so a broken
    // reference means a damaged file (overwritten pages), not bad input.
    if (sqlite->getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY)
      throw Error(
          Exit::io,
          fmt::format("{}: the database is inconsistent: a row refers to a missing one", context),
          "'crm db check' tells more; restore from a backup ('crm db backup')");
    throw Error(Exit::data, fmt::format("{}: {}", context, sqlite->what()));
  default:
    throw Error(Exit::internal,
                fmt::format("{}: {} (this is a bug in crm)", context, sqlite->what()));
  }
}

Database::Database(const fs::path& path, int busy_timeout_ms, Create create)
    : m_path(path), m_db(open_connection(path, busy_timeout_ms, create)) {
  std::string context = fmt::format("cannot open database '{}'", path.string());
  int version = 0;
  try {
    version = m_db.execAndGet("PRAGMA user_version").getInt();
    m_db.exec("PRAGMA foreign_keys = ON");
    m_db.exec("PRAGMA secure_delete = ON");
    // Statement journals and sorts stay in memory: no personal data in
    // temporary files, and no writes for them.
    m_db.exec("PRAGMA temp_store = MEMORY");
  } catch (const std::exception& e) {
    throw_sqlite_error(e, context);
  }
  if (version > latest_schema_version())
    throw Error(Exit::config,
                fmt::format("database '{}' was written by a newer crm (schema version {}, this crm "
                            "knows up to {})",
                            path.string(), version, latest_schema_version()),
                "upgrade crm to use this database");
  try {
    // WAL is persistent; setting it needs a write, so only when not yet set.
    if (m_db.execAndGet("PRAGMA journal_mode").getString() != "wal")
      m_db.exec("PRAGMA journal_mode = WAL");
    m_db.exec("PRAGMA synchronous = NORMAL");
  } catch (const std::exception& e) {
    throw_sqlite_error(e, context);
  }
  if (version < latest_schema_version())
    migrate();
}

int Database::schema_version() { return m_db.execAndGet("PRAGMA user_version").getInt(); }

int Database::latest_schema_version() { return static_cast<int>(migrations().size()); }

int Database::migrate() {
  int applied = 0;
  try {
    SQLite::Transaction transaction(m_db, SQLite::TransactionBehavior::IMMEDIATE);
    int version = schema_version();
    if (version > latest_schema_version())
      throw Error(Exit::config,
                  fmt::format("database '{}' was written by a newer crm (schema version {})",
                              m_path.string(), version));
    for (auto i = static_cast<std::size_t>(version); i < migrations().size(); ++i) {
      m_db.exec(std::string(migrations()[i]));
      m_db.exec(fmt::format("PRAGMA user_version = {}", i + 1));
      ++applied;
    }
    transaction.commit();
  } catch (const std::exception& e) {
    throw_sqlite_error(e, fmt::format("cannot migrate database '{}'", m_path.string()));
  }
  return applied;
}

void Database::write(const std::function<void()>& work) {
  SQLite::Transaction transaction(m_db, SQLite::TransactionBehavior::IMMEDIATE);
  work();
  transaction.commit();
}

void Database::read(const std::function<void()>& work) {
  SQLite::Transaction transaction(m_db, SQLite::TransactionBehavior::DEFERRED);
  work();
  transaction.commit();
}

void bind_all(SQLite::Statement& statement, const std::vector<SqlValue>& values, int first) {
  int index = first;
  for (const auto& value : values) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>)
            statement.bind(index);
          else if constexpr (std::is_same_v<T, std::int64_t>)
            statement.bind(index, static_cast<std::int64_t>(v));
          else
            statement.bind(index, v);
        },
        value);
    ++index;
  }
}

bool readable_by_others(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return false;
  return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

std::vector<std::string> check_database(Database& db) {
  std::vector<std::string> problems;
  try {
    SQLite::Statement integrity(db.sql(), "PRAGMA integrity_check");
    while (integrity.executeStep()) {
      std::string line = integrity.getColumn(0).getString();
      if (line != "ok")
        problems.push_back(line);
    }
    SQLite::Statement foreign(db.sql(), "PRAGMA foreign_key_check");
    while (foreign.executeStep()) {
      // WITHOUT ROWID tables report no rowid.
      std::string row = foreign.getColumn(1).isNull()
                            ? std::string("a row")
                            : fmt::format("row {}", foreign.getColumn(1).getInt64());
      problems.push_back(fmt::format("table {}: {} refers to a missing {} row",
                                     foreign.getColumn(0).getString(), row,
                                     foreign.getColumn(2).getString()));
    }
    SQLite::Statement fts(
        db.sql(), "INSERT INTO contact_fts(contact_fts, rank) VALUES ('integrity-check', 1)");
    try {
      fts.exec();
    } catch (const SQLite::Exception& e) {
      problems.push_back(fmt::format("full-text index: {}", e.what()));
    }
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot check database");
  }
  return problems;
}

void backup_database(Database& db, const fs::path& target) {
  std::error_code ec;
  if (fs::exists(target, ec))
    throw Error(Exit::cant_create,
                fmt::format("cannot create backup '{}': file exists", target.string()),
                "remove it first or choose another name");
  fs::path temporary = target;
  temporary += ".tmp";
  fs::remove(temporary, ec);
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw Error(Exit::cant_create, fmt::format("cannot create backup '{}': {}", target.string(),
                                               std::strerror(errno)));
  ::close(fd);
  try {
    {
      SQLite::Database copy(temporary, SQLite::OPEN_READWRITE);
      SQLite::Backup backup(copy, db.sql());
      backup.executeStep(-1);
    }
    // The copy of a WAL database is in WAL mode too; make it one self-contained file.
    {
      SQLite::Database copy(temporary, SQLite::OPEN_READWRITE);
      copy.exec("PRAGMA journal_mode = DELETE");
    }
    fs::rename(temporary, target);
  } catch (const std::exception& e) {
    fs::remove(temporary, ec);
    throw_sqlite_error(e, fmt::format("cannot write backup '{}'", target.string()));
  }
}

void vacuum_database(Database& db) {
  try {
    db.sql().exec("VACUUM");
    db.sql().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot vacuum database");
  }
}

DatabaseStats database_stats(Database& db) {
  DatabaseStats stats;
  try {
    stats.path = db.path().string();
    stats.schema_version = db.schema_version();
    stats.page_size = db.sql().execAndGet("PRAGMA page_size").getInt64();
    stats.page_count = db.sql().execAndGet("PRAGMA page_count").getInt64();
    stats.freelist_count = db.sql().execAndGet("PRAGMA freelist_count").getInt64();
    std::error_code ec;
    auto size = fs::file_size(db.path(), ec);
    stats.file_bytes = ec ? 0 : static_cast<std::int64_t>(size);
    SQLite::Statement tables(db.sql(),
                             "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
                             "LIKE 'sqlite_%' AND name NOT LIKE 'contact_fts_%' AND sql NOT "
                             "LIKE 'CREATE VIRTUAL%' ORDER BY name");
    while (tables.executeStep()) {
      std::string name = tables.getColumn(0).getString();
      // Names come from sqlite_schema, not from the user; quoted as identifiers.
      SQLite::Statement count(db.sql(), fmt::format("SELECT count(*) FROM \"{}\"", name));
      count.executeStep();
      stats.tables.push_back({name, count.getColumn(0).getInt64()});
    }
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot read database statistics");
  }
  return stats;
}

std::vector<SchemaObject> database_schema(Database& db) {
  std::vector<SchemaObject> objects;
  try {
    SQLite::Statement q(db.sql(), "SELECT type, name, sql FROM sqlite_schema "
                                  "WHERE type IN ('table', 'view') AND sql IS NOT NULL "
                                  "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'contact_fts_%' "
                                  "ORDER BY type, rowid");
    while (q.executeStep())
      objects.push_back(
          {q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()});
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot read the schema");
  }
  return objects;
}

} // namespace crm
