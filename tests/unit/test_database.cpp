#include "exit_of.hpp"
#include "migrations.hpp"
#include "temp_dir.hpp"

#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/error.hpp>
#include <crm/import.hpp>
#include <crm/personal_data.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>
#include <fmt/core.h>
#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace crm;

namespace {

// A database as an older crm left it: the first `version` migrations only.
void create_at_version(const std::filesystem::path& path, int version, std::string_view extra_sql) {
  SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  for (int i = 0; i < version; ++i)
    db.exec(std::string(migrations()[static_cast<std::size_t>(i)]));
  db.exec(std::string(extra_sql));
  db.exec(fmt::format("PRAGMA user_version = {}", version));
}

} // namespace

TEST_CASE("a new database is created with mode 0600, WAL and the latest schema") {
  TempDir dir;
  auto path = dir / "crm.db";
  Database db(path, 1000, Create::yes);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(db.schema_version() == Database::latest_schema_version());
  CHECK(db.sql().execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(db.sql().execAndGet("PRAGMA foreign_keys").getInt() == 1);
  CHECK(db.sql().execAndGet("PRAGMA secure_delete").getInt() == 1);
  CHECK_FALSE(readable_by_others(path));
}

TEST_CASE("opening a missing database without Create is exit 66 and creates nothing") {
  TempDir dir;
  auto path = dir / "missing.db";
  CHECK(exit_of([&] { Database db(path, 1000, Create::no); }) == Exit::no_input);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a database from a newer crm is refused with 78") {
  TempDir dir;
  auto path = dir / "crm.db";
  {
    Database db(path, 1000, Create::yes);
    db.sql().exec("PRAGMA user_version = 1000");
  }
  CHECK(exit_of([&] { Database db(path, 1000, Create::no); }) == Exit::config);
}

TEST_CASE("a file that is not a database is exit 74") {
  TempDir dir;
  auto path = dir / "junk.db";
  std::ofstream(path) << std::string(4096, 'x');
  CHECK(exit_of([&] { Database db(path, 1000, Create::no); }) == Exit::io);
}

TEST_CASE("migrations are idempotent: opening twice runs none the second time") {
  TempDir dir;
  auto path = dir / "crm.db";
  { Database db(path, 1000, Create::yes); }
  Database db(path, 1000, Create::no);
  CHECK(db.migrate() == 0);
}

TEST_CASE("a failing write transaction changes nothing") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  CHECK_THROWS_AS(db.write([&] {
    db.sql().exec("INSERT INTO meta (key, value) VALUES ('a', 'b')");
    throw Error(Exit::data, "stop");
  }),
                  Error);
  CHECK(db.sql().execAndGet("SELECT count(*) FROM meta WHERE key = 'a'").getInt() == 0);
}

TEST_CASE("check finds a row that refers to a missing contact") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  CHECK(check_database(db).empty());
  db.sql().exec("PRAGMA foreign_keys = OFF");
  db.sql().exec("INSERT INTO note (contact_id, body, created_at) VALUES (7, 'x', 'y')");
  auto problems = check_database(db);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "table note: row 1 refers to a missing contact row");
}

namespace {

// The Error that throw_sqlite_error makes of the exception `sql` throws.
Error sqlite_error_of(Database& db, const char* sql) {
  try {
    try {
      db.sql().exec(sql);
    } catch (const std::exception& e) {
      throw_sqlite_error(e, "cannot do it");
    }
  } catch (const Error& e) {
    return e;
  }
  return Error(Exit::ok, "no error");
}

} // namespace

TEST_CASE("a broken reference, as on a damaged file, is 74 with a hint; other constraints 65") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  auto broken =
      sqlite_error_of(db, "INSERT INTO note (contact_id, body, created_at) VALUES (7, 'x', 'y')");
  CHECK(broken.code() == Exit::io);
  CHECK(std::string(broken.what()) ==
        "cannot do it: the database is inconsistent: a row refers to a missing one");
  CHECK(broken.hint() == "'crm db check' tells more; restore from a backup ('crm db backup')");
  db.sql().exec("INSERT INTO meta (key, value) VALUES ('a', 'b')");
  CHECK(sqlite_error_of(db, "INSERT INTO meta (key, value) VALUES ('a', 'c')").code() ==
        Exit::data);
}

