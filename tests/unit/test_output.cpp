#include <crm/output.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

using namespace crm;

namespace {

using Rows = std::vector<std::vector<Cell>>;

std::string render(Format format, const std::vector<std::string>& columns, const Rows& rows,
                   WriterOptions options = {}) {
  std::ostringstream out;
  auto writer = make_writer(format, out, options);
  writer->header(columns);
  for (const auto& row : rows)
    writer->row(row);
  writer->finish();
  return out.str();
}

// A stream buffer that records what reached it and how often it was flushed.
class RecordingBuffer : public std::streambuf {
public:
  std::string text;
  int syncs = 0;

protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      text.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    text.append(s, static_cast<std::size_t>(n));
    return n;
  }

  int sync() override {
    ++syncs;
    return 0;
  }
};

const std::vector<std::string> k_typed_columns = {"id", "name", "score", "value", "tags"};

Rows typed_rows() {
  return {
      {std::int64_t{1}, std::string("Ann"), 0.1, Money{1230}, StringList{"vip", "new"}},
      {std::int64_t{-2}, std::monostate{}, 2.5, Money{-5}, StringList{}},
      {std::monostate{}, std::string(""), 1e21, Money{0}, StringList{"solo"}},
  };
}

} // namespace

TEST_CASE("parse_format accepts the five format names and round-trips them") {
  for (auto format : {Format::table, Format::csv, Format::tsv, Format::json, Format::ndjson})
    CHECK(parse_format(format_name(format)) == format);
  CHECK(format_name(Format::ndjson) == "ndjson");
  CHECK_FALSE(parse_format("xml").has_value());
  CHECK_FALSE(parse_format("CSV").has_value());
  CHECK_FALSE(parse_format("").has_value());
}

TEST_CASE("csv renders nulls, ints, doubles, money and lists") {
  CHECK(render(Format::csv, k_typed_columns, typed_rows()) == "id,name,score,value,tags\n"
                                                              "1,Ann,0.1,12.30,vip;new\n"
                                                              "-2,,2.5,-0.05,\n"
                                                              ",,1e+21,0.00,solo\n");
}

TEST_CASE("csv quotes a field with a comma") {
  CHECK(render(Format::csv, {"a", "b"}, {{std::string("Smith, Ann"), std::string("x")}}) ==
        "a,b\n\"Smith, Ann\",x\n");
}

TEST_CASE("csv doubles quotes inside a quoted field") {
  CHECK(render(Format::csv, {"a"}, {{std::string("say \"hi\"")}}) == "a\n\"say \"\"hi\"\"\"\n");
}

TEST_CASE("csv quotes fields with line breaks and keeps LF line ends") {
  CHECK(render(Format::csv, {"a", "b"}, {{std::string("one\ntwo"), std::string("cr\rhere")}}) ==
        "a,b\n\"one\ntwo\",\"cr\rhere\"\n");
}

TEST_CASE("csv leaves tabs and surrounding spaces unquoted") {
  CHECK(render(Format::csv, {"a"}, {{std::string(" padded\t ")}}) == "a\n padded\t \n");
}

TEST_CASE("csv quotes a list whose items contain a comma") {
  CHECK(render(Format::csv, {"tags"}, {{StringList{"a,b", "c"}}}) == "tags\n\"a,b;c\"\n");
}

TEST_CASE("csv quotes a header name that needs it") {
  CHECK(render(Format::csv, {"a,b", "c"}, {}) == "\"a,b\",c\n");
}

TEST_CASE("csv passes non-Latin text through unchanged") {
  CHECK(render(Format::csv, {"name"}, {{std::string("Ζωή")}, {std::string("山田")}}) ==
        "name\nΖωή\n山田\n");
}

TEST_CASE("csv without a header writes only the rows") {
  CHECK(render(Format::csv, {"a", "b"}, {{std::int64_t{1}, std::int64_t{2}}}, {.header = false}) ==
        "1,2\n");
}

TEST_CASE("csv of an empty result is the header alone, or nothing without one") {
  CHECK(render(Format::csv, {"a", "b"}, {}) == "a,b\n");
  CHECK(render(Format::csv, {"a", "b"}, {}, {.header = false}).empty());
}

TEST_CASE("doubles use the shortest text that reads back the same value") {
  CHECK(render(Format::csv, {"x"}, {{1.0 / 3}, {100.0}, {-0.0}, {5e-324}}, {.header = false}) ==
        "0.3333333333333333\n100\n-0\n5e-324\n");
}

