#include <crm/error.hpp>
#include <crm/filter.hpp>

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using Ids = std::vector<std::int64_t>;

namespace {

constexpr const char* k_schema = R"sql(
CREATE TABLE contact (
  id INTEGER PRIMARY KEY, external_id TEXT, email TEXT, email_norm TEXT, phone TEXT,
  first_name TEXT, last_name TEXT, company TEXT, street TEXT, postcode TEXT, city TEXT,
  country TEXT, birthdate TEXT, stage TEXT, owner TEXT, source TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE contact_attr (
  contact_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (contact_id, key)
) STRICT;
CREATE TABLE contact_tag (
  contact_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (contact_id, tag)
) STRICT;
INSERT INTO contact VALUES
  (1, 'CRM-0001', 'Anna@Example.com', 'anna@example.com', '+4930123456', 'Anna', 'Schmidt',
   'Schmidt GmbH', 'Hauptstr. 1', '10115', 'Berlin', 'DE', '1990-05-17', 'customer', 'olga',
   'fair', '2026-01-10T08:00:00Z', '2026-11-01T12:00:00Z'),
  (2, 'CRM-0002', 'bob@example.org', 'bob@example.org', '+33123456789', 'Bob', 'Martin',
   'Martin SARL', NULL, '75001', 'Paris', 'FR', '1985-12-01', 'lead', NULL,
   'web', '2025-06-01T00:00:00Z', '2026-10-01T00:00:00Z'),
  (3, NULL, 'carla@example.com', 'carla@example.com', NULL, 'Carla', 'Rossi',
   NULL, NULL, NULL, 'Milano', NULL, NULL, 'lead', 'olga',
   NULL, '2026-11-20T09:30:00Z', '2026-11-21T00:00:00Z'),
  (4, 'CRM-0004', 'dieter@beispiel.de', 'dieter@beispiel.de', '+4989555', 'Dieter', 'Müller',
   'Müller AG', NULL, '01067', 'München', 'DE', '2000-02-29', 'customer', NULL,
   'import', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO contact_attr VALUES
  (1, 'industry', 'retail'), (1, 'employees', '120'),
  (2, 'industry', 'food'), (2, 'employees', '8'), (2, 'crm.legacy-id', 'L-1'),
  (3, 'employees', 'unknown'),
  (4, 'industry', 'tech'), (4, 'employees', '15.5');
INSERT INTO contact_tag VALUES (1, 'vip'), (1, 'newsletter'), (2, 'churned'), (4, 'vip');
CREATE TABLE score (
  contact_id INTEGER NOT NULL, model TEXT NOT NULL, value REAL, label TEXT, at TEXT NOT NULL,
  PRIMARY KEY (contact_id, model)
) STRICT;
INSERT INTO score VALUES
  (1, 'rfm', 545, 'champions', '2026-11-22T09:30:00Z'),
  (2, 'rfm', 111, 'hibernating', '2026-11-22T09:30:00Z'),
  (1, 'lead', 42.5, NULL, '2026-11-22T09:30:00Z'), (4, 'lead', 10, NULL, '2026-11-22T09:30:00Z'),
  (1, 'abc', 10, 'C', '2026-11-22T09:30:00Z'), (2, 'abc', 120, 'A', '2026-11-22T09:30:00Z');
CREATE TABLE event (
  id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, touchpoint TEXT NOT NULL, channel TEXT,
  at TEXT NOT NULL
) STRICT;
INSERT INTO event (contact_id, touchpoint, channel, at) VALUES
  (1, 'purchase', 'shop', '2026-11-01T10:00:00Z'), (1, 'purchase', 'shop', '2026-06-01T10:00:00Z'),
  (1, 'email_open', 'email', '2026-11-20T10:00:00Z'), (2, 'purchase', 'web', '2025-01-01T10:00:00Z'),
  (4, 'purchase', 'shop', '2026-11-21T10:00:00Z'), (4, 'page_view', 'web', '2026-11-23T10:00:00Z');
CREATE TABLE campaign_member (
  run INTEGER NOT NULL, contact_id INTEGER NOT NULL, campaign TEXT NOT NULL, at TEXT NOT NULL,
  variant TEXT, holdout INTEGER NOT NULL
) STRICT;
INSERT INTO campaign_member (run, contact_id, campaign, at, holdout) VALUES
  (1, 1, 'spring', '2026-03-01T08:00:00Z', 0), (1, 2, 'spring', '2026-03-01T08:00:00Z', 1),
  (2, 1, 'winback', '2026-11-16T08:00:00Z', 0), (2, 4, 'winback', '2026-11-16T08:00:00Z', 0);
)sql";

// A stand-in for libphonenumber: national numbers get the German prefix.
std::string fake_normalize_phone(std::string_view literal, std::string_view region) {
  std::string digits;
  for (char c : literal) {
    if (c == ' ') {
      continue;
    }
    if ((c < '0' || c > '9') && !(c == '+' && digits.empty())) {
      throw crm::Error(crm::Exit::data, "invalid phone number: not a number");
    }
    digits += c;
  }
  if (region == "DE" && digits.starts_with("0")) {
    return "+49" + digits.substr(1);
  }
  return digits;
}

crm::FilterOptions test_options() {
  crm::FilterOptions options;
  options.now = *crm::parse_time("2026-11-22T09:30:00Z");
  options.default_country = "DE";
  options.normalize_phone = fake_normalize_phone;
  return options;
}

// How a test embeds the fragment: alone, or the way a caller might, inside
// a subquery and combined with a condition of its own.
enum class Embed { plain, subquery };

class ContactDb {
public:
  ContactDb() {
    REQUIRE(sqlite3_open(":memory:", &m_db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(m_db, k_schema, nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~ContactDb() { sqlite3_close(m_db); }
  ContactDb(const ContactDb&) = delete;
  ContactDb& operator=(const ContactDb&) = delete;

  // The ids of the contacts the expression selects, in id order.
  Ids match(std::string_view expression, const crm::FilterOptions& options = test_options(),
            Embed embed = Embed::plain) {
    const crm::SqlFilter filter = crm::compile_contact_filter(expression, options);
    for (const auto& param : filter.params) {
      if (const auto* text = std::get_if<std::string>(&param); text && text->size() >= 3) {
        CHECK_MESSAGE(filter.sql.find(*text) == std::string::npos, "user text in SQL: ", *text);
      }
    }
    if (embed == Embed::subquery) {
      return where("c.id IN (SELECT c.id FROM contact c WHERE " + filter.sql + ") AND c.id > 0",
                   filter.params);
    }
    return where(filter.sql, filter.params);
  }

  // The ids of the contacts for which `condition` holds, in id order.
  Ids where(const std::string& condition, const std::vector<crm::SqlValue>& params) {
    const std::string sql = "SELECT c.id FROM contact c WHERE " + condition + " ORDER BY c.id";
    sqlite3_stmt* raw = nullptr;
    REQUIRE_MESSAGE(sqlite3_prepare_v2(m_db, sql.c_str(), -1, &raw, nullptr) == SQLITE_OK,
                    sqlite3_errmsg(m_db));
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, sqlite3_finalize);
    REQUIRE(sqlite3_bind_parameter_count(raw) == static_cast<int>(params.size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const auto& param = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&param)) {
        sqlite3_bind_int64(raw, index, *n);
      } else if (const auto* d = std::get_if<double>(&param)) {
        sqlite3_bind_double(raw, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&param)) {
        sqlite3_bind_text(raw, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(raw, index);
      }
    }
    Ids ids;
    int rc = 0;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      ids.push_back(sqlite3_column_int64(raw, 0));
    }
    REQUIRE_MESSAGE(rc == SQLITE_DONE, sqlite3_errmsg(m_db));
    return ids;
  }

private:
  sqlite3* m_db = nullptr;
};

// `a and (b or (c and (d or ...)))` with `levels` groups of `or` inside `and`.
std::string alternating(int levels, std::string_view leaf) {
  std::string expression(leaf);
  for (int i = 0; i < levels; ++i) {
    expression = std::string(leaf) + " and (id = 99 or " + expression + ")";
  }
  return expression;
}

struct Failure {
  crm::Exit code = crm::Exit::ok;
  std::string message;
  std::string hint;
};

Failure failure(std::string_view expression, const crm::FilterOptions& options = test_options()) {
  try {
    crm::compile_contact_filter(expression, options);
  } catch (const crm::Error& e) {
    return Failure{e.code(), e.what(), e.hint()};
  }
  FAIL("expression compiled: ", expression);
  return {};
}

std::string message_of(std::string_view expression) {
  const Failure f = failure(expression);
  CHECK(f.code == crm::Exit::data);
  return f.message;
}

} // namespace

TEST_CASE("filter = matches a field exactly and case-sensitively") {
  ContactDb db;
  CHECK(db.match(R"(country = "DE")") == Ids{1, 4});
  CHECK(db.match(R"(city = "Berlin")") == Ids{1});
  CHECK(db.match(R"(city = "berlin")").empty());
  CHECK(db.match(R"(last_name = 'Müller')") == Ids{4});
}

TEST_CASE("filter != follows SQL and does not match a missing value") {
  ContactDb db;
  CHECK(db.match(R"(country != "DE")") == Ids{2});
  CHECK(db.match(R"(stage != "lead")") == Ids{1, 4});
}

TEST_CASE("filter < <= > >= compare strings and times") {
  ContactDb db;
  CHECK(db.match(R"(last_name < "N")") == Ids{2, 4});
  CHECK(db.match(R"(last_name <= "Rossi")") == Ids{2, 3, 4});
  CHECK(db.match(R"(last_name > "Rossi")") == Ids{1});
  CHECK(db.match(R"(last_name >= "Rossi")") == Ids{1, 3});
  CHECK(db.match("created_at >= 2026-01-10") == Ids{1, 3});
  CHECK(db.match("created_at > 2026-01-10T08:00:00Z") == Ids{3});
  CHECK(db.match("created_at <= 2026-01-10T08:00:00Z") == Ids{1, 2, 4});
  CHECK(db.match("created_at < 2026-01-01") == Ids{2});
}

TEST_CASE("filter ~ is a case-sensitive glob") {
  ContactDb db;
  CHECK(db.match(R"(company ~ "*GmbH")") == Ids{1});
  CHECK(db.match(R"(company ~ "*gmbh")").empty());
  CHECK(db.match(R"(first_name ~ "?ob")") == Ids{2});
  CHECK(db.match(R"(created_at ~ "2026-01-*")") == Ids{1, 4});
}

TEST_CASE("filter in and not in match a list of values") {
  ContactDb db;
  CHECK(db.match(R"(city in ("Berlin", "Paris"))") == Ids{1, 2});
  CHECK(db.match(R"(city not in ("Berlin", "Paris"))") == Ids{3, 4});
  CHECK(db.match(R"(city IN ("Milano"))") == Ids{3});
  CHECK(db.match("id in (1, 4)") == Ids{1, 4});
}

TEST_CASE("filter is null and is not null test for a missing value") {
  ContactDb db;
  CHECK(db.match("country is null") == Ids{3});
  CHECK(db.match("country IS NULL") == Ids{3});
  CHECK(db.match("birthdate is not null") == Ids{1, 2, 4});
  CHECK(db.match("owner Is Not Null") == Ids{1, 3});
}

TEST_CASE("filter binds not tighter than and, and and tighter than or") {
  ContactDb db;
  CHECK(db.match(R"(country = "DE" or country = "FR" and stage = "lead")") == Ids{1, 2, 4});
  CHECK(db.match(R"((country = "DE" or country = "FR") and stage = "lead")") == Ids{2});
  CHECK(db.match(R"(not stage = "lead" and country = "DE")") == Ids{1, 4});
  CHECK(db.match(R"(not (stage = "lead" and country = "DE"))") == Ids{1, 2, 4});
  CHECK(db.match(R"(not not city = "Paris")") == Ids{2});
  CHECK(db.match(R"(country = "FR" Or country = "DE" AND has_tag("newsletter"))") == Ids{1, 2});
}

TEST_CASE("filter parentheses group and may nest") {
  ContactDb db;
  CHECK(db.match(R"(((city = "Berlin")))") == Ids{1});
  CHECK(db.match(R"((stage = "lead" and (city = "Paris" or city = "Milano")) or id = 4)") ==
        Ids{2, 3, 4});
}

TEST_CASE("filter compares email case-insensitively by its normalised form") {
  ContactDb db;
  CHECK(db.match(R"(email = "  ANNA@Example.COM ")") == Ids{1});
  CHECK(db.match(R"(email in ("Bob@Example.org", "nobody@example.org"))") == Ids{2});
  CHECK(db.match(R"(email ~ "*@EXAMPLE.COM")") == Ids{1, 3});
}

TEST_CASE("filter normalises a phone literal with the default country") {
  ContactDb db;
  CHECK(db.match(R"(phone = "030 123456")") == Ids{1});
  CHECK(db.match("phone = +4930123456") == Ids{1});
  CHECK(db.match(R"(phone in ("089555", "+33123456789"))") == Ids{2, 4});
  CHECK(db.match(R"(phone ~ "+49*")") == Ids{1, 4});
  CHECK(db.match("phone is null") == Ids{3});
  const Failure f = failure(R"(phone = "abc")");
  CHECK(f.message ==
        R"(bad filter expression: "abc" at column 9: invalid phone number: not a number)");
  CHECK(f.hint == "  phone = \"abc\"\n          ^");
}

TEST_CASE("filter uses a phone literal as it is without a normaliser") {
  ContactDb db;
  crm::FilterOptions options = test_options();
  options.normalize_phone = nullptr;
  CHECK(db.match(R"(phone = "+33123456789")", options) == Ids{2});
  CHECK(db.match(R"(phone = "030 123456")", options).empty());
}

TEST_CASE("filter upper-cases a country literal") {
  ContactDb db;
  CHECK(db.match(R"(country = "de")") == Ids{1, 4});
  CHECK(db.match(R"(country in ("fr", "It"))") == Ids{2});
}

TEST_CASE("filter compares id as an integer only") {
  ContactDb db;
  CHECK(db.match("id = 2") == Ids{2});
  CHECK(db.match("id >= 3") == Ids{3, 4});
  CHECK(db.match("id != -1") == Ids{1, 2, 3, 4});
  CHECK(message_of(R"(id = "2")") ==
        R"(bad filter expression: "2" at column 6: id takes an integer)");
  CHECK(message_of("id = 2.5") == "bad filter expression: '2.5' at column 6: id takes an integer");
  CHECK(message_of(R"(id ~ "1*")") ==
        R"(bad filter expression: "1*" at column 6: ~ matches text and id is a number)");
  CHECK(message_of("id = 99999999999999999999") ==
        "bad filter expression: number '99999999999999999999' at column 6: out of range");
}

TEST_CASE("filter compares a number with a string field as its text") {
  ContactDb db;
  CHECK(db.match("postcode = 10115") == Ids{1});
  CHECK(db.match("postcode = 01067") == Ids{4});
  CHECK(db.match("postcode in (75001, \"10115\")") == Ids{1, 2});
  CHECK(message_of("city = 2026-01-01") ==
        "bad filter expression: '2026-01-01' at column 8: city takes a string");
}

TEST_CASE("filter compares birthdate as a date") {
  ContactDb db;
  CHECK(db.match("birthdate = 1990-05-17") == Ids{1});
  CHECK(db.match(R"(birthdate < "1990-01-01")") == Ids{2});
  CHECK(db.match("birthdate = 2000-02-29T12:00:00Z") == Ids{4});
  CHECK(db.match("birthdate = 2000-02-29T22:00:00-05:00") == Ids{});
  CHECK(db.match("birthdate > -30y") == Ids{4});
  CHECK(db.match("birthdate <= -40y") == Ids{2});
  CHECK(message_of("birthdate = 1990") ==
        "bad filter expression: '1990' at column 13: birthdate takes a date (YYYY-MM-DD), a "
        "timestamp or a relative duration like -30d");
}

TEST_CASE("filter compares created_at and updated_at as UTC timestamps") {
  ContactDb db;
  CHECK(db.match("created_at = 2026-01-01") == Ids{4});
  CHECK(db.match(R"(created_at = "2026-01-01")") == Ids{4});
  CHECK(db.match("created_at = 2026-01-10T09:00:00+01:00") == Ids{1});
  CHECK(db.match("created_at = 2026-01-10t08:00:00.750z") == Ids{1});
  CHECK(db.match(R"(updated_at < "2026-10-01T02:00:00+02:00")") == Ids{4});
  CHECK(message_of(R"(created_at > "yesterday")") ==
        R"(bad filter expression: "yesterday" at column 14: created_at takes a timestamp )"
        "(RFC 3339), a date (YYYY-MM-DD) or a relative duration like -30d");
  CHECK(message_of("created_at > 5")
            .starts_with("bad filter expression: '5' at column 14: created_at takes a timestamp"));
}

TEST_CASE("filter counts a signed duration from now") {
  ContactDb db;
  CHECK(db.match("updated_at < -30d") == Ids{2, 4});
  CHECK(db.match("created_at >= -7d") == Ids{3});
  CHECK(db.match("created_at >= -48h") == Ids{3});
  CHECK(db.match("created_at >= -47h").empty());
  CHECK(db.match("created_at < +7d") == Ids{1, 2, 3, 4});
  CHECK(db.match("updated_at >= -1mo") == Ids{1, 3});
  CHECK(db.match("updated_at >= -2w") == Ids{3});
  crm::FilterOptions later = test_options();
  later.now = *crm::parse_time("2027-01-01T00:00:00Z");
  CHECK(db.match("updated_at >= -2mo", later) == Ids{1, 3});
}

TEST_CASE("filter rejects an unsigned duration in a comparison") {
  const Failure f = failure("updated_at < 30d");
  CHECK(f.code == crm::Exit::data);
  CHECK(f.message == "bad filter expression: '30d' at column 14: an unsigned duration is only "
                     "valid as within =; write -30d or +30d");
  CHECK(f.hint == "  updated_at < 30d\n               ^");
  CHECK(message_of("attr.x in (-1d, 2d)").starts_with("bad filter expression: '2d' at column 17"));
}

TEST_CASE("filter compares a custom attribute as a string") {
  ContactDb db;
  CHECK(db.match(R"(attr.industry = "retail")") == Ids{1});
  CHECK(db.match(R"(attr.industry != "retail")") == Ids{2, 4});
  CHECK(db.match(R"(attr.industry in ("retail", "food"))") == Ids{1, 2});
  CHECK(db.match(R"(attr.industry ~ "f*")") == Ids{2});
  CHECK(db.match(R"(attr.employees > "10")") == Ids{1, 2, 3, 4});
  CHECK(db.match(R"(attr.crm.legacy-id = "L-1")") == Ids{2});
}

TEST_CASE("filter compares a custom attribute numerically with a number") {
  ContactDb db;
  CHECK(db.match("attr.employees > 10") == Ids{1, 4});
  CHECK(db.match("attr.employees < 10") == Ids{2});
  CHECK(db.match("attr.employees = 8.0") == Ids{2});
  CHECK(db.match("attr.employees >= 15.5") == Ids{1, 4});
  CHECK(db.match("attr.employees in (8, 120)") == Ids{1, 2});
  CHECK(db.match("not attr.employees > 10") == Ids{2});
}

TEST_CASE("filter attr is null when the attribute is absent") {
  ContactDb db;
  CHECK(db.match("attr.industry is null") == Ids{3});
  CHECK(db.match("attr.industry is not null") == Ids{1, 2, 4});
  CHECK(db.match("attr.nothing is null") == Ids{1, 2, 3, 4});
  CHECK(message_of(R"(attr. = "x")") ==
        "bad filter expression: 'attr.' without a name at column 1: write attr.NAME, such as "
        "attr.industry");
}

TEST_CASE("filter has_tag matches contacts with the tag") {
  ContactDb db;
  CHECK(db.match(R"(has_tag("vip"))") == Ids{1, 4});
  CHECK(db.match(R"(not has_tag("vip"))") == Ids{2, 3});
  CHECK(db.match(R"(has_tag("VIP"))").empty());
  CHECK(db.match(R"(country = "DE" and not has_tag("newsletter"))") == Ids{4});
  CHECK(message_of("has_tag()") ==
        R"(bad filter expression: has_tag() without a tag at column 9: write has_tag("vip"))");
  CHECK(message_of(R"(has_tag("a", "b"))") ==
        "bad filter expression: unexpected ',' at column 12: expected ')': has_tag takes one tag");
}

TEST_CASE("filter never puts user text into the SQL") {
  ContactDb db;
  const std::string injection = R"(first_name = "x\" or 1=1 --")";
  CHECK(db.match(injection).empty());
  const crm::SqlFilter filter = crm::compile_contact_filter(injection, test_options());
  CHECK(filter.sql == "c.first_name = ?");
  REQUIRE(filter.params.size() == 1);
  CHECK(std::get<std::string>(filter.params[0]) == R"(x" or 1=1 --)");
  CHECK(db.match(R"(has_tag("') OR 1=1 --"))").empty());
  CHECK(db.match(R"(attr.industry = "' OR '1'='1")").empty());
}

TEST_CASE("filter strings decode escapes") {
  ContactDb db;
  const crm::SqlFilter filter =
      crm::compile_contact_filter(R"(city in ("a\"b", 'c\'d', "e\\f", "g\nh\ti"))", test_options());
  REQUIRE(filter.params.size() == 4);
  CHECK(std::get<std::string>(filter.params[0]) == "a\"b");
  CHECK(std::get<std::string>(filter.params[1]) == "c'd");
  CHECK(std::get<std::string>(filter.params[2]) == "e\\f");
  CHECK(std::get<std::string>(filter.params[3]) == "g\nh\ti");
  CHECK(message_of(R"(city = "a\qb")") ==
        R"(bad filter expression: unknown escape '\q' at column 10: write \\ for a backslash; )"
        R"(known escapes are \" \' \\ \n \t)");
}

TEST_CASE("filter error shows the expression with a caret under the bad token") {
  Failure f = failure("country = or");
  CHECK(f.message == "bad filter expression: unexpected 'or' at column 11: expected a value");
  CHECK(f.hint == "  country = or\n            ^");

  f = failure(R"(city = "Berlin)");
  CHECK(f.message == "bad filter expression: unterminated string at column 8");
  CHECK(f.hint == "  city = \"Berlin\n         ^");

  f = failure("country =");
  CHECK(f.message == "bad filter expression: unexpected end of expression at column 10: expected "
                     "a value");
  CHECK(f.hint == "  country =\n           ^");

  f = failure(R"(country = "DE" "FR")");
  CHECK(f.message == R"(bad filter expression: unexpected "FR" at column 16: expected 'and', )"
                     "'or' or the end of the expression");
  CHECK(f.hint == "  country = \"DE\" \"FR\"\n                 ^");

  f = failure(R"(country = "DE" garbage)");
  CHECK(f.message == "bad filter expression: unexpected 'garbage' at column 16: expected 'and', "
                     "'or' or the end of the expression");
}

TEST_CASE("filter names an unknown field and suggests a known one") {
  Failure f = failure(R"(stage = "lead" and contry = "DE")");
  CHECK(f.message == "bad filter expression: unknown field 'contry' at column 20: did you mean "
                     "'country'?");
  CHECK(f.hint == "  stage = \"lead\" and contry = \"DE\"\n                     ^");
  CHECK(message_of("foo = 1") ==
        "bad filter expression: unknown field 'foo' at column 1: fields are id, external_id, "
        "email, phone, first_name, last_name, company, street, postcode, city, country, "
        "birthdate, stage, owner, source, created_at, updated_at, attr.NAME");
  CHECK(message_of(R"(foo("x"))") == "bad filter expression: unknown function 'foo' at column 1: "
                                     "functions are has_tag, consent, event, in_campaign");
}

TEST_CASE("filter explains other syntax errors") {
  CHECK(message_of("") == "bad filter expression: the expression is empty");
  CHECK(message_of(" \n\t ") == "bad filter expression: the expression is empty");
  CHECK(message_of(R"((country = "DE")") ==
        "bad filter expression: unexpected end of expression at column 16: expected ')'");
  CHECK(message_of(R"(country = "DE"))") ==
        "bad filter expression: unexpected ')' at column 15: no '(' to close");
  CHECK(
      message_of("country = DE") ==
      R"(bad filter expression: unexpected 'DE' at column 11: expected a value; quote strings: "DE")");
  CHECK(message_of("country = null") == "bad filter expression: unexpected 'null' at column 11: "
                                        "write 'is null' or 'is not null' to test for no value");
  CHECK(message_of(R"(country "DE")") ==
        R"(bad filter expression: unexpected "DE" at column 9: expected an operator after )"
        "'country' (= != < <= > >= ~ in is)");
  CHECK(message_of("country is empty") ==
        "bad filter expression: unexpected 'empty' at column 12: expected 'null'");
  CHECK(message_of("city in ()") ==
        "bad filter expression: unexpected ')' at column 10: expected a value");
  CHECK(
      message_of(R"(city in "Paris")") ==
      R"(bad filter expression: unexpected "Paris" at column 9: expected '(' and a list of values)");
  CHECK(message_of(R"(city in ("Paris" "Rome"))") ==
        R"(bad filter expression: unexpected "Rome" at column 18: expected ',' or ')')");
  CHECK(message_of(R"(city == "Paris")") ==
        "bad filter expression: unexpected '=' at column 7: expected a value");
  CHECK(message_of(R"(city = "Paris" && id = 1)") ==
        "bad filter expression: unexpected character '&' at column 16");
  CHECK(message_of("and city = 1") ==
        "bad filter expression: unexpected 'and' at column 1: expected a field, a function or '('");
  CHECK(message_of("created_at > 2026-02-30") ==
        "bad filter expression: bad value '2026-02-30' at column 14: expected a number, a date "
        "(YYYY-MM-DD), a timestamp (RFC 3339) or a duration like -30d");
  CHECK(
      message_of(R"(company ~ 5)") ==
      R"(bad filter expression: '5' at column 11: ~ takes a quoted glob pattern, such as "*GmbH")");
}

TEST_CASE("filter error columns count characters, and the hint shows tabs and newlines as spaces") {
  Failure f = failure(R"(city = "Zürich" oops)");
  CHECK(f.message.find("'oops' at column 17") != std::string::npos);
  CHECK(f.hint == "  city = \"Zürich\" oops\n                  ^");

  f = failure("country = \"DE\"\n\tand or");
  CHECK(f.message == "bad filter expression: unexpected 'or' at column 21: expected a field, a "
                     "function or '('");
  CHECK(f.hint == "  country = \"DE\"  and or\n                      ^");
}

TEST_CASE("filter reports capabilities that are not available yet") {
  Failure f = failure(R"(consent("newsletter", "email") and country = "DE")");
  CHECK(f.code == crm::Exit::data);
  CHECK(f.message ==
        "filter: consent() is not available yet: it comes with the consent ledger capability");
  CHECK(f.hint.starts_with("  consent(\"newsletter\""));
  CHECK(f.hint.ends_with("\n  ^"));
}

TEST_CASE("in_campaign() matches members of a campaign's runs, not its holdout") {
  ContactDb db;
  CHECK(db.match(R"(in_campaign("spring"))") == Ids{1});
  CHECK(db.match(R"(in_campaign("winback"))") == Ids{1, 4});
  CHECK(db.match(R"(in_campaign("winback", within = 7d))") == Ids{1, 4});
  CHECK(db.match(R"(in_campaign("winback", within = 3d))") == Ids{});
  CHECK(db.match(R"(in_campaign("spring", within = 30d) or in_campaign("none"))") == Ids{});
  CHECK(db.match(R"(not in_campaign("spring") and in_campaign("winback"))") == Ids{4});
  CHECK(message_of("in_campaign()") ==
        "bad filter expression: in_campaign() without a campaign at column 13: write "
        "in_campaign(\"winback\"[, within = 30d])");
  CHECK(message_of(R"(in_campaign("x", within = -3d))") ==
        "bad filter expression: '-3d' at column 27: within takes an unsigned duration, such as "
        "within = 30d");
  CHECK(message_of(R"(in_campaign("x", channel = "email"))") ==
        "bad filter expression: unexpected 'channel' at column 18: in_campaign() takes "
        "within = D");
}

TEST_CASE("filter reads stored scores: score.MODEL as a number, score.MODEL.label as text") {
  ContactDb db;
  CHECK(db.match("score.rfm >= 500") == Ids{1});
  CHECK(db.match(R"(score.rfm.label in ("at_risk", "hibernating"))") == Ids{2});
  CHECK(db.match("score.lead >= 40") == Ids{1});
  CHECK(db.match("score.lead < 40.5") == Ids{4});
  CHECK(db.match("score.lead is null") == Ids{2, 3});
  CHECK(db.match(R"(score.abc.label = "A" or score.rfm.label ~ "champ*")") == Ids{1, 2});
  CHECK(db.match(R"(score.rfm.label != "champions")") == Ids{2});
  CHECK(db.match("score.lead in (10, 42.5)", test_options(), Embed::subquery) == Ids{1, 4});
}

TEST_CASE("filter refuses a score model that does not exist and a value of the wrong type") {
  Failure f = failure(R"(country = "DE" and score.leads >= 40)");
  CHECK(f.code == crm::Exit::data);
  CHECK(f.message == "bad filter expression: unknown score model 'leads' at column 20: write "
                     "score.MODEL or score.MODEL.label; models: rfm, abc, lead, nps, churn");
  CHECK(f.hint.ends_with("\n                     ^"));
  CHECK(message_of("score = 1")
            .starts_with("bad filter expression: 'score' without a model at column 1: "));
  CHECK(message_of("score.abc >= 1") ==
        "bad filter expression: score.abc has only a label at column 1: write score.abc.label, "
        "such as score.abc.label = \"A\"");
  CHECK(message_of(R"(score.lead = "high")").find("score.lead takes a number") !=
        std::string::npos);
  CHECK(message_of(R"(score.lead ~ "4*")").find("~ matches text and score.lead is a number") !=
        std::string::npos);
}

TEST_CASE("filter refuses nesting deeper than the limit without exhausting the stack") {
  ContactDb db;
  const std::string hundred_open(100, '(');
  const std::string hundred_close(100, ')');
  CHECK(db.match(hundred_open + "id = 1" + hundred_close) == Ids{1});

  std::string nots;
  for (int i = 0; i < 100; ++i) {
    nots += "not ";
  }
  CHECK(db.match(nots + "id = 1") == Ids{1});
  CHECK(message_of("not " + nots + "id = 1") ==
        "bad filter expression: expression nested deeper than 100 levels at column 401");

  const Failure f = failure(std::string(1'000'000, '('));
  CHECK(f.code == crm::Exit::data);
  CHECK(f.message ==
        "bad filter expression: expression nested deeper than 100 levels at column 101");
  CHECK(f.hint.size() < 200);
  CHECK(f.hint.ends_with("^"));
}

TEST_CASE("filter nesting limit follows the options") {
  ContactDb db;
  crm::FilterOptions options = test_options();
  options.max_depth = 2;
  CHECK(db.match("((id = 1))", options) == Ids{1});
  const Failure f = failure("(((id = 1)))", options);
  CHECK(f.message == "bad filter expression: expression nested deeper than 2 levels at column 3");
  CHECK(f.hint == "  (((id = 1)))\n    ^");
}

TEST_CASE("filter compiles a long chain of or that SQLite accepts") {
  ContactDb db;
  std::string expression = "id = 1";
  for (int i = 0; i < 5000; ++i) {
    expression += " or id = 3";
  }
  CHECK(db.match(expression) == Ids{1, 3});
  CHECK(db.match(expression, test_options(), Embed::subquery) == Ids{1, 3});
  expression = R"(has_tag("vip"))";
  for (int i = 0; i < 5000; ++i) {
    expression += R"( and city != "Rome")";
  }
  CHECK(db.match(expression) == Ids{1, 4});
}

TEST_CASE("filter merges redundant groups so deep parentheses stay valid SQL") {
  ContactDb db;
  const std::string open(98, '(');
  const std::string close(98, ')');
  CHECK(db.match(open + R"(city = "Paris" or (country = "DE" and (has_tag("vip"))))" + close,
                 test_options(), Embed::subquery) == Ids{1, 2, 4});
  std::string expression = "id = 1";
  for (int i = 0; i < 50; ++i) {
    expression = "(id = 2 or (" + expression + "))";
  }
  CHECK(db.match(expression) == Ids{1, 2});
}

TEST_CASE("filter limits how deep 'or' may nest inside 'and'") {
  ContactDb db;
  for (const char* leaf : {"id > 0", R"(has_tag("vip"))", "attr.employees > 10"}) {
    CAPTURE(leaf);
    CHECK_FALSE(db.match(alternating(9, leaf), test_options(), Embed::subquery).empty());
    CHECK(db.match("not (" + alternating(9, leaf) + ")", test_options(), Embed::subquery).size() <
          4);
  }
  const Failure f = failure(alternating(10, "id > 0"));
  CHECK(f.message ==
        "bad filter expression: 'and' and 'or' nested more than 10 levels deep at column 220");
  CHECK(f.hint.ends_with("^"));
}

TEST_CASE("filter not agrees with SQL's three-valued NOT") {
  ContactDb db;
  for (const char* expression :
       {R"(country = "DE")", R"(city = "Paris" and country = "FR")",
        R"(city = "Paris" or country = "DE")", R"(not (owner = "olga" or country != "DE"))",
        R"(attr.employees > 10 and (has_tag("vip") or birthdate < 1995-01-01))",
        R"(stage in ("lead") or (phone is null and not country is null))"}) {
    CAPTURE(expression);
    const crm::SqlFilter inner = crm::compile_contact_filter(expression, test_options());
    CHECK(db.match(std::string("not (") + expression + ")") ==
          db.where("NOT (" + inner.sql + ")", inner.params));
  }
  CHECK(db.match(R"(not (city = "Paris" and country = "FR"))") == Ids{1, 3, 4});
}

TEST_CASE("filter fragment can be combined with a caller's condition") {
  ContactDb db;
  const crm::SqlFilter filter = crm::compile_contact_filter("id = 1 or id = 2", test_options());
  CHECK(db.where(filter.sql + " AND c.id = 2", filter.params) == Ids{2});
  CHECK(db.where("NOT " + filter.sql, filter.params) == Ids{3, 4});
}

TEST_CASE("filter refuses more values than SQLite can bind") {
  std::string expression = "id in (1";
  for (int i = 0; i < 32'000; ++i) {
    expression += ", 1";
  }
  expression += ")";
  CHECK(message_of(expression)
            .starts_with("bad filter expression: more than 32000 values at column"));
}

TEST_CASE("filter hint shows a window of a long expression") {
  std::string expression = "id = 1";
  for (int i = 0; i < 20; ++i) {
    expression += " or id = 1";
  }
  expression += " or id = x";
  for (int i = 0; i < 20; ++i) {
    expression += " or id = 1";
  }
  const Failure f = failure(expression);
  CHECK(f.message.starts_with("bad filter expression: unexpected 'x' at column 216"));
  const auto newline = f.hint.find('\n');
  REQUIRE(newline != std::string::npos);
  const std::string shown = f.hint.substr(2, newline - 2);
  const std::size_t caret = f.hint.size() - newline - 4;
  CHECK(shown.starts_with("..."));
  CHECK(shown.ends_with("..."));
  CHECK(shown.size() == 78);
  CHECK(shown[caret] == 'x');
}

TEST_CASE("filter event() matches contacts with such an event, within a time, on a channel") {
  ContactDb db;
  CHECK(db.match(R"(event("purchase"))") == Ids{1, 2, 4});
  CHECK(db.match(R"(event("purchase", within = 30d))") == Ids{1, 4});
  CHECK(db.match(R"(event("purchase", channel = "web"))") == Ids{2});
  CHECK(db.match(R"(event("purchase", within = 365d, min_count = 2))") == Ids{1});
  CHECK(db.match(R"(event("purchase", min_count = 1))") == Ids{1, 2, 4});
  CHECK(db.match(R"(not event("email_open", within = 14d))") == Ids{2, 3, 4});
  // An event after now is not "within" the last days.
  CHECK(db.match(R"(event("page_view", within = 7d))").empty());
  CHECK(db.match(R"(event("purchase", within = 1y) and not event("purchase", within = 30d))") ==
        Ids{});
  CHECK(db.match(R"(event("purchase") and country = "DE")", test_options(), Embed::subquery) ==
        Ids{1, 4});
}

TEST_CASE("filter event() refuses bad arguments with a caret") {
  CHECK(message_of("event()") ==
        "bad filter expression: event() without a touchpoint at column 7: write "
        "event(\"purchase\"[, within = 30d][, channel = \"web\"][, min_count = 2])");
  CHECK(message_of(R"(event("purchase", within = -30d))") ==
        "bad filter expression: '-30d' at column 28: within takes an unsigned duration, such as "
        "within = 30d");
  CHECK(message_of(R"(event("purchase", since = 30d))") ==
        "bad filter expression: unexpected 'since' at column 19: event() takes within = D, "
        "channel = C and min_count = N");
  CHECK(message_of(R"(event("purchase", within = 3d, within = 4d))") ==
        "bad filter expression: within given twice at column 32");
  CHECK(message_of(R"(event("purchase", min_count = 0))") ==
        "bad filter expression: '0' at column 31: min_count takes an integer of at least 1");
  CHECK(message_of(R"(event("purchase", channel = web))") ==
        "bad filter expression: unexpected 'web' at column 29: expected a value; quote strings: "
        "\"web\"");
  CHECK(message_of(R"(event("purchase" within = 3d))") ==
        "bad filter expression: unexpected 'within' at column 18: expected ',' or ')'");
}
