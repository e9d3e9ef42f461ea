#include "input.hpp"
#include "temp_dir.hpp"

#include <crm/error.hpp>
#include <crm/readers.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using crm::InputFormat;
using crm::InputRecord;

struct Read {
  std::vector<std::string> columns;
  std::vector<InputRecord> records;

  // The value of `column` in record `index`; nullopt when the column is
  // missing or the record does not have it.
  std::optional<std::string> at(std::size_t index, std::string_view column) const {
    auto it = std::find(columns.begin(), columns.end(), column);
    REQUIRE(index < records.size());
    const auto& values = records[index].values;
    auto position = static_cast<std::size_t>(it - columns.begin());
    if (it == columns.end() || position >= values.size())
      return std::nullopt;
    return values[position];
  }
};

Read read_all(std::string_view text, InputFormat format) {
  TempDir dir;
  auto path = dir / "input";
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  auto reader = crm::make_json_reader(std::make_unique<crm::InputSource>(path.string()), format);
  CHECK(reader->format() == format);
  CHECK(reader->delimiter() == 0);
  Read result;
  InputRecord record;
  while (reader->next(record))
    result.records.push_back(record);
  result.columns = reader->columns();
  return result;
}

// The message of the Error that reading `text` throws, without the path.
std::string read_error(std::string_view text, InputFormat format) {
  try {
    read_all(text, format);
  } catch (const crm::Error& e) {
    CHECK(e.code() == crm::Exit::data);
    std::string message = e.what();
    auto input = message.find("input");
    REQUIRE(input != std::string::npos);
    return message.substr(input + 5);
  }
  FAIL("no error");
  return {};
}

using Strings = std::vector<std::string>;

} // namespace

TEST_CASE("json array flattens nested objects and joins arrays of scalars") {
  auto read =
      read_all(R"([{"email": "a@example.com", "attr": {"industry": "retail", "size": {"staff": 5}},
  "tags": ["a", "b"]}])",
               InputFormat::json);
  CHECK(read.columns == Strings{"email", "attr.industry", "attr.size.staff", "tags"});
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].error == "");
  CHECK(read.at(0, "email") == "a@example.com");
  CHECK(read.at(0, "attr.industry") == "retail");
  CHECK(read.at(0, "attr.size.staff") == "5");
  CHECK(read.at(0, "tags") == "a;b");
}

TEST_CASE("json numbers keep their text; true, false and null") {
  auto read = read_all(R"([{"n": 42, "big": 12345678901234567890123, "price": 12.30,
    "exp": -1.5e3, "yes": true, "no": false, "none": null, "mixed": [1, 2.50, true, null, "x"]}])",
                       InputFormat::json);
  REQUIRE(read.records.size() == 1);
  CHECK(read.records[0].error == "");
  CHECK(read.at(0, "n") == "42");
  CHECK(read.at(0, "big") == "12345678901234567890123");
  CHECK(read.at(0, "price") == "12.30");
  CHECK(read.at(0, "exp") == "-1.5e3");
  CHECK(read.at(0, "yes") == "true");
  CHECK(read.at(0, "no") == "false");
  CHECK(read.at(0, "none") == std::nullopt);
  CHECK(read.at(0, "mixed") == "1;2.50;true;x");
}

TEST_CASE("json array of objects in a value is kept as minified JSON") {
  auto read = read_all(R"([{"orders": [ {"id": 1, "total": 9.90} , [2, 3] ], "empty": []}])",
                       InputFormat::json);
  REQUIRE(read.records.size() == 1);
  CHECK(read.at(0, "orders") == R"([{"id":1,"total":9.90},[2,3]])");
  CHECK(read.at(0, "empty") == "");
}

TEST_CASE("json columns grow in order of first appearance; absent keys are null") {
  auto read =
      read_all(R"([{"a": "1", "b": "2"}, {"c": "3", "a": "4"}, {"b": "5"}])", InputFormat::json);
  CHECK(read.columns == Strings{"a", "b", "c"});
  REQUIRE(read.records.size() == 3);
  CHECK(read.at(0, "c") == std::nullopt);
  CHECK(read.at(1, "a") == "4");
  CHECK(read.at(1, "b") == std::nullopt);
  CHECK(read.at(1, "c") == "3");
  CHECK(read.at(2, "a") == std::nullopt);
  CHECK(read.at(2, "b") == "5");
  CHECK(read.at(2, "c") == std::nullopt);
}

TEST_CASE("json duplicate keys: the last one wins") {
  auto read =
      read_all(R"([{"a": "first", "a": "second"}, {"a": "x", "a": null}])", InputFormat::json);
  REQUIRE(read.records.size() == 2);
  CHECK(read.at(0, "a") == "second");
  CHECK(read.at(1, "a") == std::nullopt);
}