TEST_CASE("money has two decimals for any number of cents") {
  const Rows rows = {{Money{1}},
                     {Money{-100}},
                     {Money{123456789}},
                     {Money{std::numeric_limits<std::int64_t>::min()}}};
  CHECK(render(Format::csv, {"m"}, rows, {.header = false}) ==
        "0.01\n-1.00\n1234567.89\n-92233720368547758.08\n");
  CHECK(render(Format::ndjson, {"m"}, rows) ==
        "{\"m\":0.01}\n{\"m\":-1.00}\n{\"m\":1234567.89}\n{\"m\":-92233720368547758.08}\n");
}

TEST_CASE("tsv renders nulls, ints, doubles, money and lists") {
  CHECK(render(Format::tsv, k_typed_columns, typed_rows()) == "id\tname\tscore\tvalue\ttags\n"
                                                              "1\tAnn\t0.1\t12.30\tvip;new\n"
                                                              "-2\t\t2.5\t-0.05\t\n"
                                                              "\t\t1e+21\t0.00\tsolo\n");
}

TEST_CASE("tsv escapes tab, newline, carriage return and backslash") {
  CHECK(render(Format::tsv, {"a"}, {{std::string("t\tn\nr\rb\\")}}, {.header = false}) ==
        "t\\tn\\nr\\rb\\\\\n");
}

TEST_CASE("tsv leaves commas, quotes and non-Latin text alone") {
  CHECK(render(Format::tsv, {"a", "b"}, {{std::string("Smith, \"Ann\""), std::string("山田 Ζωή")}},
               {.header = false}) == "Smith, \"Ann\"\t山田 Ζωή\n");
}

TEST_CASE("tsv escapes list items and header names") {
  CHECK(render(Format::tsv, {"a\tb"}, {{StringList{"x\ty", "z"}}}) == "a\\tb\nx\\ty;z\n");
}

TEST_CASE("tsv of an empty result is the header alone, or nothing without one") {
  CHECK(render(Format::tsv, {"a", "b"}, {}) == "a\tb\n");
  CHECK(render(Format::tsv, {"a", "b"}, {}, {.header = false}).empty());
}

TEST_CASE("json renders one object per line inside an array") {
  CHECK(render(Format::json, k_typed_columns, typed_rows()) ==
        "[\n"
        "{\"id\":1,\"name\":\"Ann\",\"score\":0.1,\"value\":12.30,\"tags\":[\"vip\",\"new\"]},\n"
        "{\"id\":-2,\"name\":null,\"score\":2.5,\"value\":-0.05,\"tags\":[]},\n"
        "{\"id\":null,\"name\":\"\",\"score\":1e+21,\"value\":0.00,\"tags\":[\"solo\"]}\n"
        "]\n");
}

TEST_CASE("json of an empty result is an empty array") {
  CHECK(render(Format::json, {"a"}, {}) == "[]\n");
}

TEST_CASE("json ignores the header option") {
  CHECK(render(Format::json, {"a"}, {{std::int64_t{1}}}, {.header = false}) == "[\n{\"a\":1}\n]\n");
}

TEST_CASE("json writes non-finite doubles as null") {
  CHECK(render(Format::json, {"x", "y", "z"},
               {{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                 -std::numeric_limits<double>::infinity()}}) ==
        "[\n{\"x\":null,\"y\":null,\"z\":null}\n]\n");
}

TEST_CASE("json escapes quotes, backslashes and control characters") {
  const std::string text = std::string("q\"b\\n\nt\tr\rb\bf\f") + '\0' + "\x01\x1f\x7f/";
  CHECK(render(Format::ndjson, {"s"}, {{text}}) ==
        "{\"s\":\"q\\\"b\\\\n\\nt\\tr\\rb\\bf\\f\\u0000\\u0001\\u001f\x7f/\"}\n");
}

TEST_CASE("json passes valid non-Latin UTF-8 through unchanged") {
  CHECK(render(Format::ndjson, {"name"}, {{std::string("Ζωή 山田 😀")}}) ==
        "{\"name\":\"Ζωή 山田 😀\"}\n");
}

TEST_CASE("json replaces invalid UTF-8 with U+FFFD") {
  const std::vector<std::string> columns = {"s"};
  auto json_of = [&](std::string s) { return render(Format::ndjson, columns, {{std::move(s)}}); };
  CHECK(json_of("a\xff"
                "b") == "{\"s\":\"a\uFFFDb\"}\n");
  CHECK(json_of("\xc3") == "{\"s\":\"\uFFFD\"}\n");
  CHECK(json_of("\xe2\x82"
                "A") == "{\"s\":\"\uFFFDA\"}\n");
  CHECK(json_of("\xc0\xaf") == "{\"s\":\"\uFFFD\uFFFD\"}\n");
  CHECK(json_of("\xed\xa0\x80") == "{\"s\":\"\uFFFD\uFFFD\uFFFD\"}\n");
  CHECK(json_of("\xf4\x90\x80\x80") == "{\"s\":\"\uFFFD\uFFFD\uFFFD\uFFFD\"}\n");
  CHECK(json_of("ok\xe2\x82\xac") == "{\"s\":\"ok€\"}\n");
}

