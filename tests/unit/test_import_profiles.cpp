#include "exit_of.hpp"

#include <crm/error.hpp>
#include <crm/import_profiles.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace crm;

namespace {

std::vector<std::string> split(std::string_view text, char sep = ',') {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto end = text.find(sep, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos)
      return out;
    start = end + 1;
  }
}

std::string recognised(std::string_view header, char sep = ',') {
  auto columns = split(header, sep);
  const BuiltinProfile* p = recognise_profile(columns);
  return p ? std::string(profile_name(*p)) : "";
}

// Maps one row of `header` with profile `name`.
ProfileRow map_row(std::string_view name, std::string_view header,
                   const std::vector<std::string>& cells) {
  auto columns = split(header);
  REQUIRE(columns.size() == cells.size());
  const BuiltinProfile* profile = find_builtin_profile(name);
  REQUIRE(profile != nullptr);
  ProfileMapper mapper(*profile, columns, nullptr);
  std::vector<std::optional<std::string>> values(cells.begin(), cells.end());
  ProfileRow row;
  mapper.map(values, row);
  return row;
}

std::optional<std::string> field(const ProfileRow& row, std::string_view name) {
  for (const auto& [k, v] : row.changes.fields)
    if (k == name)
      return v;
  return std::nullopt;
}

std::optional<std::string> attr(const ProfileRow& row, std::string_view name) {
  for (const auto& [k, v] : row.changes.attrs)
    if (k == name)
      return v;
  return std::nullopt;
}

constexpr std::string_view k_google =
    "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last "
    "Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,Organization Title,"
    "Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,"
    "E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value";

constexpr std::string_view k_mailchimp =
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,"
    "LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS";

} // namespace

TEST_CASE("every built-in profile is found by its name, and only those") {
  CHECK(builtin_profile_names().size() == 8);
  for (auto name : builtin_profile_names()) {
    const BuiltinProfile* p = find_builtin_profile(name);
    REQUIRE(p != nullptr);
    CHECK(profile_name(*p) == name);
  }
  CHECK(find_builtin_profile("gmail") == nullptr);
  CHECK(find_builtin_profile("") == nullptr);
  CHECK(profile_encoding(*find_builtin_profile("outlook-de")) == "cp1252");
  CHECK_FALSE(profile_encoding(*find_builtin_profile("outlook")));
}

TEST_CASE("recognition names the export from its distinctive columns") {
  CHECK(recognised(k_google) == "google");
  CHECK(recognised("Name,Given Name,Additional Name,Family Name,Yomi Name,Birthday,Notes,Group "
                   "Membership,E-mail 1 - Type,E-mail 1 - Value") == "google-legacy");
  CHECK(recognised("Title,First Name,Middle Name,Last Name,Suffix,Company,Business Street,"
                   "E-mail Address,E-mail Type,E-mail Display Name") == "outlook");
  CHECK(recognised("First Name,Middle Name,Last Name,Title,Suffix,Nickname,Given Yomi,Surname "
                   "Yomi,E-mail Address,E-mail 2 Address") == "outlook-com");
  CHECK(recognised("Anrede;Vorname;Weitere Vornamen;Nachname;E-Mail-Adresse;E-Mail-Typ", ';') ==
        "outlook-de");
  CHECK(recognised("First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,"
                   "Work Phone") == "thunderbird");
  CHECK(recognised(k_mailchimp) == "mailchimp");
  CHECK(recognised("Record ID,First Name,Last Name,Email,Phone Number,Contact owner") == "hubspot");
}

TEST_CASE("recognition compares names like the mapping by name, and wants the whole set") {
  CHECK(recognised("email address,member_rating,optin time,confirm-time,leid,euid") == "mailchimp");
  // One telling column is not enough.
  CHECK(recognised("Email Address,First Name,MEMBER_RATING") == "");
  CHECK(recognised("Record ID,Email") == "");
  CHECK(recognised("First Name,Last Name,Email,Phone") == "");
  CHECK(recognised("email,first_name,last_name,phone,country") == "");
  CHECK(recognised("") == "");
}

TEST_CASE("a multi-value cell splits on ::: and drops empty parts") {
  CHECK(split_multi_value("a@x.example ::: b@y.example") ==
        std::vector<std::string>{"a@x.example", "b@y.example"});
  CHECK(split_multi_value("  one  ") == std::vector<std::string>{"one"});
  CHECK(split_multi_value("a ::: ::: b :::") == std::vector<std::string>{"a", "b"});
  CHECK(split_multi_value("").empty());
  CHECK(split_multi_value("x:y") == std::vector<std::string>{"x:y"});
}

