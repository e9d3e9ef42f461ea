#include "temp_dir.hpp"

#include <crm/contacts.hpp>
#include <crm/error.hpp>
#include <crm/import.hpp>

#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <functional>

using namespace crm;

namespace {

// Rows given in the test, as a csv reader would give them.
class VectorReader : public RecordReader {
public:
  VectorReader(std::vector<std::string> columns, std::vector<std::vector<std::string>> rows)
      : m_columns(std::move(columns)), m_rows(std::move(rows)) {}
  InputFormat format() const override { return InputFormat::csv; }
  const std::vector<std::string>& columns() const override { return m_columns; }
  char delimiter() const override { return ','; }
  bool next(InputRecord& record) override {
    if (m_next == m_rows.size())
      return false;
    record.line = m_next + 2;
    record.error.clear();
    record.values.clear();
    for (const auto& v : m_rows[m_next])
      record.values.emplace_back(v);
    if (!m_rows[m_next].empty() && m_rows[m_next][0] == "!broken")
      record.error = "unterminated quoted field";
    ++m_next;
    return true;
  }

private:
  std::vector<std::string> m_columns;
  std::vector<std::vector<std::string>> m_rows;
  std::size_t m_next = 0;
};

struct Rejects : RejectSink {
  std::vector<std::pair<std::size_t, std::string>> rows;
  void reject(const RecordReader&, const InputRecord& record, std::string_view reason) override {
    rows.emplace_back(record.line, std::string(reason));
  }
};

struct Fixture {
  TempDir dir;
  Database db{dir / "crm.db", 1000, Create::yes};
  WriteContext ctx;
  Rejects rejects;
  Fixture() { ctx.now = *parse_time("2026-11-22T09:30:00Z"); }

  ImportSummary run(VectorReader reader, const ImportOptions& options = {}) {
    return import_contacts(db, reader, options, ctx, rejects, nullptr);
  }
  std::int64_t count(const std::string& sql) { return db.sql().execAndGet(sql).getInt64(); }
};

const std::vector<std::string> k_columns = {"External ID", "E-Mail",  "Phone",
                                            "First Name",  "Country", "industry"};

} // namespace

TEST_CASE("import maps columns by name, normalises values and keeps other columns as attributes") {
  Fixture f;
  auto s = f.run(VectorReader(
      k_columns, {{"C1", " Anna@Example.com ", "030 1234567", "Anna", "de", "retail"}}));
  CHECK(s.inserted == 1);
  CHECK(s.batch_id == 1);
  auto c = find_contact(f.db, 1);
  REQUIRE(c);
  CHECK(*c->external_id == "C1");
  CHECK(*c->email == "Anna@Example.com");
  CHECK(*c->phone == "+49301234567");
  CHECK(*c->country == "DE");
  REQUIRE(c->attrs.size() == 1);
  CHECK(c->attrs[0] == std::pair<std::string, std::string>{"industry", "retail"});
  auto history = contact_history(f.db, 1);
  REQUIRE(history.size() == 1);
  CHECK(history[0].action == "import");
  CHECK(*history[0].source == "import batch 1");
  CHECK(*history[0].detail == R"({"created":true})");
}

TEST_CASE("bad rows are rejected with the reason and good rows still land") {
  Fixture f;
  auto s = f.run(VectorReader(k_columns, {{"C1", "a@example.com", "", "A", "DE", ""},
                                          {"C2", "not-an-email", "", "B", "DE", ""},
                                          {"C3", "c@example.com", "12", "C", "DE", ""},
                                          {"C4", "d@example.com", "", "D", "XX", ""},
                                          {"!broken"},
                                          {"C6", "", "", "F", "DE", ""},
                                          {"C7", "g@example.com", "", "G", "DE", ""}}));
  CHECK(s.inserted == 2);
  CHECK(s.rejected == 5);
  REQUIRE(f.rejects.rows.size() == 5);
  CHECK(f.rejects.rows[0] ==
        std::pair<std::size_t, std::string>{3, "invalid email 'not-an-email': no '@'"});
  CHECK(f.rejects.rows[1].second ==
        "invalid phone '12': not a valid number for its region (read with region DE)");
  CHECK(f.rejects.rows[2].second == "invalid country 'XX': not an ISO 3166 alpha-2 code");
  CHECK(f.rejects.rows[3] == std::pair<std::size_t, std::string>{6, "unterminated quoted field"});
  CHECK(f.rejects.rows[4].second == "no email (the import key)");
}