TEST_CASE("json escapes keys") {
  CHECK(render(Format::ndjson, {"a\"b"}, {{std::int64_t{1}}}) == "{\"a\\\"b\":1}\n");
}

TEST_CASE("json nests dotted attribute columns into one object") {
  const std::vector<std::string> columns = {"id", "attr.industry", "attr.size"};
  const Rows rows = {{std::int64_t{1}, std::string("x"), std::string("y")}};
  CHECK(render(Format::json, columns, rows) ==
        "[\n{\"id\":1,\"attr\":{\"industry\":\"x\",\"size\":\"y\"}}\n]\n");
  CHECK(render(Format::ndjson, columns, rows) ==
        "{\"id\":1,\"attr\":{\"industry\":\"x\",\"size\":\"y\"}}\n");
}

TEST_CASE("json groups non-adjacent dotted columns at the first one's position") {
  const std::vector<std::string> columns = {"attr.industry", "id", "attr.size", "email"};
  const Rows rows = {{std::string("x"), std::int64_t{1}, std::monostate{}, std::string("a@b.c")}};
  CHECK(render(Format::ndjson, columns, rows) ==
        "{\"attr\":{\"industry\":\"x\",\"size\":null},\"id\":1,\"email\":\"a@b.c\"}\n");
  CHECK(render(Format::json, columns, rows) ==
        "[\n{\"attr\":{\"industry\":\"x\",\"size\":null},\"id\":1,\"email\":\"a@b.c\"}\n]\n");
}

TEST_CASE("json nests every dot of a column name") {
  CHECK(render(Format::ndjson, {"a.b.c", "a.b.d", "a.e"},
               {{std::int64_t{1}, std::int64_t{2}, std::int64_t{3}}}) ==
        "{\"a\":{\"b\":{\"c\":1,\"d\":2},\"e\":3}}\n");
}

TEST_CASE("json keeps a dotted name flat when its prefix is also a column") {
  CHECK(render(Format::ndjson, {"attr.x", "attr", ".y", "z."},
               {{std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, std::int64_t{4}}}) ==
        "{\"attr.x\":1,\"attr\":2,\".y\":3,\"z.\":4}\n");
}

TEST_CASE("json renders a row of no columns as an empty object") {
  CHECK(render(Format::ndjson, {}, {{}}) == "{}\n");
}

TEST_CASE("ndjson writes one object per line") {
  CHECK(render(Format::ndjson, k_typed_columns, typed_rows()) ==
        "{\"id\":1,\"name\":\"Ann\",\"score\":0.1,\"value\":12.30,\"tags\":[\"vip\",\"new\"]}\n"
        "{\"id\":-2,\"name\":null,\"score\":2.5,\"value\":-0.05,\"tags\":[]}\n"
        "{\"id\":null,\"name\":\"\",\"score\":1e+21,\"value\":0.00,\"tags\":[\"solo\"]}\n");
}

TEST_CASE("ndjson of an empty result is empty") {
  CHECK(render(Format::ndjson, {"a"}, {}).empty());
  CHECK(render(Format::ndjson, {"a"}, {}, {.header = false}).empty());
}

TEST_CASE("ndjson flushes the first row before finish") {
  RecordingBuffer buffer;
  std::ostream out(&buffer);
  auto writer = make_writer(Format::ndjson, out, {});
  writer->header(std::vector<std::string>{"id"});
  writer->row(std::vector<Cell>{std::int64_t{1}});
  CHECK(buffer.text == "{\"id\":1}\n");
  CHECK(buffer.syncs == 1);
  writer->finish();
  CHECK(buffer.syncs >= 2);
}

TEST_CASE("ndjson flushes a row that comes 100 ms after the last flush") {
  RecordingBuffer buffer;
  std::ostream out(&buffer);
  auto writer = make_writer(Format::ndjson, out, {});
  writer->header(std::vector<std::string>{"id"});
  writer->row(std::vector<Cell>{std::int64_t{1}});
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  writer->row(std::vector<Cell>{std::int64_t{2}});
  CHECK(buffer.text == "{\"id\":1}\n{\"id\":2}\n");
  CHECK(buffer.syncs == 2);
  writer->finish();
}