TEST_CASE("google: the starred email is the contact's, the others become attributes in order") {
  auto row = map_row("google", k_google,
                     {"Greta",
                      "",
                      "Lindqvist",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "Nordlicht",
                      "CFO",
                      "",
                      "1984-03-09",
                      "",
                      "",
                      "* myContacts ::: Kunden ::: * starred",
                      "Home",
                      "home@example.org",
                      "* Work",
                      "work@example.org ::: second@example.org",
                      "Mobile",
                      "+49 171 2345678 ::: 030 123456"});
  CHECK(field(row, "email") == "work@example.org");
  CHECK(attr(row, "email_2") == "home@example.org");
  CHECK(attr(row, "email_3") == "second@example.org");
  CHECK(field(row, "phone") == "+49 171 2345678");
  CHECK(attr(row, "phone_2") == "030 123456");
  CHECK(field(row, "first_name") == "Greta");
  CHECK(field(row, "company") == "Nordlicht");
  CHECK(attr(row, "job_title") == "CFO");
  CHECK(field(row, "birthdate") == "1984-03-09");
  CHECK(row.changes.add_tags == std::vector<std::string>{"Kunden", "starred"});
  CHECK(row.consent.empty());
}

TEST_CASE("google: without a star the first email is the contact's; duplicates count once") {
  auto row = map_row("google", k_google,
                     {"A",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "",
                      "--07-21",
                      "",
                      "",
                      "",
                      "Home",
                      "a@example.org ::: A@example.org",
                      "Work",
                      "b@example.org",
                      "",
                      ""});
  CHECK(field(row, "email") == "a@example.org");
  CHECK(attr(row, "email_2") == "b@example.org");
  CHECK_FALSE(attr(row, "email_3"));
  CHECK_FALSE(field(row, "birthdate"));
  CHECK(attr(row, "birthday") == "--07-21");
}

TEST_CASE("google: a custom field becomes an attribute named by its label") {
  std::string_view header = "First Name,Middle Name,Last Name,Phonetic First Name,File As,Labels,"
                            "Custom Field 1 - Label,Custom Field 1 - Value,Custom Field 2 - Label,"
                            "Custom Field 2 - Value,Custom Field 3 - Label,Custom Field 3 - Value";
  auto row = map_row("google", header,
                     {"A", "", "", "", "", "", "Kunden-Nr.", "K-1", "Shoe size", "42", "", "x"});
  CHECK(attr(row, "Kunden-Nr.") == "K-1");
  CHECK(attr(row, "Shoe_size") == "42");
  CHECK(attr(row, "custom_3") == "x");
}

TEST_CASE("outlook: the primary phone wins, M/D/YYYY dates, 0/0/00 is no date") {
  std::string_view header = "First Name,Last Name,Business Phone,Mobile Phone,Primary Phone,"
                            "Birthday,Anniversary,Business Street,Business City,Home Street,"
                            "Home City,Business Country/Region,Categories,Priority";
  auto row = map_row("outlook", header,
                     {"Priya", "Raman", "+1 206 555 0142", "+1 206 555 0199", "+1 206 555 0199",
                      "7/14/1985", "0/0/00", "", "", "14 Quay St", "Galway", "", "A;B", "Normal"});
  CHECK(field(row, "phone") == "+1 206 555 0199");
  CHECK(attr(row, "phone_2") == "+1 206 555 0142");
  CHECK_FALSE(attr(row, "phone_3"));
  CHECK(field(row, "birthdate") == "1985-07-14");
  CHECK_FALSE(attr(row, "anniversary"));
  // The business address is empty, so the home address is taken whole.
  CHECK(field(row, "street") == "14 Quay St");
  CHECK(field(row, "city") == "Galway");
  CHECK(row.changes.add_tags == std::vector<std::string>{"A", "B"});
  CHECK_FALSE(attr(row, "priority"));

  CHECK(exit_of([&] {
          map_row("outlook", header,
                  {"X", "", "", "", "", "14/7/1985", "", "", "", "", "", "", "", ""});
        }) == Exit::data);
}

TEST_CASE("outlook: an Exchange directory name is no email, and is kept") {
  std::string_view header = "First Name,E-mail Address,E-mail Type,E-mail 2 Address";
  auto row =
      map_row("outlook", header,
              {"Ann", "/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=ann", "EX",
               "ann@example.com"});
  CHECK(field(row, "email") == "ann@example.com");
  CHECK_FALSE(attr(row, "email_2"));
  CHECK(attr(row, "exchange_address") ==
        "/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=ann");
}