TEST_CASE("importing the same rows twice changes nothing the second time") {
  Fixture f;
  std::vector<std::vector<std::string>> rows = {{"C1", "a@example.com", "", "A", "DE", "x"},
                                                {"C2", "b@example.com", "", "B", "AT", ""}};
  f.run(VectorReader(k_columns, rows));
  auto history = f.count("SELECT count(*) FROM history");
  auto s = f.run(VectorReader(k_columns, rows));
  CHECK(s.inserted == 0);
  CHECK(s.updated == 0);
  CHECK(s.unchanged == 2);
  CHECK(f.count("SELECT count(*) FROM history") == history);
  CHECK(f.count("SELECT count(*) FROM contact") == 2);
}

TEST_CASE("a known row updates only the values it has, and records what changed") {
  Fixture f;
  f.run(VectorReader(k_columns, {{"C1", "a@example.com", "030 1234567", "A", "DE", "x"}}));
  auto s = f.run(VectorReader({"email", "city"}, {{"A@EXAMPLE.COM", "Bonn"}}));
  CHECK(s.updated == 1);
  auto c = find_contact(f.db, 1);
  CHECK(*c->city == "Bonn");
  CHECK(*c->phone == "+49301234567");
  auto history = contact_history(f.db, 1);
  CHECK(*history.back().detail == R"({"city":[null,"Bonn"]})");
  CHECK(f.count("SELECT count(*) FROM import_change WHERE action = 'update' AND before IS NOT "
                "NULL") == 1);
}

TEST_CASE("--on-conflict skip leaves known contacts, fail aborts the batch") {
  Fixture f;
  f.run(VectorReader(k_columns, {{"C1", "a@example.com", "", "A", "DE", ""}}));
  ImportOptions skip;
  skip.on_conflict = OnConflict::skip;
  auto s = f.run(VectorReader({"email", "city"}, {{"a@example.com", "Bonn"}}), skip);
  CHECK(s.unchanged == 1);
  CHECK_FALSE(find_contact(f.db, 1)->city);
  ImportOptions fail;
  fail.on_conflict = OnConflict::fail;
  CHECK_THROWS_AS(f.run(VectorReader({"email", "city"},
                                     {{"new@example.com", "Köln"}, {"a@example.com", "Bonn"}}),
                        fail),
                  Error);
  CHECK(f.count("SELECT count(*) FROM contact") == 1);
}

TEST_CASE("--max-rejects aborts and changes nothing") {
  Fixture f;
  ImportOptions options;
  options.max_rejects = 0;
  CHECK_THROWS_AS(f.run(VectorReader(k_columns, {{"C1", "a@example.com", "", "A", "DE", ""},
                                                 {"C2", "bad", "", "B", "DE", ""}}),
                        options),
                  Error);
  CHECK(f.count("SELECT count(*) FROM contact") == 0);
  CHECK(f.count("SELECT count(*) FROM import_batch") == 0);
}

TEST_CASE("--dry-run counts exactly and writes nothing") {
  Fixture f;
  ImportOptions options;
  options.dry_run = DryRun::yes;
  auto s = f.run(VectorReader(k_columns, {{"C1", "a@example.com", "", "A", "DE", ""},
                                          {"C2", "a@example.com", "", "B", "DE", ""},
                                          {"C3", "bad", "", "C", "DE", ""}}),
                 options);
  CHECK(s.inserted == 1);
  CHECK(s.updated == 1);
  CHECK(s.rejected == 1);
  CHECK(s.batch_id == 0);
  CHECK(f.count("SELECT count(*) FROM contact") == 0);
  CHECK(f.count("SELECT count(*) FROM history") == 0);
}

