// Hostile input found by fuzzing and the hostile-input suite (issue 11):
// each case here failed (crash, hang or quadratic time) before its fix.
#include "contact_store.hpp"

#include <crm/contacts.hpp>

#include <doctest/doctest.h>

#include <string>

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