TEST_CASE("json elements know the line where they start in pretty-printed input") {
  auto read = read_all("[\n"
                       "  {\n"
                       "    \"a\": \"1\",\n"
                       "    \"b\": \"x\\ny\"\n"
                       "  },\n"
                       "  {\"a\": \"2\"}, {\"a\": \"3\"},\n"
                       "\n"
                       "  {\n"
                       "    \"a\": \"]}\"\n"
                       "  }\n"
                       "]\n",
                       InputFormat::json);
  REQUIRE(read.records.size() == 4);
  CHECK(read.records[0].line == 2);
  CHECK(read.records[1].line == 6);
  CHECK(read.records[2].line == 6);
  CHECK(read.records[3].line == 8);
  CHECK(read.at(0, "b") == "x\ny");
  CHECK(read.at(3, "a") == "]}");
  CHECK(read.records[0].raw == R"({"a":"1","b":"x\ny"})");
  CHECK(read.records[3].raw == R"({"a":"]}"})");
}

TEST_CASE("json input that is not an array is an error") {
  CHECK(read_error(R"({"a": 1})", InputFormat::json) ==
        "' is not a JSON array of objects: found an object at the top level");
  CHECK(read_error("", InputFormat::json) ==
        "' is not a JSON array of objects: the input is empty");
  CHECK(read_error("  \n", InputFormat::json) ==
        "' is not a JSON array of objects: the input is empty");
  CHECK(read_error("\"text\"", InputFormat::json) ==
        "' is not a JSON array of objects: found a string at the top level");
  CHECK(read_error("42", InputFormat::json) ==
        "' is not a JSON array of objects: found a single value at the top level");
  CHECK(read_error("email,name\n", InputFormat::json) ==
        "' is not a JSON array of objects: it does not start with '['");
}

TEST_CASE("json object at the top level hints at ndjson") {
  TempDir dir;
  auto path = dir / "input.json";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"a\": 1}\n{\"a\": 2}\n";
  }
  auto reader =
      crm::make_json_reader(std::make_unique<crm::InputSource>(path.string()), InputFormat::json);
  InputRecord record;
  try {
    reader->next(record);
    FAIL("no error");
  } catch (const crm::Error& e) {
    CHECK(std::string(e.what()) == "'" + path.string() +
                                       "' is not a JSON array of objects: found an object at the "
                                       "top level");
    CHECK(e.hint() == "For one object per line, use --input-format ndjson.");
  }
}

TEST_CASE("json array larger than the read-ahead streams with correct lines") {
  std::string text = "[\n";
  std::string big(100 * 1024, 'y');
  for (int i = 0; i < 5000; ++i) {
    text += i == 0 ? "" : ",\n";
    text += "{\"i\": " + std::to_string(i) + ",\n \"s\": \"" + (i == 2500 ? big : "x") + "\"}";
  }
  text += "\n]\n";
  auto read = read_all(text, InputFormat::json);
  REQUIRE(read.records.size() == 5000);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < 5000; ++i)
    if (read.records[i].line != 2 + 2 * i || read.at(i, "i") != std::to_string(i))
      ++wrong;
  CHECK(wrong == 0);
  CHECK(read.at(2500, "s") == big);
}

TEST_CASE("json element that is not an object is a bad record") {
  auto read =
      read_all("[{\"a\": \"1\"},\n 42,\n \"x\",\n [1],\n {\"a\": \"2\"}]", InputFormat::json);
  REQUIRE(read.records.size() == 5);
  CHECK(read.records[0].error == "");
  CHECK(read.records[1].error == "not a JSON object");
  CHECK(read.records[1].line == 2);
  CHECK(read.records[1].raw == "42");
  CHECK(read.records[2].error == "not a JSON object");
  CHECK(read.records[3].error == "not a JSON object");
  CHECK(read.records[3].raw == "[1]");
  CHECK(read.records[4].error == "");
  CHECK(read.at(4, "a") == "2");
}

TEST_CASE("json element with a syntax error is a bad record and the next is read") {
  auto read = read_all("[{\"a\": \"1\"},\n{\"a\" \"2\"},\n{\"a\": tru},\n{\"a\": 12x},\n"
                       "{\"a\": \"\xff\"},\n{\"a\": \"3\"}]",
                       InputFormat::json);
  REQUIRE(read.records.size() == 6);
  CHECK(read.records[1].line == 2);
  CHECK(read.records[1].error.rfind("invalid JSON: ", 0) == 0);
  CHECK(read.records[1].raw == "{\"a\" \"2\"}");
  CHECK(read.records[2].error.rfind("invalid JSON: ", 0) == 0);
  CHECK(read.records[3].error == "invalid JSON: bad number");
  CHECK(read.records[4].error == "invalid UTF-8");
  CHECK(read.records[4].line == 5);
  CHECK(read.records[5].error == "");
  CHECK(read.at(5, "a") == "3");
}

