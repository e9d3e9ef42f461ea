#include "input.hpp"
#include "temp_dir.hpp"

#include <crm/readers.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using crm::InputRecord;

struct Cards {
  std::vector<std::string> columns;
  std::vector<InputRecord> records;

  std::optional<std::string> at(std::size_t index, std::string_view column) const {
    auto it = std::find(columns.begin(), columns.end(), column);
    REQUIRE(it != columns.end());
    REQUIRE(index < records.size());
    REQUIRE(records[index].values.size() == columns.size());
    return records[index].values[static_cast<std::size_t>(it - columns.begin())];
  }
};

Cards read_cards(std::string_view text) {
  TempDir dir;
  auto path = dir / "input.vcf";
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  auto reader = crm::make_vcard_reader(std::make_unique<crm::InputSource>(path.string()));
  CHECK(reader->format() == crm::InputFormat::vcard);
  CHECK(reader->delimiter() == 0);
  Cards cards;
  cards.columns = reader->columns();
  InputRecord record;
  while (reader->next(record))
    cards.records.push_back(record);
  return cards;
}

// One card around `lines`, LF line ends.
Cards read_card(std::string_view lines) {
  return read_cards("BEGIN:VCARD\nVERSION:3.0\n" + std::string(lines) + "END:VCARD\n");
}

} // namespace

TEST_CASE("vcard columns are the crm fields it fills") {
  auto cards = read_cards("");
  CHECK(cards.columns == std::vector<std::string>{"external_id", "first_name", "last_name", "email",
                                                  "phone", "company", "street", "postcode", "city",
                                                  "country", "birthdate", "tags", "note"});
  CHECK(cards.records.empty());
}

TEST_CASE("vcard 3.0 card as Apple Contacts writes it") {
  std::string text = "BEGIN:VCARD\r\n"
                     "VERSION:3.0\r\n"
                     "PRODID:-//Apple Inc.//macOS 14.0//EN\r\n"
                     "N:M\xC3\xBCller;Anna;;;\r\n"
                     "FN:Anna M\xC3\xBCller\r\n"
                     "ORG:Beispiel GmbH;Vertrieb;\r\n"
                     "item1.EMAIL;type=INTERNET;type=HOME:anna@example.de\r\n"
                     "item1.X-ABLabel:_$!<Home>!$_\r\n"
                     "EMAIL;type=INTERNET;type=WORK;type=pref:anna.work@example.de\r\n"
                     "TEL;type=CELL;type=VOICE;type=pref:+49 170 1234567\r\n"
                     "TEL;type=WORK;type=VOICE:030 123456\r\n"
                     "item2.ADR;type=HOME;type=pref:;;Hauptstra\xC3\x9F"
                     "e 5;Berlin;;10115;Deutschland\r\n"
                     "item2.X-ABADR:de\r\n"
                     "BDAY;value=date:1980-04-15\r\n"
                     "NOTE:Met at the fair\\, booth 5\\nCall back\r\n"
                     "CATEGORIES:VIP,Newsletter\r\n"
                     "UID:ABC-123\r\n"
                     "END:VCARD\r\n";
  auto cards = read_cards(text);
  REQUIRE(cards.records.size() == 1);
  const auto& card = cards.records[0];
  CHECK(card.error == "");
  CHECK(card.line == 1);
  CHECK(card.raw == text.substr(0, text.size() - 2));
  CHECK(cards.at(0, "external_id") == "ABC-123");
  CHECK(cards.at(0, "first_name") == "Anna");
  CHECK(cards.at(0, "last_name") == "M\xC3\xBCller");
  CHECK(cards.at(0, "email") == "anna.work@example.de");
  CHECK(cards.at(0, "phone") == "+49 170 1234567");
  CHECK(cards.at(0, "company") == "Beispiel GmbH");
  CHECK(cards.at(0, "street") == "Hauptstra\xC3\x9F"
                                 "e 5");
  CHECK(cards.at(0, "postcode") == "10115");
  CHECK(cards.at(0, "city") == "Berlin");
  CHECK(cards.at(0, "country") == "Deutschland");
  CHECK(cards.at(0, "birthdate") == "1980-04-15");
  CHECK(cards.at(0, "tags") == "VIP;Newsletter");
  CHECK(cards.at(0, "note") == "Met at the fair, booth 5\nCall back");
}