TEST_CASE("ndjson flushes once 64 KiB are pending") {
  RecordingBuffer buffer;
  std::ostream out(&buffer);
  auto writer = make_writer(Format::ndjson, out, {});
  writer->header(std::vector<std::string>{"s"});
  const std::vector<Cell> row = {std::string(1000, 'x')};
  for (int i = 0; i < 70; ++i)
    writer->row(row);
  CHECK(buffer.text.size() > 64 * 1024);
  CHECK(buffer.syncs >= 2);
  writer->finish();
  CHECK(buffer.text.size() == 70 * (1000 + 9));
}

TEST_CASE("streaming writers write in chunks before finish") {
  for (auto format : {Format::csv, Format::tsv, Format::json}) {
    CAPTURE(format_name(format));
    RecordingBuffer buffer;
    std::ostream out(&buffer);
    auto writer = make_writer(format, out, {});
    writer->header(std::vector<std::string>{"s"});
    const std::vector<Cell> row = {std::string(1000, 'x')};
    for (int i = 0; i < 200; ++i)
      writer->row(row);
    const auto before_finish = buffer.text.size();
    CHECK(before_finish >= 64 * 1024);
    CHECK(before_finish < 200 * 1000);
    writer->finish();
    CHECK(buffer.text.size() > 200 * 1000);
  }
}

TEST_CASE("table right-aligns numbers and left-aligns text") {
  CHECK(render(Format::table, {"id", "name", "value"},
               {{std::int64_t{1}, std::string("Ann"), Money{1230}},
                {std::int64_t{100}, std::string("Bo"), Money{-5}}}) == " id  name  value\n"
                                                                       "  1  Ann   12.30\n"
                                                                       "100  Bo    -0.05\n");
}

TEST_CASE("table renders nulls, doubles and lists") {
  CHECK(render(Format::table, k_typed_columns, typed_rows()) == "id  name  score  value  tags\n"
                                                                " 1  Ann     0.1  12.30  vip;new\n"
                                                                "-2          2.5  -0.05\n"
                                                                "          1e+21   0.00  solo\n");
}

TEST_CASE("table measures wide characters as two columns") {
  CHECK(render(Format::table, {"name", "city"},
               {{std::string("山田"), std::string("東京")},
                {std::string("Ζωή"), std::string("Athens")},
                {std::string("e\u0301"), std::string("x")}}) == "name  city\n"
                                                                "山田  東京\n"
                                                                "Ζωή   Athens\n"
                                                                "e\u0301     x\n");
}

TEST_CASE("table leaves no trailing spaces") {
  const auto text =
      render(Format::table, {"a", "b"},
             {{std::string("long text"), std::monostate{}}, {std::string("x"), std::string("y")}});
  CHECK(text == "a          b\nlong text\nx          y\n");
}

TEST_CASE("table shows line breaks and tabs escaped so a row stays one line") {
  CHECK(render(Format::table, {"a", "b"}, {{std::string("one\ntwo\tthree\r"), std::string("z")}},
               {.header = false}) == "one\\ntwo\\tthree\\r  z\n");
}

TEST_CASE("table escapes terminal control characters and replaces invalid UTF-8") {
  CHECK(render(Format::table, {"a"}, {{std::string("\x1b[31mred\xff")}}, {.header = false}) ==
        "\\x1b[31mred\uFFFD\n");
}

TEST_CASE("table makes the header bold only with color") {
  const std::vector<std::string> columns = {"id", "name"};
  const Rows rows = {{std::int64_t{1}, std::string("Ann")}};
  CHECK(render(Format::table, columns, rows, {.color = true}) ==
        "\x1b[1mid  name\x1b[0m\n 1  Ann\n");
  CHECK(render(Format::table, columns, rows) == "id  name\n 1  Ann\n");
}

TEST_CASE("table without a header sizes columns by the rows alone") {
  CHECK(render(Format::table, {"identifier", "n"}, {{std::int64_t{7}, std::string("Ann")}},
               {.header = false}) == "7  Ann\n");
}

TEST_CASE("table of an empty result is the header alone, or nothing without one") {
  CHECK(render(Format::table, {"id", "name"}, {}) == "id  name\n");
  CHECK(render(Format::table, {"id", "name"}, {}, {.header = false}).empty());
}

TEST_CASE("display_width counts terminal columns") {
  CHECK(display_width("") == 0);
  CHECK(display_width("abc") == 3);
  CHECK(display_width("Ζωή") == 3);
  CHECK(display_width("山田") == 4);
  CHECK(display_width("e\u0301") == 1);
  CHECK(display_width("😀") == 2);
  CHECK(display_width("a\xff") == 2);
}