TEST_CASE("backup writes a private, self-contained copy and refuses to overwrite") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  db.sql().exec("INSERT INTO meta (key, value) VALUES ('k', 'v')");
  auto target = dir / "copy.db";
  backup_database(db, target);
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  Database copy(target, 1000, Create::no);
  CHECK(copy.sql().execAndGet("SELECT value FROM meta WHERE key = 'k'").getString() == "v");
  CHECK(exit_of([&] { backup_database(db, target); }) == Exit::cant_create);
  CHECK(exit_of([&] { backup_database(db, dir / "no" / "dir.db"); }) == Exit::cant_create);
}

TEST_CASE("every column that names a contact is in the personal data registry") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& t : personal_tables())
    registered.emplace(std::string(t.table), std::string(t.contact_column));
  SQLite::Statement tables(db.sql(), "SELECT name FROM sqlite_schema WHERE type = 'table'");
  std::vector<std::string> names;
  while (tables.executeStep())
    names.push_back(tables.getColumn(0).getString());
  for (const auto& name : names) {
    if (name == "contact")
      continue;
    // A column named contact_id, or any column with a foreign key to contact.
    SQLite::Statement columns(
        db.sql(), "SELECT name FROM pragma_table_info(?1) WHERE name = 'contact_id' UNION "
                  "SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE \"table\" = 'contact'");
    columns.bind(1, name);
    while (columns.executeStep()) {
      std::string column = columns.getColumn(0).getString();
      INFO("column ", name, ".", column, " names a contact but is not in personal_tables()");
      CHECK(registered.count({name, column}) == 1);
    }
  }
  for (const auto& t : personal_tables()) {
    INFO("registered table ", t.table, " does not exist");
    CHECK(std::find(names.begin(), names.end(), std::string(t.table)) != names.end());
  }
}

TEST_CASE("stats count the rows of each table") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  auto stats = database_stats(db);
  CHECK(stats.schema_version == Database::latest_schema_version());
  auto it = std::find_if(stats.tables.begin(), stats.tables.end(),
                         [](const TableStats& t) { return t.name == "contact"; });
  REQUIRE(it != stats.tables.end());
  CHECK(it->rows == 0);
}

TEST_CASE("the event indexes run by contact and time, and by touchpoint and contact") {
  TempDir dir;
  Database db(dir / "crm.db", 1000, Create::yes);
  auto columns = [&](const char* index) {
    std::vector<std::string> names;
    SQLite::Statement q(db.sql(), "SELECT ifnull(name, '(expr)') FROM pragma_index_xinfo(?) "
                                  "WHERE key ORDER BY seqno");
    q.bind(1, index);
    while (q.executeStep())
      names.push_back(q.getColumn(0).getString());
    return names;
  };
  CHECK(columns("event_identity") ==
        std::vector<std::string>{"contact_id", "at", "touchpoint", "(expr)", "(expr)", "(expr)"});
  CHECK(columns("event_by_touchpoint") ==
        std::vector<std::string>{"touchpoint", "contact_id", "at"});
  CHECK(columns("event_by_contact_at").empty());
  // A contact's timeline reads the identity index.
  SQLite::Statement plan(db.sql(), "EXPLAIN QUERY PLAN SELECT * FROM event WHERE contact_id = 1 "
                                   "ORDER BY at, id");
  std::string detail;
  while (plan.executeStep())
    detail += plan.getColumn(3).getString() + "\n";
  CHECK(detail.find("USING INDEX event_identity (contact_id=?)") != std::string::npos);
}

TEST_CASE("a database of schema 10 keeps its events and their identity when it moves to 11") {
  TempDir dir;
  auto path = dir / "crm.db";
  create_at_version(path, 10, R"sql(
INSERT INTO contact (id, created_at, updated_at) VALUES (1, 'x', 'x');
INSERT INTO event (contact_id, touchpoint, at) VALUES (1, 'purchase', '2026-01-02T00:00:00Z'),
                                                      (1, 'page_view', '2026-01-01T00:00:00Z');
)sql");
  Database db(path, 1000, Create::no);
  CHECK(db.schema_version() == Database::latest_schema_version());
  CHECK(db.sql().execAndGet("SELECT count(*) FROM event").getInt() == 2);
  CHECK(db.sql()
            .execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = "
                        "'event_by_contact_at'")
            .getInt() == 0);
  db.sql().exec("INSERT OR IGNORE INTO event (contact_id, touchpoint, at) "
                "VALUES (1, 'purchase', '2026-01-02T00:00:00Z')");
  CHECK(db.sql().getChanges() == 0);
  CHECK(db.sql()
            .execAndGet("SELECT group_concat(touchpoint) FROM (SELECT touchpoint FROM event "
                        "WHERE contact_id = 1 ORDER BY at)")
            .getString() == "page_view,purchase");
}