TEST_CASE("vcard 3.0 card as Google Contacts writes it, without a preferred value") {
  auto cards = read_card("FN:John Smith\n"
                         "N:Smith;John;;;\n"
                         "EMAIL;TYPE=INTERNET;TYPE=WORK:john@work.example\n"
                         "EMAIL;TYPE=INTERNET;TYPE=HOME:john@home.example\n"
                         "TEL;TYPE=CELL:+1 555 0100\n"
                         "ADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;United States\n"
                         "ADR;TYPE=HOME:;;2 Side St;Shelbyville;IL;62565;United States\n"
                         "ORG:ACME\n"
                         "CATEGORIES:myContacts,Friends\n");
  REQUIRE(cards.records.size() == 1);
  CHECK(cards.records[0].error == "");
  CHECK(cards.at(0, "email") == "john@work.example");
  CHECK(cards.at(0, "phone") == "+1 555 0100");
  CHECK(cards.at(0, "street") == "1 Main St");
  CHECK(cards.at(0, "city") == "Springfield");
  CHECK(cards.at(0, "postcode") == "62701");
  CHECK(cards.at(0, "country") == "United States");
  CHECK(cards.at(0, "tags") == "myContacts;Friends");
  CHECK(cards.at(0, "external_id") == std::nullopt);
  CHECK(cards.at(0, "birthdate") == std::nullopt);
  CHECK(cards.at(0, "note") == std::nullopt);
}