TEST_CASE("each --batch rows are one transaction") {
  Fixture f;
  ImportOptions options;
  options.batch = 2;
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 5; ++i)
    rows.push_back(
        {"C" + std::to_string(i), "p" + std::to_string(i) + "@example.com", "", "P", "DE", ""});
  auto s = f.run(VectorReader(k_columns, rows), options);
  CHECK(s.inserted == 5);
  CHECK(f.count("SELECT inserted FROM import_batch WHERE id = 1") == 5);
}

TEST_CASE("--map and --strict decide where columns go") {
  Fixture f;
  ImportOptions options;
  options.map = {{"Kundennummer", "external_id"}, {"Notiz", "-"}, {"Segment", "attr.seg"}};
  options.key = ImportKey::external_id;
  f.run(VectorReader({"Kundennummer", "Notiz", "Segment", "Tags"},
                     {{"K-1", "secret", "gold", "vip;b2b"}}),
        options);
  auto c = find_contact(f.db, 1);
  CHECK(*c->external_id == "K-1");
  CHECK(c->attrs == std::vector<std::pair<std::string, std::string>>{{"seg", "gold"}});
  CHECK(c->tags == std::vector<std::string>{"b2b", "vip"});
  ImportOptions strict;
  strict.strict = Strict::yes;
  CHECK_THROWS_AS(
      f.run(VectorReader({"email", "Lieblingsfarbe"}, {{"x@example.com", "rot"}}), strict), Error);
  ImportOptions bad_map;
  bad_map.map = {{"A", "colour"}};
  CHECK_THROWS_AS(f.run(VectorReader({"A"}, {{"x"}}), bad_map), Error);
}

TEST_CASE("--key none makes every row a new contact, --key external_id matches on it") {
  Fixture f;
  ImportOptions none;
  none.key = ImportKey::none;
  f.run(VectorReader({"first_name"}, {{"A"}, {"A"}}), none);
  CHECK(f.count("SELECT count(*) FROM contact") == 2);
  ImportOptions ext;
  ext.key = ImportKey::external_id;
  f.run(VectorReader({"external_id", "city"}, {{"E1", "Ulm"}}), ext);
  auto s = f.run(VectorReader({"external_id", "city"}, {{"E1", "Jena"}}), ext);
  CHECK(s.updated == 1);
}

TEST_CASE("created_at is taken from the file when it is there") {
  Fixture f;
  f.run(VectorReader({"email", "created_at"},
                     {{"a@example.com", "2024-08-23T08:14:37Z"}, {"b@example.com", "yesterday"}}));
  CHECK(find_contact(f.db, 1)->created_at == "2024-08-23T08:14:37Z");
  CHECK(f.rejects.rows.size() == 1);
}

TEST_CASE("imported and updated contacts are in the full-text index, and the index is sound") {
  Fixture f;
  f.run(VectorReader({"email", "last_name", "city"},
                     {{"a@example.com", "Müller", "Köln"}, {"b@example.com", "Schmidt", "Ulm"}}));
  std::vector<std::int64_t> found;
  auto search = [&](const std::string& text) {
    found.clear();
    search_contacts(f.db, text, 0, [&](const Contact& c) { found.push_back(c.id); });
    return found;
  };
  CHECK(search("muller") == std::vector<std::int64_t>{1});
  f.run(VectorReader({"email", "last_name"}, {{"a@example.com", "Meier"}}));
  CHECK(search("muller").empty());
  CHECK(search("meier koln") == std::vector<std::int64_t>{1});
  CHECK(check_database(f.db).empty());
  // After the import, single writes index through the triggers again.
  ContactChanges c;
  c.fields = {{"last_name", "Zander"}};
  add_contact(f.db, c, f.ctx);
  CHECK(search("zander") == std::vector<std::int64_t>{3});
  // A row that changes a contact created earlier in the same batch.
  f.run(VectorReader({"email", "last_name"},
                     {{"c@example.com", "Alpha"}, {"c@example.com", "Beta"}}));
  CHECK(search("alpha").empty());
  CHECK(search("beta") == std::vector<std::int64_t>{4});
  CHECK(check_database(f.db).empty());
  // The import turns foreign keys off for its writes, and on again.
  CHECK(f.count("PRAGMA foreign_keys") == 1);
}

