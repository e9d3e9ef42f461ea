#include <crm/config.hpp>
#include <crm/error.hpp>

#include <doctest/doctest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace fs = std::filesystem;
using crm::Config;
using crm::ConfigLocation;
using crm::Exit;
using crm::Setting;

// A fresh folder under the system temp folder, removed with its contents.
class TempDir {
public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "crm-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code error;
    fs::remove_all(m_path, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return m_path; }

  fs::path write(const fs::path& name, std::string_view text) const {
    const fs::path file = m_path / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

private:
  fs::path m_path;
};

// Changes the working directory for the lifetime of the guard.
class WorkingDir {
public:
  explicit WorkingDir(const fs::path& path) : m_saved(fs::current_path()) {
    fs::current_path(path);
  }
  ~WorkingDir() { fs::current_path(m_saved); }
  WorkingDir(const WorkingDir&) = delete;
  WorkingDir& operator=(const WorkingDir&) = delete;

private:
  fs::path m_saved;
};

// Loads `text` as <tmp>/crm.toml, a config named by --config.
Config load_text(const TempDir& dir, std::string_view text) {
  return Config::load({dir.write("crm.toml", text), true});
}

// The message of the config error that loading `text` throws, with the temp
// folder cut off so that it starts with "crm.toml:LINE:COL: ".
std::string config_error(std::string_view text, std::string* hint = nullptr) {
  const TempDir dir;
  try {
    load_text(dir, text);
  } catch (const crm::Error& error) {
    CHECK(error.code() == Exit::config);
    if (hint) {
      *hint = error.hint();
    }
    std::string message = error.what();
    const std::string prefix = (dir.path() / "").string();
    if (message.starts_with(prefix)) {
      message.erase(0, prefix.size());
    }
    return message;
  }
  FAIL("the config loaded: " << text);
  return {};
}

std::optional<Setting> find_setting(const std::vector<Setting>& settings, std::string_view key) {
  const auto found = std::find_if(settings.begin(), settings.end(),
                                  [&](const Setting& setting) { return setting.key == key; });
  return found == settings.end() ? std::nullopt : std::optional<Setting>(*found);
}

constexpr std::string_view k_spec_example = R"(
[database]
path = "crm.db"           # relative to this file's folder
busy_timeout_ms = 5000

[defaults]
country = "DE"            # region for phone numbers without +
currency = "EUR"

[consent.purposes.newsletter]
channels = ["email"]
double_opt_in = true
confirm_within = "7d"
valid_for = "24mo"
[consent.purposes.profiling]
channels = []

[journey]
phases = ["activation", "information", "action", "retention"]
conversion = "purchase"
strict = false            # unknown touchpoints: warn (false) or reject
[journey.touchpoints.purchase]
phase = "action"
channel = "shop"
[[journey.stages]]        # first match wins, in order
name = "customer"
when = 'event("purchase", within = 365d)'

[score]
requires_consent = "profiling"   # or "" for none
[score.rfm]
window = "365d"
[score.rfm.segments]      # optional override: label = ["R F" cells]
champions = ["5 5", "5 4", "4 5"]
[score.abc]
window = "365d"
a = 0.80                  # cumulative revenue share
b = 0.95
[[score.lead.rules]]
when = 'attr.industry = "retail"'
points = 10
[[score.lead.rules]]
event = "email_click"
points = 3
half_life = "30d"
cap = 30

[pressure]
max = "3 per 7d"          # across all campaigns, per contact

[campaigns.winback]
channel = "email"
purpose = "newsletter"
segment = 'score.rfm.label in ("at_risk", "hibernating")'
cap = "1 per 30d"
holdout = 0.10
priority = 10
schedule = "weekly"       # once | daily | weekly | monthly
limit = 5000              # optional
variants = ["a", "b"]     # optional, split by hash

[dedupe]
survivor = "oldest"       # or "newest", "most_complete"

[retention]
inactive_for = "36mo"     # no consent and no event for this long

[owners.anna]             # who leads are assigned to
capacity = 200            # most contacts this owner holds
[owners.ben]
capacity = 100

[import.profiles.shop]
key = "external_id"
map = { "Kundennummer" = "external_id", "E-Mail" = "email" }

[reports.revenue_by_country]
sql = "select country, sum(amount) as revenue from ... group by country"
)";

} // namespace