TEST_CASE("outlook-de: D.M.YYYY dates and country names") {
  std::string_view header = "Vorname,Nachname,Geburtstag,Straße privat,Ort privat,"
                            "Land/Region privat,E-Mail-Adresse";
  auto row =
      map_row("outlook-de", header,
              {"Zoë", "Brandt", "3.2.1971", "Gartenweg 8", "Graz", "Österreich", "zoe@example.at"});
  CHECK(field(row, "birthdate") == "1971-02-03");
  CHECK(field(row, "country") == "AT");
  CHECK(field(row, "email") == "zoe@example.at");
  auto unknown = map_row("outlook-de", header, {"A", "B", "0.0.00", "", "", "Atlantis", ""});
  CHECK_FALSE(field(unknown, "birthdate"));
  CHECK_FALSE(field(unknown, "country"));
  CHECK(attr(unknown, "country_name") == "Atlantis");
}

TEST_CASE("thunderbird: birth year, month and day make the birthdate") {
  std::string_view header = "First Name,Last Name,Display Name,Primary Email,Secondary Email,"
                            "Birth Year,Birth Month,Birth Day";
  auto row = map_row("thunderbird", header,
                     {"", "", "Support", "s@example.org", "t@example.org", "1988", "12", "1"});
  CHECK(field(row, "email") == "s@example.org");
  CHECK(attr(row, "email_2") == "t@example.org");
  CHECK(field(row, "birthdate") == "1988-12-01");
  CHECK(attr(row, "display_name") == "Support");
  CHECK(exit_of([&] {
          map_row("thunderbird", header, {"A", "", "", "", "", "1988", "2", "30"});
        }) == Exit::data);
}

TEST_CASE("mailchimp: OPTIN, CONFIRM and UNSUB become consent evidence") {
  std::string header = std::string(k_mailchimp) + ",UNSUB_TIME";
  std::vector<std::string> cells(21);
  cells[0] = "nora@example.com";
  cells[4] = "2025-03-14 09:12:31";
  cells[5] = "203.0.113.7";
  cells[6] = "2025-03-14T10:14:02+01:00";
  cells[7] = "203.0.113.8";
  cells[13] = "DE";
  cells[19] = "\"VIP\",\"Leipzig Fair\"";
  cells[20] = "2026-01-02 03:04:05";
  auto row = map_row("mailchimp", header, cells);
  using A = ConsentEvidence::Action;
  REQUIRE(row.consent.size() == 3);
  CHECK(row.consent[0] ==
        ConsentEvidence{A::request, "2025-03-14T09:12:31Z", "203.0.113.7", "OPTIN_TIME"});
  CHECK(row.consent[1] ==
        ConsentEvidence{A::grant, "2025-03-14T09:14:02Z", "203.0.113.8", "CONFIRM_TIME"});
  CHECK(row.consent[2] == ConsentEvidence{A::withdraw, "2026-01-02T03:04:05Z", "", "UNSUB_TIME"});
  CHECK(consent_action_name(A::request) == "request");
  CHECK(row.changes.add_tags == std::vector<std::string>{"VIP", "Leipzig Fair"});
  // CC is Mailchimp's guess from the IP, not the person's country.
  CHECK_FALSE(field(row, "country"));

  cells[4] = "2024-13-40 25:00:00";
  try {
    map_row("mailchimp", header, cells);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()) == "invalid OPTIN_TIME '2024-13-40 25:00:00': expected "
                                   "YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339");
  }
}

TEST_CASE("a column the caller maps itself, or one the profile does not know, is not handled") {
  auto columns = split("Record ID,First Name,Last Name,Email,Favourite Colour");
  ProfileMapper mapper(*find_builtin_profile("hubspot"), columns,
                       [](std::size_t i) { return i == 0; });
  CHECK_FALSE(mapper.handles(0));
  CHECK(mapper.handles(1));
  CHECK(mapper.handles(3));
  CHECK_FALSE(mapper.handles(4));
  CHECK_FALSE(mapper.handles(99));
  ProfileRow row;
  mapper.map({"1", "Hana", "Novak", "hana@example.cz", "blue"}, row);
  CHECK_FALSE(attr(row, "hubspot_id"));
  CHECK(field(row, "email") == "hana@example.cz");
  CHECK_FALSE(attr(row, "Favourite_Colour"));
}