TEST_CASE("a database of schema 11 keeps its search when the index moves to external content") {
  TempDir dir;
  auto path = dir / "crm.db";
  // Contacts and notes indexed by the triggers of migration 1.
  create_at_version(path, 11, R"sql(
INSERT INTO contact (id, first_name, last_name, email, city, created_at, updated_at)
VALUES (1, 'Jörg', 'Größ', 'joerg@example.org', 'München', 'x', 'x'),
       (2, 'Anna', NULL, NULL, NULL, 'x', 'x');
INSERT INTO note (contact_id, body, created_at) VALUES (2, 'likes blue tulips', 'x'),
                                                      (2, 'second note', 'x');
)sql");
  Database db(path, 1000, Create::no);
  CHECK(db.schema_version() == Database::latest_schema_version());
  auto search = [&](std::string_view text) {
    std::vector<std::int64_t> ids;
    search_contacts(db, text, 0, [&](const Contact& c) { ids.push_back(c.id); });
    return ids;
  };
  CHECK(search("jorg münch") == std::vector<std::int64_t>{1});
  CHECK(search("tulip") == std::vector<std::int64_t>{2});
  CHECK(check_database(db).empty());
  // No copy of the text and no prefix index any more.
  CHECK(db.sql()
            .execAndGet("SELECT count(*) FROM sqlite_schema WHERE name IN "
                        "('contact_fts_content', 'contact_fts_docsize')")
            .getInt() == 0);
  // The triggers keep it in step with every later write.
  db.sql().exec("UPDATE contact SET last_name = 'Klein' WHERE id = 1");
  db.sql().exec("INSERT INTO note (contact_id, body, created_at) VALUES (1, 'orchid', 'x')");
  db.sql().exec("UPDATE note SET contact_id = 1 WHERE body = 'second note'");
  db.sql().exec("DELETE FROM note WHERE body = 'likes blue tulips'");
  CHECK(search("größ").empty());
  CHECK(search("klein orchid second") == std::vector<std::int64_t>{1});
  CHECK(search("tulips").empty());
  CHECK(check_database(db).empty());
  db.sql().exec("DELETE FROM note WHERE contact_id = 1");
  db.sql().exec("DELETE FROM contact WHERE id = 1");
  CHECK(search("klein").empty());
  CHECK(check_database(db).empty());
  // A contact the index does not know is found by db check.
  sqlite3_db_config(db.sql().getHandle(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
  db.sql().exec("INSERT INTO contact (id, first_name, created_at, updated_at) "
                "VALUES (3, 'Unindexed', 'x', 'x')");
  sqlite3_db_config(db.sql().getHandle(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, nullptr);
  auto problems = check_database(db);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("full-text index: "));
}

TEST_CASE("a batch imported before schema 13 (an undo row per created contact) is still undone") {
  TempDir dir;
  auto path = dir / "crm.db";
  create_at_version(path, 12, R"sql(
INSERT INTO import_batch (id, kind, started_at, finished_at, inserted)
VALUES (1, 'contacts', 'x', 'x', 2);
INSERT INTO contact (id, first_name, created_at, updated_at) VALUES (1, 'Old', 'x', 'x'),
                                                                    (2, 'Older', 'x', 'x');
INSERT INTO history (contact_id, at, action, source) VALUES (1, 'x', 'import', 'import batch 1'),
                                                            (2, 'x', 'import', 'import batch 1');
INSERT INTO import_change (batch_id, contact_id, action) VALUES (1, 1, 'insert'), (1, 2, 'insert');
)sql");
  Database db(path, 1000, Create::no);
  auto summary = undo_import(db, 1, WriteContext{});
  CHECK(summary.deleted == 2);
  CHECK(db.sql().execAndGet("SELECT count(*) FROM contact").getInt() == 0);
  CHECK(check_database(db).empty());
}