TEST_CASE("a config without a file has the built-in defaults") {
  const Config config;
  CHECK_FALSE(config.file());
  CHECK_FALSE(config.database_path());
  CHECK(config.busy_timeout_ms() == 5000);
  CHECK(config.default_country() == "DE");
  CHECK(config.currency() == "EUR");
  CHECK_FALSE(config.default_format());
  CHECK(config.table().empty());

  const std::vector<Setting> expected = {
      {"database.busy_timeout_ms", "5000", "default"},
      {"defaults.country", "\"DE\"", "default"},
      {"defaults.currency", "\"EUR\"", "default"},
      {"journey.phases", R"(["activation", "information", "action", "retention"])", "default"},
      {"journey.conversion", "\"purchase\"", "default"},
      {"journey.strict", "false", "default"},
      {"score.requires_consent", "\"\"", "default"},
      {"score.rfm.window", "\"365d\"", "default"},
      {"score.abc.window", "\"365d\"", "default"},
      {"score.abc.a", "0.8", "default"},
      {"score.abc.b", "0.95", "default"},
      {"dedupe.survivor", "\"oldest\"", "default"},
  };
  const std::vector<Setting> settings = config.settings();
  REQUIRE(settings.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(settings[i].key == expected[i].key);
    CHECK(settings[i].value == expected[i].value);
    CHECK(settings[i].origin == expected[i].origin);
  }
}

TEST_CASE("loading no location gives the built-in defaults") {
  const Config config = Config::load({});
  CHECK_FALSE(config.file());
  CHECK(config.busy_timeout_ms() == 5000);
}

