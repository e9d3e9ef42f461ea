#include "exit_of.hpp"
#include "temp_dir.hpp"

#include <crm/contacts.hpp>
#include <crm/error.hpp>
#include <crm/export.hpp>
#include <crm/reports.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

using namespace crm;

namespace {

struct Fixture {
  TempDir dir;
  Database db{dir / "crm.db", 1000, Create::yes};
  WriteContext ctx;
  Fixture() { ctx.now = *parse_time("2026-11-22T09:30:00Z"); }

  std::int64_t add(std::vector<std::pair<std::string, std::optional<std::string>>> fields,
                   std::vector<std::string> tags = {}) {
    ContactChanges c;
    c.fields = std::move(fields);
    c.add_tags = std::move(tags);
    return add_contact(db, c, ctx);
  }

  std::string csv(std::string_view kind, ExportQuery query = {}) {
    std::ostringstream out;
    auto writer = make_writer(Format::csv, out, {});
    export_rows(db, *find_export_kind(kind), query, *writer);
    return out.str();
  }
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("export streams contacts with the chosen fields, attributes and tags") {
  Fixture f;
  f.add({{"first_name", "Ann"}, {"email", "ann@example.com"}}, {"b", "a"});
  ContactChanges attr;
  attr.attrs = {{"industry", "retail"}};
  auto id = f.add({{"first_name", "Bo"}});
  update_contacts(f.db, std::vector<std::int64_t>{id}, attr, f.ctx);
  ExportQuery q;
  q.fields = {"id", "first_name", "tags", "attr.industry"};
  CHECK(f.csv("contacts", q) == "id,first_name,tags,attr.industry\n1,Ann,a;b,\n2,Bo,,retail\n");
  q.fields = {"first_name", "attr.*"};
  CHECK(f.csv("contacts", q) == "first_name,attr.industry\nAnn,\nBo,retail\n");
}

TEST_CASE("export sorts, limits and compares --from/--to with the kind's time") {
  Fixture f;
  f.add({{"first_name", "Ann"}});
  f.ctx.now = *parse_time("2026-11-23T00:00:00Z");
  f.add({{"first_name", "Bo"}});
  ExportQuery q;
  q.fields = {"first_name"};
  q.sort = {{"first_name", true}};
  q.limit = 1;
  CHECK(f.csv("contacts", q) == "first_name\nBo\n");
  ExportQuery t;
  t.fields = {"first_name"};
  t.from = *parse_time("2026-11-22T12:00:00Z");
  CHECK(f.csv("contacts", t) == "first_name\nBo\n");
  t.from.reset();
  t.to = *parse_time("2026-11-23T00:00:00Z");
  CHECK(f.csv("contacts", t) == "first_name\nAnn\n");
}

TEST_CASE("export refuses unknown fields and sort keys, and kinds without a table") {
  Fixture f;
  ExportQuery q;
  q.fields = {"nope"};
  CHECK(exit_of([&] { f.csv("contacts", q); }) == Exit::usage);
  ExportQuery s;
  s.sort = {{"tags", false}};
  CHECK(exit_of([&] { f.csv("contacts", s); }) == Exit::usage);
  if (!table_exists(f.db, "event")) {
    CHECK(exit_of([&] { f.csv("events"); }) == Exit::not_found);
  }
  ExportQuery m;
  m.from = *parse_time("2026-01-01");
  CHECK(exit_of([&] { f.csv("members", m); }) == Exit::usage);
  CHECK(f.csv("members") == "run,contact_id,campaign,at,variant,holdout\n");
}

TEST_CASE("every kind of the table has a distinct name and a table") {
  std::set<std::string_view> names;
  for (const auto& kind : export_kinds()) {
    CHECK(names.insert(kind.name).second);
    CHECK(!kind.table.empty());
    CHECK(find_export_kind(kind.name) == &kind);
  }
  CHECK(find_export_kind("nope") == nullptr);
}

TEST_CASE("vcard escapes text, folds long lines at 75 octets and never splits UTF-8") {
  std::ostringstream out;
  auto writer = make_vcard_writer(out);
  std::vector<std::string> columns = {"id", "first_name", "last_name", "company", "tags"};
  writer->header(columns);
  std::string long_name(70, 'x');
  long_name += "ééééé";
  std::vector<Cell> row = {std::int64_t{7}, std::string("A;B"), long_name,
                           std::string("Line1\nLine2, Inc."), StringList{"v,ip", "x"}};
  writer->row(row);
  writer->finish();
  std::string text = out.str();
  CHECK(text.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\nX-CRM-ID:7\r\n"));
  CHECK(text.find("ORG:Line1\\nLine2\\, Inc.\r\n") != std::string::npos);
  CHECK(text.find("CATEGORIES:v\\,ip,x\r\n") != std::string::npos);
  CHECK(text.ends_with("END:VCARD\r\n"));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    CHECK(line.size() <= 76); // 75 octets and the CR
    if (line.size() > 1 && line[0] == ' ')
      CHECK((static_cast<unsigned char>(line[1]) & 0xC0) != 0x80);
  }
}

TEST_CASE("an atomic file appears only on commit, with mode 0600") {
  TempDir dir;
  auto path = dir / "out.csv";
  {
    AtomicFile file(path);
    file.stream() << "half";
  }
  CHECK(!std::filesystem::exists(path));
  CHECK(std::filesystem::is_empty(dir.path()));
  {
    AtomicFile file(path);
    file.stream() << "whole\n";
    file.commit();
  }
  CHECK(slurp(path) == "whole\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(exit_of([&] { AtomicFile bad(dir / "missing" / "x.csv"); }) == Exit::cant_create);
}

TEST_CASE("a read-only query refuses writes, several statements and pragmas that set") {
  Fixture f;
  f.add({{"first_name", "Ann"}});
  std::ostringstream out;
  auto writer = make_writer(Format::csv, out, {});
  QuerySource source{"report 'x'", Exit::config, {}};
  auto run = [&](std::string_view sql, QueryParams params = {}) {
    run_readonly_query(f.dir / "crm.db", 1000, sql, params, source, *writer);
  };
  CHECK(exit_of([&] { run("delete from contact"); }) == Exit::config);
  CHECK(exit_of([&] { run("select 1; delete from contact"); }) == Exit::config);
  CHECK(exit_of([&] { run("pragma query_only = 0"); }) == Exit::config);
  CHECK(exit_of([&] { run("attach 'x.db' as x"); }) == Exit::config);
  CHECK(exit_of([&] { run("select :a"); }) == Exit::usage);
  CHECK(exit_of([&] { run("select 1", {{"a", "1"}}); }) == Exit::usage);
  run("select first_name, :n + 1 as n from contact -- a comment\n;", {{"n", "41"}});
  CHECK(out.str() == "first_name,n\nAnn,42\n");
}

TEST_CASE("built-in reports say which data this database lacks") {
  Fixture f;
  f.add({{"first_name", "Ann"}, {"stage", "lead"}});
  auto summary = builtin_report(f.db, "summary");
  REQUIRE(summary);
  REQUIRE(summary->sections.size() == 4);
  CHECK(summary->sections[0].rows.size() == 2);
  CHECK(std::get<std::int64_t>(summary->sections[0].rows[0][1]) == 1);
  if (!table_exists(f.db, "consent"))
    CHECK(summary->sections[1].missing.find("'consent'") != std::string::npos);
  CHECK(!builtin_report(f.db, "nope"));
  std::ostringstream svg;
  draw_report(*summary, ReportFormat::svg, svg);
  CHECK(svg.str().starts_with("<svg xmlns="));
}
