// Hostile input found by fuzzing and the hostile-input suite (issue 11):
// each case here failed (crash, hang or quadratic time) before its fix.
#include "contact_store.hpp"

#include <crm/contacts.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace crm;

TEST_CASE("change_detail of a contact with 100k attributes is not quadratic" *
          doctest::timeout(10)) {
  // A csv with 100k columns makes 100k attributes; re-importing it compared
  // every key with a linear search through both sides (minutes, not ms).
  Contact before;
  for (int i = 0; i < 100000; ++i)
    before.attrs.emplace_back("k" + std::to_string(100000 + i), "v");
  Contact after = before;
  CHECK(change_detail(before, after).empty());
  after.attrs.back().second = "w";
  after.attrs.emplace_back("z", "new");
  CHECK(change_detail(before, after) == R"({"attr.k199999":["v","w"],"attr.z":[null,"new"]})");
}

TEST_CASE("a new contact with 100k attributes in random order is not quadratic" *
          doctest::timeout(10)) {
  // Each attribute went into a sorted vector by insert: ~5 s in Release.
  ContactChanges changes;
  for (int i = 0; i < 100000; ++i)
    changes.attrs.emplace_back("k" + std::to_string((i * 7919) % 100000), "v");
  Contact c;
  bool stage_set = false;
  apply_changes(c, changes, "DE", stage_set);
  REQUIRE(c.attrs.size() == 100000);
  CHECK(std::is_sorted(c.attrs.begin(), c.attrs.end()));
}

TEST_CASE("merge_attrs: the last update of a key counts; an empty one removes it") {
  std::vector<std::pair<std::string, std::string>> attrs{{"a", "1"}, {"c", "3"}, {"e", "5"}};
  merge_attrs(attrs, {{"d", "4"},
                      {"c", std::nullopt},
                      {"a", "x"},
                      {"a", "y"},
                      {"f", "6"},
                      {"b", std::nullopt},
                      {"e", std::nullopt},
                      {"e", "e"}});
  CHECK(attrs == std::vector<std::pair<std::string, std::string>>{
                     {"a", "y"}, {"d", "4"}, {"e", "e"}, {"f", "6"}});
}