TEST_CASE("the full example of SPEC section 8 loads cleanly") {
  const TempDir dir;
  const Config config = load_text(dir, k_spec_example);
  CHECK(config.file() == dir.path() / "crm.toml");
  CHECK(config.database_path() == dir.path() / "crm.db");
  CHECK(config.busy_timeout_ms() == 5000);
  CHECK(config.default_country() == "DE");
  CHECK(config.currency() == "EUR");
  CHECK(config.table()["campaigns"]["winback"]["limit"].value<std::int64_t>() == 5000);

  const std::vector<Setting> settings = config.settings();
  const auto map = find_setting(settings, "import.profiles.shop.map.E-Mail");
  REQUIRE(map.has_value());
  CHECK(map->value == "\"email\"");
  const auto stage = find_setting(settings, "journey.stages[0].when");
  REQUIRE(stage.has_value());
  CHECK(stage->value == R"x("event(\"purchase\", within = 365d)")x");
  const auto variants = find_setting(settings, "campaigns.winback.variants");
  REQUIRE(variants.has_value());
  CHECK(variants->value == R"(["a", "b"])");
  const auto holdout = find_setting(settings, "campaigns.winback.holdout");
  REQUIRE(holdout.has_value());
  CHECK(holdout->value == "0.1");
  CHECK(find_setting(settings, "score.lead.rules[1].cap").has_value());
  CHECK(find_setting(settings, "owners.ben.capacity").has_value());
}

TEST_CASE("the starter config loads cleanly") {
  const TempDir dir;
  const Config config = load_text(dir, crm::starter_config());
  CHECK(config.database_path() == dir.path() / "crm.db");
  CHECK(config.busy_timeout_ms() == 5000);
  CHECK(config.default_country() == "DE");
  CHECK(config.currency() == "EUR");
  CHECK(config.table()["consent"]["purposes"]["newsletter"]["double_opt_in"].value_or(false));
  CHECK(config.table()["consent"]["purposes"]["profiling"].is_table());
  CHECK(config.table()["journey"]["touchpoints"]["purchase"]["phase"].value_or(std::string()) ==
        "action");
}

TEST_CASE("settings name the file and line of each set key and mark defaults") {
  const TempDir dir;
  const Config config = load_text(dir, "[database]\n"
                                       "busy_timeout_ms = 100\n"
                                       "[consent.purposes.newsletter]\n"
                                       "description = \"tab\\tand \\\"quote\\\"\"\n"
                                       "channels = [\"email\", \"sms\"]\n"
                                       "[score.abc]\n"
                                       "a = 1\n"
                                       "b = 1\n");
  const std::string file = (dir.path() / "crm.toml").string();
  const std::vector<Setting> settings = config.settings();

  const auto timeout = find_setting(settings, "database.busy_timeout_ms");
  REQUIRE(timeout.has_value());
  CHECK(timeout->value == "100");
  CHECK(timeout->origin == file + ":2");
  const auto description = find_setting(settings, "consent.purposes.newsletter.description");
  REQUIRE(description.has_value());
  CHECK(description->value == R"("tab\tand \"quote\"")");
  CHECK(description->origin == file + ":4");
  const auto channels = find_setting(settings, "consent.purposes.newsletter.channels");
  REQUIRE(channels.has_value());
  CHECK(channels->value == R"(["email", "sms"])");
  CHECK(channels->origin == file + ":5");
  const auto country = find_setting(settings, "defaults.country");
  REQUIRE(country.has_value());
  CHECK(country->origin == "default");
  CHECK_FALSE(find_setting(settings, "database.path").has_value());
  CHECK(settings.front().key == "database.busy_timeout_ms");
}

TEST_CASE("an integer is accepted where a float is expected") {
  const TempDir dir;
  const Config config = load_text(dir, "[score.abc]\na = 1\nb = 1\n");
  CHECK(config.table()["score"]["abc"]["a"].value<double>() == 1.0);
  const auto a = find_setting(config.settings(), "score.abc.a");
  REQUIRE(a.has_value());
  CHECK(a->value == "1");
}

TEST_CASE("the accessors read the defaults table") {
  const TempDir dir;
  const Config config = load_text(dir, "[database]\nbusy_timeout_ms = 250\n"
                                       "[defaults]\ncountry = \"at\"\ncurrency = \"CHF\"\n"
                                       "format = \"ndjson\"\n");
  CHECK(config.busy_timeout_ms() == 250);
  CHECK(config.default_country() == "AT");
  CHECK(config.currency() == "CHF");
  CHECK(config.default_format() == crm::Format::ndjson);
  const auto country = find_setting(config.settings(), "defaults.country");
  REQUIRE(country.has_value());
  CHECK(country->value == "\"AT\"");
}

TEST_CASE("the database path is relative to the config file's folder") {
  const TempDir dir;
  SUBCASE("relative") {
    const Config config =
        Config::load({dir.write("etc/crm.toml", "[database]\npath = \"data/crm.db\"\n"), true});
    CHECK(config.database_path() == dir.path() / "etc" / "data" / "crm.db");
  }
  SUBCASE("absolute") {
    const Config config =
        Config::load({dir.write("etc/crm.toml", "[database]\npath = \"/srv/crm.db\"\n"), true});
    CHECK(config.database_path() == fs::path("/srv/crm.db"));
  }
  SUBCASE("config named relative to the working directory") {
    dir.write("crm.toml", "[database]\npath = \"crm.db\"\n");
    const WorkingDir cwd(dir.path());
    const Config config = Config::load({fs::path("crm.toml"), false});
    CHECK(config.database_path() == fs::path("crm.db"));
  }
}

TEST_CASE("a named config that cannot be read is exit 66") {
  const TempDir dir;
  const fs::path missing = dir.path() / "missing.toml";
  try {
    Config::load({missing, true});
    FAIL("loaded a missing config");
  } catch (const crm::Error& error) {
    CHECK(error.code() == Exit::no_input);
    CHECK(std::string(error.what()) ==
          "cannot read config '" + missing.string() + "': No such file or directory");
  }
}

TEST_CASE("a found config that cannot be read is exit 78") {
  const TempDir dir;
  try {
    Config::load({dir.path(), false});
    FAIL("loaded a folder as config");
  } catch (const crm::Error& error) {
    CHECK(error.code() == Exit::config);
    CHECK(std::string(error.what()) ==
          "cannot read config '" + dir.path().string() + "': Is a directory");
  }
}

TEST_CASE("bad TOML names file, line and column") {
  CHECK(config_error("[database]\nbusy_timeout_ms = \n") ==
        "crm.toml:2:19: invalid TOML: Error while parsing key-value pair: expected value, saw "
        "'\\n'");
  CHECK(config_error("[database]\n[database]\n").starts_with("crm.toml:2:"));
}

TEST_CASE("an unknown top-level key names file, line, column and the valid keys") {
  std::string hint;
  CHECK(config_error("\n[databse]\npath = \"x\"\n", &hint) ==
        "crm.toml:2:2: unknown key 'databse'");
  CHECK(hint == "did you mean 'database'? valid top-level keys: database, defaults, consent, "
                "journey, score, pressure, campaigns, dedupe, retention, owners, import, reports");
}

TEST_CASE("an unknown nested key names its full dotted path") {
  std::string hint;
  CHECK(config_error("[journey]\nconversion = \"purchase\"\nstragety = \"x\"\n", &hint) ==
        "crm.toml:3:1: unknown key 'journey.stragety'");
  CHECK(hint == "valid keys of 'journey': phases, conversion, strict, touchpoints, stages");

  CHECK(config_error("[campaigns.winback]\nchanel = \"email\"\n", &hint) ==
        "crm.toml:2:1: unknown key 'campaigns.winback.chanel'");
  CHECK(hint.starts_with("did you mean 'channel'? valid keys of 'campaigns.winback': channel, "));

  CHECK(config_error("[[score.lead.rules]]\nevent = \"open\"\npoints = 1\nweight = 2\n") ==
        "crm.toml:4:1: unknown key 'score.lead.rules[0].weight'");
  CHECK(config_error("[score.rfm.segmets]\nchampions = [\"5 5\"]\n") ==
        "crm.toml:1:12: unknown key 'score.rfm.segmets'");
}

TEST_CASE("a wrong type names the key, the expected and the actual type") {
  CHECK(config_error("[database]\nbusy_timeout_ms = \"5s\"\n") ==
        "crm.toml:2:19: key 'database.busy_timeout_ms': expected an integer, got a string");
  CHECK(config_error("[database]\npath = 3\n") ==
        "crm.toml:2:8: key 'database.path': expected a string, got an integer");
  CHECK(config_error("[journey]\nstrict = \"no\"\n") ==
        "crm.toml:2:10: key 'journey.strict': expected a boolean, got a string");
  CHECK(config_error("[score.abc]\na = \"80%\"\n") ==
        "crm.toml:2:5: key 'score.abc.a': expected a number, got a string");
  CHECK(config_error("[consent.purposes.newsletter]\nchannels = \"email\"\n") ==
        "crm.toml:2:12: key 'consent.purposes.newsletter.channels': expected an array of "
        "strings, got a string");
  CHECK(config_error("[consent.purposes.newsletter]\nchannels = [\"email\", 2]\n") ==
        "crm.toml:2:22: key 'consent.purposes.newsletter.channels[1]': expected a string, got "
        "an integer");
  CHECK(config_error("database = 1\n") ==
        "crm.toml:1:12: key 'database': expected a table, got an integer");
  CHECK(config_error("[journey]\nstages = { name = \"x\" }\n") ==
        "crm.toml:2:10: key 'journey.stages': expected an array of tables, got a table");
  CHECK(config_error("[journey]\nstages = [\"x\"]\n") ==
        "crm.toml:2:11: key 'journey.stages[0]': expected a table, got a string");
  CHECK(config_error("[import.profiles.shop]\nmap = { Kundennummer = 1 }\n") ==
        "crm.toml:2:24: key 'import.profiles.shop.map.Kundennummer': expected a string, got an "
        "integer");
  CHECK(config_error("[owners]\nanna = 200\n") ==
        "crm.toml:2:8: key 'owners.anna': expected a table, got an integer");
  CHECK(config_error("[retention]\ninactive_for = 1979-05-27\n") ==
        "crm.toml:2:16: key 'retention.inactive_for': expected a string, got a date");
}

TEST_CASE("an invalid value names the key and what is expected") {
  CHECK(config_error("[pressure]\nmax = \"3 each 7d\"\n") ==
        "crm.toml:2:7: key 'pressure.max': invalid rate '3 each 7d': expected '<int> per "
        "<duration>' like '3 per 7d'");
  CHECK(config_error("[campaigns.x]\nchannel = \"email\"\npurpose = \"p\"\ncap = \"1 per 30\"\n")
            .ends_with("key 'campaigns.x.cap': invalid rate '1 per 30': expected '<int> per "
                       "<duration>' like '3 per 7d'"));
  CHECK(config_error("[retention]\ninactive_for = \"3 years\"\n") ==
        "crm.toml:2:16: key 'retention.inactive_for': invalid duration '3 years': expected a "
        "positive '<int>(h|d|w|mo|y)' like '30d'");
  CHECK(config_error("[score.rfm]\nwindow = \"0d\"\n")
            .ends_with("invalid duration '0d': "
                       "expected a positive "
                       "'<int>(h|d|w|mo|y)' like '30d'"));
  CHECK(config_error("[database]\nbusy_timeout_ms = -1\n") ==
        "crm.toml:2:19: key 'database.busy_timeout_ms': invalid value -1: must be between 0 and "
        "2147483647");
  CHECK(config_error("[database]\npath = \"\"\n") ==
        "crm.toml:2:8: key 'database.path': must not be empty");
  CHECK(config_error("[defaults]\ncountry = \"DEU\"\n") ==
        "crm.toml:2:11: key 'defaults.country': invalid country 'DEU': expected an ISO 3166 "
        "alpha-2 code like 'DE'");
  CHECK(config_error("[defaults]\ncurrency = \"eur\"\n") ==
        "crm.toml:2:12: key 'defaults.currency': invalid currency 'eur': expected an ISO 4217 "
        "code of three upper-case letters like 'EUR'");
  CHECK(config_error("[defaults]\nformat = \"yaml\"\n") ==
        "crm.toml:2:10: key 'defaults.format': invalid format 'yaml': expected one of table, "
        "csv, tsv, json, ndjson");
  CHECK(config_error("[dedupe]\nsurvivor = \"first\"\n") ==
        "crm.toml:2:12: key 'dedupe.survivor': invalid survivor 'first': expected one of "
        "oldest, newest, most_complete");
  CHECK(config_error("[score.rfm.segments]\nchampions = [\"5 5\", \"55\"]\n") ==
        "crm.toml:2:21: key 'score.rfm.segments.champions[1]': invalid cell '55': expected 'R "
        "F', two digits 1-5 like '5 4'");
  CHECK(config_error("[score.abc]\na = 1.5\n") ==
        "crm.toml:2:5: key 'score.abc.a': invalid value 1.5: must be at least 0 and at most 1");
  CHECK(config_error("[score.abc]\na = 0.9\nb = 0.85\n") ==
        "crm.toml:3:5: key 'score.abc.b': invalid value 0.85: must be at least score.abc.a (0.9)");
  CHECK(config_error("[score.abc]\na = 0.97\n") ==
        "crm.toml:2:5: key 'score.abc.a': invalid value 0.97: must be at most score.abc.b (0.95)");
  CHECK(config_error("[owners.anna]\ncapacity = -5\n") ==
        "crm.toml:2:12: key 'owners.anna.capacity': invalid value -5: must be at least 0");
  CHECK(config_error("[import.profiles.shop]\ndelimiter = \";;\"\n") ==
        "crm.toml:2:13: key 'import.profiles.shop.delimiter': invalid delimiter ';;': expected a "
        "single character like ';'");
}

TEST_CASE("campaign rules are checked") {
  const std::string purpose = "[consent.purposes.newsletter]\nchannels = [\"email\"]\n";
  CHECK(config_error(purpose + "[campaigns.x]\nchannel = \"email\"\npurpose = \"newsletter\"\n"
                               "holdout = 1\n") ==
        "crm.toml:6:11: key 'campaigns.x.holdout': invalid value 1: must be at least 0 and less "
        "than 1");
  CHECK(config_error(purpose + "[campaigns.x]\nchannel = \"email\"\npurpose = \"newsletter\"\n"
                               "schedule = \"hourly\"\n") ==
        "crm.toml:6:12: key 'campaigns.x.schedule': invalid schedule 'hourly': expected one of "
        "once, daily, weekly, monthly");
  CHECK(config_error(purpose + "[campaigns.x]\nchannel = \"email\"\npurpose = \"newsletter\"\n"
                               "limit = 0\n") ==
        "crm.toml:6:9: key 'campaigns.x.limit': invalid value 0: must be at least 1");
  CHECK(config_error(purpose + "[campaigns.x]\nchannel = \"email\"\n") ==
        "crm.toml:3:1: key 'campaigns.x': missing required key 'purpose'");
  CHECK(config_error(purpose + "[campaigns.x]\nchannel = \"email\"\npurpose = \"newsleter\"\n") ==
        "crm.toml:5:11: key 'campaigns.x.purpose': unknown purpose 'newsleter': expected one of "
        "newsletter");
  CHECK(config_error(purpose + "[campaigns.\"win back\"]\nchannel = \"email\"\n") ==
        "crm.toml:3:12: key 'campaigns.\"win back\"': invalid name: use only letters, digits, "
        "'_' and '-'");
}

TEST_CASE("journey and score rules are checked") {
  CHECK(config_error("[journey.touchpoints.purchase]\nphase = \"buying\"\n") ==
        "crm.toml:2:9: key 'journey.touchpoints.purchase.phase': unknown phase 'buying': expected "
        "one of activation, information, action, retention");
  CHECK(config_error("[journey]\nphases = [\"a\", \"b\", \"a\"]\n") ==
        "crm.toml:2:21: key 'journey.phases[2]': duplicate phase 'a'");
  CHECK(config_error("[[journey.stages]]\nname = \"lead\"\n") ==
        "crm.toml:1:1: key 'journey.stages[0]': missing required key 'when'");
  CHECK(config_error("[[journey.stages]]\nname = \"a\"\nwhen = \"x\"\n"
                     "[[journey.stages]]\nname = \"a\"\nwhen = \"y\"\n") ==
        "crm.toml:5:8: key 'journey.stages[1].name': duplicate stage 'a'");
  CHECK(config_error("[[score.lead.rules]]\nwhen = \"x\"\nevent = \"open\"\npoints = 1\n") ==
        "crm.toml:1:1: key 'score.lead.rules[0]': expected exactly one of 'when' and 'event'");
  CHECK(config_error("[[score.lead.rules]]\npoints = 1\n") ==
        "crm.toml:1:1: key 'score.lead.rules[0]': expected exactly one of 'when' and 'event'");
  CHECK(config_error("[[score.lead.rules]]\nevent = \"open\"\n") ==
        "crm.toml:1:1: key 'score.lead.rules[0]': missing required key 'points'");
  CHECK(config_error("[score]\nrequires_consent = \"profiling\"\n") ==
        "crm.toml:2:20: key 'score.requires_consent': unknown purpose 'profiling': no purposes are "
        "defined in [consent.purposes]");
  CHECK(config_error("[reports.x]\ndescription = \"d\"\n") ==
        "crm.toml:1:1: key 'reports.x': missing required key 'sql'");
}

TEST_CASE("find_config prefers --config, then $CRM_CONFIG, then ./crm.toml, then XDG") {
  const TempDir dir;
  fs::create_directories(dir.path() / "work");
  const WorkingDir cwd(dir.path() / "work");
  const std::string xdg = (dir.path() / "xdg").string();
  const std::string home = (dir.path() / "home").string();

  SUBCASE("--config and $CRM_CONFIG are named even if missing") {
    const ConfigLocation option = crm::find_config("a.toml", "b.toml", xdg, home);
    CHECK(option.path == fs::path("a.toml"));
    CHECK(option.named);
    const ConfigLocation env = crm::find_config(std::nullopt, "b.toml", xdg, home);
    CHECK(env.path == fs::path("b.toml"));
    CHECK(env.named);
  }
  SUBCASE("nothing found means built-in defaults") {
    const ConfigLocation none = crm::find_config(std::nullopt, std::nullopt, xdg, home);
    CHECK_FALSE(none.path);
    CHECK_FALSE(none.named);
  }
  SUBCASE("then ~/.config, then $XDG_CONFIG_HOME, then ./crm.toml as each appears") {
    const fs::path in_home = dir.write("home/.config/crm/config.toml", "");
    CHECK(crm::find_config(std::nullopt, std::nullopt, xdg, home).path == std::nullopt);
    CHECK(crm::find_config(std::nullopt, std::nullopt, std::nullopt, home).path == in_home);

    const fs::path in_xdg = dir.write("xdg/crm/config.toml", "");
    const ConfigLocation user = crm::find_config(std::nullopt, std::nullopt, xdg, home);
    CHECK(user.path == in_xdg);
    CHECK_FALSE(user.named);

    dir.write("work/crm.toml", "");
    const ConfigLocation local = crm::find_config(std::nullopt, std::nullopt, xdg, home);
    CHECK(local.path == fs::path("crm.toml"));
    CHECK_FALSE(local.named);
    CHECK(crm::find_config(std::nullopt, "", xdg, home).path == fs::path("crm.toml"));
  }
  SUBCASE("a relative $XDG_CONFIG_HOME is ignored") {
    const fs::path in_home = dir.write("home/.config/crm/config.toml", "");
    CHECK(crm::find_config(std::nullopt, std::nullopt, "xdg", home).path == in_home);
  }
}

TEST_CASE("journey() gives phases, touchpoints in file order, conversion, strict and stages") {
  TempDir dir;
  const Config config = load_text(dir, "[journey]\n"
                                       "phases = [\"look\", \"buy\"]\n"
                                       "conversion = \"order\"\n"
                                       "strict = true\n"
                                       "[journey.touchpoints.zoom]\n"
                                       "phase = \"look\"\n"
                                       "[journey.touchpoints.order]\n"
                                       "phase = \"buy\"\n"
                                       "channel = \"shop\"\n"
                                       "[journey.touchpoints.ad]\n"
                                       "[[journey.stages]]\n"
                                       "name = \"customer\"\n"
                                       "when = 'event(\"order\")'\n");
  const crm::JourneySettings j = config.journey();
  CHECK(j.phases == std::vector<std::string>{"look", "buy"});
  REQUIRE(j.touchpoints.size() == 3);
  CHECK(j.touchpoints[0].name == "zoom");
  CHECK(j.touchpoints[1].name == "order");
  CHECK(j.touchpoints[2].name == "ad");
  CHECK(j.touchpoints[1].phase == "buy");
  CHECK(j.touchpoints[1].channel == "shop");
  CHECK_FALSE(j.touchpoints[2].phase);
  CHECK(j.conversion == "order");
  CHECK(j.strict);
  REQUIRE(j.stages.size() == 1);
  CHECK(j.stages[0].name == "customer");
  CHECK(j.stages[0].when == "event(\"order\")");
  CHECK(j.touchpoint("order") == &j.touchpoints[1]);
  CHECK(j.touchpoint("nope") == nullptr);
  CHECK(j.phase_index("buy") == 1);
  CHECK_FALSE(j.phase_index("sell"));
}

TEST_CASE("journey() without a config has the default phases and no touchpoints") {
  const crm::JourneySettings j = Config{}.journey();
  CHECK(j.phases == std::vector<std::string>{"activation", "information", "action", "retention"});
  CHECK(j.touchpoints.empty());
  CHECK(j.conversion == "purchase");
  CHECK_FALSE(j.strict);
}