TEST_CASE("vcard 4.0 card with tel: URIs and PREF=1") {
  auto cards = read_cards(
      "BEGIN:VCARD\n"
      "VERSION:4.0\n"
      "UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
      "FN:Dr. Jane Q. Public\n"
      "N:Public;Jane;Q.;Dr.;\n"
      "EMAIL;TYPE=work:jane@work.example\n"
      "EMAIL;TYPE=home;PREF=1:jane@home.example\n"
      "TEL;VALUE=uri;TYPE=\"voice,home\";PREF=2:tel:+1-555-555-5555;ext=5555\n"
      "TEL;VALUE=uri;TYPE=cell;PREF=1:tel:+1-555-555-4444\n"
      "ADR;TYPE=work;LABEL=\"100 Waters Edge\\nBaytown, LA 30314\":;;100 Waters Edge;Baytown;LA;"
      "30314;United States of America\n"
      "BDAY:19850412\n"
      "END:VCARD\n");
  REQUIRE(cards.records.size() == 1);
  CHECK(cards.records[0].error == "");
  CHECK(cards.at(0, "external_id") == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
  CHECK(cards.at(0, "first_name") == "Jane");
  CHECK(cards.at(0, "last_name") == "Public");
  CHECK(cards.at(0, "email") == "jane@home.example");
  CHECK(cards.at(0, "phone") == "+1-555-555-4444");
  CHECK(cards.at(0, "street") == "100 Waters Edge");
  CHECK(cards.at(0, "country") == "United States of America");
  CHECK(cards.at(0, "birthdate") == "1985-04-12");
}

TEST_CASE("vcard tel: URI keeps its extension") {
  auto cards = read_card("TEL;VALUE=uri:tel:+1-555-555-5555;ext=5555\n");
  CHECK(cards.at(0, "phone") == "+1-555-555-5555 ext. 5555");
}

TEST_CASE("vcard folded lines are unfolded, CRLF or LF") {
  auto cards = read_cards("BEGIN:VCARD\r\n"
                          "VERSION:3.0\r\n"
                          "FN:Zo\xC3\r\n"
                          " \xAB Weber\r\n"
                          "NOTE:This is a long\r\n"
                          "  note that is folded\n"
                          "\tand again\r\n"
                          "EMAIL:zoe@exa\n"
                          " mple.com\n"
                          "END:VCARD\r\n");
  REQUIRE(cards.records.size() == 1);
  CHECK(cards.records[0].error == "");
  CHECK(cards.at(0, "first_name") == "Zo\xC3\xAB");
  CHECK(cards.at(0, "last_name") == "Weber");
  CHECK(cards.at(0, "note") == "This is a long note that is foldedand again");
  CHECK(cards.at(0, "email") == "zoe@example.com");
}

TEST_CASE("vcard escaped commas, semicolons and backslashes") {
  auto cards = read_card("N:O'Brien\\; Jr.;Se\\,an;;;\n"
                         "ORG:Smith\\, Jones & Co.;Sales\n"
                         "NOTE:Path C:\\\\temp\\, and C:\\temp stays\\NLine 2\n"
                         "ADR:;;Main St. 1\\, Hinterhaus;Berlin;;10115;DE\n"
                         "CATEGORIES:a\\,b,c\n");
  REQUIRE(cards.records.size() == 1);
  CHECK(cards.records[0].error == "");
  CHECK(cards.at(0, "last_name") == "O'Brien; Jr.");
  CHECK(cards.at(0, "first_name") == "Se,an");
  CHECK(cards.at(0, "company") == "Smith, Jones & Co.");
  CHECK(cards.at(0, "note") == "Path C:\\temp, and C:\\temp stays\nLine 2");
  CHECK(cards.at(0, "street") == "Main St. 1, Hinterhaus");
  CHECK(cards.at(0, "tags") == "a,b;c");
}

TEST_CASE("vcard multiple cards keep their lines and text") {
  std::string first = "BEGIN:VCARD\nVERSION:3.0\nFN:Anna Alt\nEND:VCARD";
  std::string second = "begin:vcard\nversion:3.0\nfn:Bert Berg\nemail:bert@example.com\nend:vcard";
  auto cards = read_cards(first + "\n\n" + second + "\n" + first + "\n");
  REQUIRE(cards.records.size() == 3);
  CHECK(cards.records[0].line == 1);
  CHECK(cards.records[1].line == 6);
  CHECK(cards.records[2].line == 11);
  CHECK(cards.records[0].raw == first);
  CHECK(cards.records[1].raw == second);
  CHECK(cards.at(0, "first_name") == "Anna");
  CHECK(cards.at(0, "last_name") == "Alt");
  CHECK(cards.at(1, "first_name") == "Bert");
  CHECK(cards.at(1, "email") == "bert@example.com");
  CHECK(cards.at(2, "first_name") == "Anna");
  CHECK(cards.at(2, "email") == std::nullopt);
}

TEST_CASE("vcard CATEGORIES from several lines are merged without duplicates") {
  auto cards = read_card("CATEGORIES:VIP, Newsletter\nCATEGORIES:newsletter,VIP,,Partner\n");
  CHECK(cards.at(0, "tags") == "VIP;Newsletter;newsletter;Partner");
}

TEST_CASE("vcard without END at the end of the input is a bad record") {
  auto cards = read_cards("BEGIN:VCARD\nVERSION:3.0\nFN:Anna Alt\nEND:VCARD\n"
                          "BEGIN:VCARD\nVERSION:3.0\nFN:Bert Berg\n");
  REQUIRE(cards.records.size() == 2);
  CHECK(cards.records[0].error == "");
  CHECK(cards.records[1].error == "unterminated vCard");
  CHECK(cards.records[1].line == 5);
  CHECK(cards.records[1].raw == "BEGIN:VCARD\nVERSION:3.0\nFN:Bert Berg");
  CHECK(cards.at(1, "first_name") == std::nullopt);
}

TEST_CASE("vcard BEGIN before END ends the open card as unterminated") {
  auto cards = read_cards("BEGIN:VCARD\nFN:Anna Alt\n"
                          "BEGIN:VCARD\nFN:Bert Berg\nEND:VCARD\n");
  REQUIRE(cards.records.size() == 2);
  CHECK(cards.records[0].error == "unterminated vCard");
  CHECK(cards.records[0].raw == "BEGIN:VCARD\nFN:Anna Alt");
  CHECK(cards.records[1].error == "");
  CHECK(cards.records[1].line == 3);
  CHECK(cards.at(1, "first_name") == "Bert");
}

TEST_CASE("vcard malformed line rejects its card and the next card is read") {
  auto cards = read_cards("BEGIN:VCARD\nVERSION:3.0\nFN:Anna Alt\nthis line has no colon\n"
                          "EMAIL:anna@example.com\nEND:VCARD\n"
                          "BEGIN:VCARD\nFN:Bert Berg\nEND:VCARD\n");
  REQUIRE(cards.records.size() == 2);
  CHECK(cards.records[0].error == "malformed line 4: this line has no colon");
  CHECK(cards.records[0].line == 1);
  CHECK(cards.at(0, "email") == std::nullopt);
  CHECK(cards.records[1].error == "");
  CHECK(cards.at(1, "first_name") == "Bert");
}

TEST_CASE("vcard malformed line message is cut short") {
  auto cards = read_card("Some words: and a colon that make a long line\n");
  CHECK(cards.records[0].error == "malformed line 3: Some words: and a colon that make a long...");
}

TEST_CASE("vcard text outside a card is one bad record") {
  auto cards = read_cards("hello\nworld\nBEGIN:VCARD\nFN:Anna Alt\nEND:VCARD\ntrailing\n");
  REQUIRE(cards.records.size() == 3);
  CHECK(cards.records[0].error == "text outside BEGIN:VCARD and END:VCARD");
  CHECK(cards.records[0].line == 1);
  CHECK(cards.records[0].raw == "hello\nworld");
  CHECK(cards.records[1].error == "");
  CHECK(cards.records[2].line == 6);
  CHECK(cards.records[2].error == "text outside BEGIN:VCARD and END:VCARD");
}

TEST_CASE("vcard BDAY forms") {
  auto bday = [](std::string_view line) {
    return read_card(std::string(line) + "\n").at(0, "birthdate");
  };
  CHECK(bday("BDAY:1980-04-15") == "1980-04-15");
  CHECK(bday("BDAY:19800415") == "1980-04-15");
  CHECK(bday("BDAY;VALUE=date:1980-04-15T00:00:00Z") == "1980-04-15");
  CHECK(bday("BDAY:19800415T120000") == "1980-04-15");
  CHECK(bday("BDAY:--0415") == "--0415");
  CHECK(bday("BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15") == "--04-15");
  CHECK(bday("BDAY;VALUE=text:circa 1800") == "circa 1800");
  CHECK(bday("BDAY:1980-4-15") == "1980-4-15");
}

TEST_CASE("vcard without N splits FN; a company card has no person name") {
  auto cards = read_cards("BEGIN:VCARD\nFN:Anna Maria Alt\nEND:VCARD\n"
                          "BEGIN:VCARD\nFN:Cher\nEND:VCARD\n"
                          "BEGIN:VCARD\nN:;;;;\nFN:ACME Ltd\nORG:ACME Ltd\nEND:VCARD\n"
                          "BEGIN:VCARD\nFN:Beispiel GmbH\nX-ABShowAs:COMPANY\nEND:VCARD\n");
  REQUIRE(cards.records.size() == 4);
  CHECK(cards.at(0, "first_name") == "Anna Maria");
  CHECK(cards.at(0, "last_name") == "Alt");
  CHECK(cards.at(1, "first_name") == "Cher");
  CHECK(cards.at(1, "last_name") == std::nullopt);
  CHECK(cards.at(2, "first_name") == std::nullopt);
  CHECK(cards.at(2, "last_name") == std::nullopt);
  CHECK(cards.at(2, "company") == "ACME Ltd");
  CHECK(cards.at(3, "first_name") == std::nullopt);
}

TEST_CASE("vcard 2.1 quoted-printable values and bare parameters") {
  auto cards = read_cards("BEGIN:VCARD\r\n"
                          "VERSION:2.1\r\n"
                          "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg;;;\r\n"
                          "TEL;HOME:030 123\r\n"
                          "TEL;CELL;PREF:+49 170 1234567\r\n"
                          "NOTE;QUOTED-PRINTABLE:Line one=0D=0ALine =\r\n"
                          "two =3D 2\r\n"
                          "ADR;HOME;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:;;Stra=DFe 1;"
                          "K=F6ln;;50667;DE\r\n"
                          "END:VCARD\r\n");
  REQUIRE(cards.records.size() == 1);
  CHECK(cards.records[0].error == "");
  CHECK(cards.at(0, "last_name") == "M\xC3\xBCller");
  CHECK(cards.at(0, "first_name") == "J\xC3\xB6rg");
  CHECK(cards.at(0, "phone") == "+49 170 1234567");
  CHECK(cards.at(0, "note") == "Line one\r\nLine two = 2");
  CHECK(cards.at(0, "street") == "Stra\xC3\x9F"
                                 "e 1");
  CHECK(cards.at(0, "city") == "K\xC3\xB6ln");
}

TEST_CASE("vcard invalid UTF-8 in a used value rejects the card") {
  auto cards = read_card("FN:Bj\xF6rn Berg\n");
  CHECK(cards.records[0].error == "invalid UTF-8 in FN");
  auto ignored = read_card("X-UNUSED:\xF6\nFN:Bert Berg\n");
  CHECK(ignored.records[0].error == "");
}

TEST_CASE("vcard ADR keeps the extended address and PO box with the street") {
  auto cards = read_card("ADR:PO Box 7;Apt 4;1 Main St;Springfield;;62701;US\n");
  CHECK(cards.at(0, "street") == "1 Main St, Apt 4, PO Box 7");
}

TEST_CASE("vcard with a byte-order mark and blank lines inside the card") {
  auto cards = read_cards("\xEF\xBB\xBF"
                          "BEGIN:VCARD\n\nFN:Anna Alt\n\nEND:VCARD\n");
  REQUIRE(cards.records.size() == 1);
  CHECK(cards.records[0].error == "");
  CHECK(cards.at(0, "first_name") == "Anna");
}
