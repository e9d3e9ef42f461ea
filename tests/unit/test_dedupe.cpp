#include "temp_dir.hpp"

#include <crm/dedupe.hpp>

#include <doctest/doctest.h>

using namespace crm;

TEST_CASE("Jaro-Winkler gives the textbook values") {
  CHECK(jaro_winkler("MARTHA", "MARHTA") == doctest::Approx(0.961).epsilon(0.001));
  CHECK(jaro_winkler("DWAYNE", "DUANE") == doctest::Approx(0.84).epsilon(0.001));
  CHECK(jaro_winkler("DIXON", "DICKSONX") == doctest::Approx(0.813).epsilon(0.001));
  CHECK(jaro_winkler("same", "same") == 1.0);
  CHECK(jaro_winkler("", "") == 1.0);
  CHECK(jaro_winkler("abc", "") == 0.0);
  CHECK(jaro_winkler("abc", "xyz") == 0.0);
  // By code point, not byte: one different letter in a short word.
  CHECK(jaro_winkler("müller", "muller") == doctest::Approx(jaro_winkler("mxller", "muller")));
}

TEST_CASE("names fold case, accents and punctuation") {
  CHECK(fold_name("Müller-Lüdenscheidt") == "muller ludenscheidt");
  CHECK(fold_name("  ANNA  maria ") == "anna maria");
  CHECK(fold_name("O'Brien") == "o brien");
  CHECK(fold_name("Łukasz Żółć") == "łukasz zołc");
  CHECK(fold_name("") == "");
  CHECK(fold_name("SW1A 1AA") == "sw1a 1aa");
}

TEST_CASE("survivor names parse") {
  CHECK(parse_survivor("oldest") == Survivor::oldest);
  CHECK(parse_survivor("newest") == Survivor::newest);
  CHECK(parse_survivor("most_complete") == Survivor::most_complete);
  CHECK(!parse_survivor("best"));
}
