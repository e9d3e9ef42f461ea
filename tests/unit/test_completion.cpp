#include <crm/completion.hpp>
#include <crm/error.hpp>

#include <doctest/doctest.h>

#include <fstream>

#include "exit_of.hpp"
#include "temp_dir.hpp"

namespace {

crm::Config load(const TempDir& dir, std::string_view text) {
  const auto path = dir / "crm.toml";
  std::ofstream(path) << text;
  return crm::Config::load({path, true});
}

using Words = std::vector<std::string>;

} // namespace

TEST_CASE("completion words come from the config, sorted and without repeats") {
  TempDir dir;
  const auto config = load(dir, R"(
[consent.purposes.newsletter]
channels = ["email", "sms"]
[consent.purposes.offers]
channels = ["email", "post"]
[journey.touchpoints.webinar]
phase = "information"
channel = "web"
[campaigns.winback]
channel = "email"
purpose = "offers"
[campaigns.autumn]
channel = "post"
purpose = "offers"
[reports.top]
sql = "SELECT 1"
[import.profiles.shop]
key = "email"
[owners.ana]
capacity = 3
)");
  CHECK(crm::completion_words(config, "purposes") == Words{"newsletter", "offers"});
  CHECK(crm::completion_words(config, "channels") == Words{"email", "post", "sms", "web"});
  CHECK(crm::completion_words(config, "campaigns") == Words{"autumn", "winback"});
  CHECK(crm::completion_words(config, "touchpoints") == Words{"webinar"});
  CHECK(crm::completion_words(config, "owners") == Words{"ana"});
  const auto reports = crm::completion_words(config, "reports");
  CHECK(std::find(reports.begin(), reports.end(), "top") != reports.end());
  CHECK(std::find(reports.begin(), reports.end(), "summary") != reports.end());
  const auto profiles = crm::completion_words(config, "profiles");
  CHECK(std::find(profiles.begin(), profiles.end(), "shop") != profiles.end());
  CHECK(std::find(profiles.begin(), profiles.end(), "mailchimp") != profiles.end());
  CHECK(crm::completion_words(config, "models") == Words{"abc", "churn", "lead", "nps", "rfm"});
}

TEST_CASE("completion words of an unknown kind are a usage error") {
  const crm::Config config;
  CHECK(exit_of([&] { crm::completion_words(config, "colours"); }) == crm::Exit::usage);
}
