#pragma once

#include <crm/output.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace crm {

// One effective setting: a dotted key (`database.busy_timeout_ms`,
// `consent.purposes.newsletter.channels`), its value written as TOML, and
// where it came from (`/path/crm.toml:12` or `default`).
struct Setting {
  std::string key;
  std::string value;
  std::string origin;
};

// Where the config comes from, in the order of SPEC.md section 1.
struct ConfigLocation {
  std::optional<std::filesystem::path> path; // nullopt: built-in defaults
  bool named = false;                        // named by --config or $CRM_CONFIG: unreadable is 66
};

// Picks the config file: `option` (--config), else `env_config`
// ($CRM_CONFIG), else ./crm.toml if it exists, else
// `$XDG_CONFIG_HOME/crm/config.toml` (or `$HOME/.config/...`) if it
// exists, else none.
ConfigLocation find_config(const std::optional<std::string>& option,
                           const std::optional<std::string>& env_config,
                           const std::optional<std::string>& xdg_config_home,
                           const std::optional<std::string>& home);

// An import profile of the config ([import.profiles.NAME]); unset keys are nullopt.
struct ImportProfileSettings {
  std::optional<std::string> key, input_format, encoding, delimiter, on_conflict, source;
  std::vector<std::pair<std::string, std::string>> map; // "Source Column" -> field
};

// An owner of [owners.NAME] and the most contacts they hold.
struct Owner {
  std::string name;
  std::int64_t capacity = 0;
};

// A touchpoint of [journey.touchpoints.NAME]: the phase and channel its
// events get when they name none.
struct JourneyTouchpoint {
  std::string name;
  std::optional<std::string> phase, channel, description;
};

// A lifecycle stage rule of [[journey.stages]]: `when` is a filter expression.
struct JourneyStage {
  std::string name, when;
};

// The [journey] section with its defaults filled in.
struct JourneySettings {
  std::vector<std::string> phases;            // in journey order
  std::vector<JourneyTouchpoint> touchpoints; // in the order of the config file
  std::string conversion;                     // the touchpoint that is a conversion
  bool strict = false;                        // unknown touchpoints are refused
  std::vector<JourneyStage> stages;           // first match wins

  // The touchpoint NAME of the config; nullptr if it has none.
  const JourneyTouchpoint* touchpoint(std::string_view name) const;
  // The position of phase NAME in `phases`; nullopt if it is not one.
  std::optional<std::size_t> phase_index(std::string_view name) const;
};

// The validated configuration (SPEC.md section 8). Every key of the shape
// is known and type-checked on load, also those used by capabilities that
// read them later.
class Config {
public:
  Config(); // built-in defaults
  ~Config();
  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;

  // Loads and validates a config. A file that cannot be read is
  // Error(Exit::no_input) if location.named, else Error(Exit::config).
  // Bad TOML, an unknown key, a wrong type or an invalid value is
  // Error(Exit::config) with "FILE:LINE:COL: key: why".
  static Config load(const ConfigLocation& location);

  const std::optional<std::filesystem::path>& file() const { return m_file; }

  // [database].path resolved against the config file's folder; nullopt if unset.
  std::optional<std::filesystem::path> database_path() const;
  int busy_timeout_ms() const;
  const std::string& default_country() const;
  const std::string& currency() const;
  std::optional<Format> default_format() const;
  // [dedupe].survivor: "oldest" (default), "newest" or "most_complete".
  std::string dedupe_survivor() const;

  // [owners.NAME], by name.
  std::vector<Owner> owners() const;

  // The effective settings: every set key plus the defaults of the keys
  // that have one, in a stable order.
  std::vector<Setting> settings() const;

  // The import profile NAME of [import.profiles]; nullopt if there is none.
  std::optional<ImportProfileSettings> import_profile(std::string_view name) const;

  // [journey]: phases, touchpoints (in file order), conversion, strict, stages.
  JourneySettings journey() const;

  // The parsed document, for capabilities that read their own sections.
  const toml::table& table() const;

private:
  struct Data;
  std::unique_ptr<Data> m_data;
  std::optional<std::filesystem::path> m_file;
};

// The commented starter crm.toml that `crm init` writes; it loads cleanly.
std::string_view starter_config();

} // namespace crm
