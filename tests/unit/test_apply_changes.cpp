#include "contact_store.hpp"

#include <crm/contacts.hpp>
#include <crm/error.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace crm;

namespace {

std::string error_of(const ContactChanges& changes) {
  Contact c;
  bool stage_set = false;
  try {
    apply_changes(c, changes, "DE", stage_set);
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("an invalid attribute value names its attribute") {
  ContactChanges changes;
  changes.attrs = {{"industry", "craft"}, {"segment_hint", "a\x01z"}};
  CHECK(error_of(changes) == "invalid attribute 'segment_hint': contains a control character");
  changes.attrs = {{"a", "ok"}, {"b", "bad\xFF"}};
  CHECK(error_of(changes) == "invalid attribute 'b': not valid UTF-8");
}

TEST_CASE("attribute values are normalised; an empty one removes the attribute") {
  ContactChanges changes;
  changes.attrs = {{"industry", "  Cra\x66t "}, {"note", "Jo\xCC\x88rg"}, {"gone", "  "}};
  Contact c;
  c.attrs = {{"gone", "x"}};
  bool stage_set = false;
  apply_changes(c, changes, "DE", stage_set);
  REQUIRE(c.attrs.size() == 2);
  CHECK(c.attrs[0] == std::pair<std::string, std::string>("industry", "Craft"));
  CHECK(c.attrs[1] == std::pair<std::string, std::string>("note", "J\xC3\xB6rg"));
}