TEST_CASE("json structure errors that lose the element boundaries end the read") {
  CHECK(read_error("[{\"a\": \"1\"}\n{\"a\": \"2\"}]", InputFormat::json) ==
        ":2: invalid JSON: expected ',' or ']' after the element");
  CHECK(read_error("[{\"a\": \"1\"},\n{\"a\": [1}]", InputFormat::json) ==
        ":2: invalid JSON: unexpected '}', expected ']'");
  CHECK(read_error("[{\"a\": \"1\"},\n{\"a\": \"2\"", InputFormat::json) ==
        ":2: invalid JSON: the element that starts here is not closed");
  CHECK(read_error("[\n{\"a\": \"1\"}\n", InputFormat::json) ==
        ":3: invalid JSON: the array that starts on line 1 is not closed");
  CHECK(read_error("[{\"a\": \"1\"},\n]", InputFormat::json) ==
        ":2: invalid JSON: ',' before the closing ']'");
  CHECK(read_error("[{\"a\": \"1\"}] x", InputFormat::json) ==
        ":1: invalid JSON: text after the closing ']'");
  CHECK(read_error("[{\"a\": \"1\n}]", InputFormat::json) ==
        ":1: invalid JSON: a string is not closed");
}

TEST_CASE("json empty array and byte-order mark") {
  CHECK(read_all("[]", InputFormat::json).records.empty());
  auto read = read_all("\xEF\xBB\xBF[{\"a\": \"1\"}]", InputFormat::json);
  REQUIRE(read.records.size() == 1);
  CHECK(read.at(0, "a") == "1");
}

TEST_CASE("ndjson skips blank lines and keeps physical line numbers") {
  auto read =
      read_all("{\"a\": \"1\"}\n\n   \n{\"a\": \"2\", \"b\": {\"c\": 3}}\n\n", InputFormat::ndjson);
  CHECK(read.columns == Strings{"a", "b.c"});
  REQUIRE(read.records.size() == 2);
  CHECK(read.records[0].line == 1);
  CHECK(read.records[1].line == 4);
  CHECK(read.records[1].raw == "{\"a\": \"2\", \"b\": {\"c\": 3}}");
  CHECK(read.at(1, "b.c") == "3");
}

TEST_CASE("ndjson bad line is a bad record and later lines are still read") {
  auto read = read_all("{\"a\": \"1\"}\n"
                       "{\"a\": \"2\"\n"
                       "[1, 2]\n"
                       "{\"a\": \"\xc3\x28\"}\n"
                       "{\"a\": \"3\"} {\"a\": \"4\"}\n"
                       "{\"a\": \"5\"}",
                       InputFormat::ndjson);
  REQUIRE(read.records.size() == 6);
  CHECK(read.records[1].line == 2);
  CHECK(read.records[1].error.rfind("invalid JSON: ", 0) == 0);
  CHECK(read.records[1].raw == "{\"a\": \"2\"");
  CHECK(read.records[2].error == "not a JSON object");
  CHECK(read.records[3].error == "invalid UTF-8");
  CHECK(read.records[4].error.rfind("invalid JSON: ", 0) == 0);
  CHECK(read.records[5].line == 6);
  CHECK(read.records[5].error == "");
  CHECK(read.at(5, "a") == "5");
  for (std::size_t i = 1; i < 5; ++i)
    CHECK(read.at(i, "a") == std::nullopt);
}

TEST_CASE("ndjson with CRLF line ends and a byte-order mark") {
  auto read = read_all("\xEF\xBB\xBF{\"a\": \"1\"}\r\n\r\n{\"a\": \"2\"}\r\n", InputFormat::ndjson);
  REQUIRE(read.records.size() == 2);
  CHECK(read.records[0].raw == "{\"a\": \"1\"}");
  CHECK(read.records[1].line == 3);
  CHECK(read.records[1].raw == "{\"a\": \"2\"}");
  CHECK(read.at(1, "a") == "2");
}

TEST_CASE("ndjson lines longer than the read-ahead are read whole") {
  std::string big(300 * 1024, 'x');
  auto read = read_all("{\"a\": \"" + big + "\"}\n{\"a\": \"2\"}\n", InputFormat::ndjson);
  REQUIRE(read.records.size() == 2);
  CHECK(read.at(0, "a") == big);
  CHECK(read.records[1].line == 2);
}

TEST_CASE("ndjson reader reuses a record without leaking old values") {
  TempDir dir;
  auto path = dir / "input.ndjson";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"a\": \"1\", \"b\": \"2\"}\n{\"b\": \"3\"}\n{\"x\n";
  }
  auto reader =
      crm::make_json_reader(std::make_unique<crm::InputSource>(path.string()), InputFormat::ndjson);
  InputRecord record;
  REQUIRE(reader->next(record));
  CHECK(record.values == std::vector<std::optional<std::string>>{"1", "2"});
  REQUIRE(reader->next(record));
  CHECK(record.values == std::vector<std::optional<std::string>>{std::nullopt, "3"});
  REQUIRE(reader->next(record));
  CHECK(record.error != "");
  CHECK(record.values == std::vector<std::optional<std::string>>{std::nullopt, std::nullopt});
  CHECK_FALSE(reader->next(record));
}