TEST_CASE("--key none rejects a row whose external id another contact has, and goes on") {
  Fixture f;
  ImportOptions none;
  none.key = ImportKey::none;
  auto s = f.run(
      VectorReader({"external_id", "email"},
                   {{"E1", "a@example.com"}, {"E1", "b@example.com"}, {"E2", "a@example.com"}}),
      none);
  CHECK(s.inserted == 2);
  CHECK(s.rejected == 1);
  REQUIRE(f.rejects.rows.size() == 1);
  CHECK(f.rejects.rows[0] ==
        std::pair<std::size_t, std::string>{3, "external id 'E1' already belongs to contact 1"});
}

TEST_CASE("--key email rejects a new contact whose external id another has, and goes on") {
  Fixture f;
  auto s = f.run(
      VectorReader({"external_id", "email"},
                   {{"E1", "a@example.com"}, {"E1", "b@example.com"}, {"E3", "c@example.com"}}));
  CHECK(s.inserted == 2);
  CHECK(s.rejected == 1);
  REQUIRE(f.rejects.rows.size() == 1);
  CHECK(f.rejects.rows[0] ==
        std::pair<std::size_t, std::string>{3, "external id 'E1' already belongs to contact 1"});
  // The row after the refused one landed, with the next id.
  CHECK(f.count("SELECT id FROM contact WHERE email = 'c@example.com'") == 2);
  CHECK(check_database(f.db).empty());
}

TEST_CASE("undo deletes every contact of an import that created more than one id range") {
  Fixture f;
  f.run(VectorReader({"email"}, {{"early@example.com"}}));
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 40000; ++i)
    rows.push_back({"p" + std::to_string(i) + "@example.com"});
  // An earlier batch's contact in other letters: unchanged, so not undone either.
  rows.push_back({"EARLY@example.com"});
  auto s = f.run(VectorReader({"email"}, rows));
  CHECK(s.inserted == 40000);
  CHECK(f.count("SELECT count(*) FROM import_created WHERE batch_id = 2") == 3);
  CHECK(f.count("SELECT count(*) FROM import_change WHERE batch_id = 2") == 0);
  auto undo = undo_import(f.db, 2, f.ctx);
  CHECK(undo.deleted == 40000);
  CHECK(f.count("SELECT count(*) FROM contact") == 1);
  CHECK(check_database(f.db).empty());
}

TEST_CASE("an import that renames a contact with notes keeps the notes in its index entry") {
  Fixture f;
  f.run(VectorReader({"email", "last_name"}, {{"n@example.com", "Before"}}));
  add_note(f.db, std::vector<std::int64_t>{1}, "orchids and tulips", f.ctx);
  f.run(VectorReader({"email", "last_name"}, {{"n@example.com", "After"}}));
  std::vector<std::int64_t> found;
  search_contacts(f.db, "after orchid", 0, [&](const Contact& c) { found.push_back(c.id); });
  CHECK(found == std::vector<std::int64_t>{1});
  found.clear();
  search_contacts(f.db, "before", 0, [&](const Contact& c) { found.push_back(c.id); });
  CHECK(found.empty());
  CHECK(check_database(f.db).empty());
}
