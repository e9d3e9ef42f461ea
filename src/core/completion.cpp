#include <crm/completion.hpp>

#include <crm/campaign.hpp>
#include <crm/consent.hpp>
#include <crm/error.hpp>
#include <crm/import_profiles.hpp>
#include <crm/reports.hpp>
#include <crm/score.hpp>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>

namespace crm {

namespace {

constexpr std::array<std::string_view, 9> k_kinds = {"purposes",    "channels", "campaigns",
                                                     "models",      "reports",  "profiles",
                                                     "touchpoints", "phases",   "owners"};

// The keys of the table at `path` (e.g. {"import", "profiles"}).
void add_keys(const Config& config, std::initializer_list<std::string_view> path,
              std::vector<std::string>& out) {
  const toml::table* t = &config.table();
  for (auto key : path) {
    t = (*t)[key].as_table();
    if (t == nullptr)
      return;
  }
  for (const auto& [key, value] : *t)
    out.emplace_back(key.str());
}

} // namespace

std::span<const std::string_view> completion_kinds() { return k_kinds; }

std::vector<std::string> completion_words(const Config& config, std::string_view kind) {
  std::vector<std::string> out;
  if (kind == "purposes") {
    for (const auto& p : consent_purposes(config))
      out.push_back(p.name);
  } else if (kind == "channels") {
    for (const auto& p : consent_purposes(config))
      out.insert(out.end(), p.channels.begin(), p.channels.end());
    for (const auto& t : config.journey().touchpoints)
      if (t.channel)
        out.push_back(*t.channel);
    for (const auto& c : campaigns(config))
      out.push_back(c.channel);
  } else if (kind == "campaigns") {
    for (const auto& c : campaigns(config))
      out.push_back(c.name);
  } else if (kind == "models") {
    for (auto m : score_models())
      out.emplace_back(m);
  } else if (kind == "reports") {
    for (auto r : builtin_report_names())
      out.emplace_back(r);
    add_keys(config, {"reports"}, out);
  } else if (kind == "profiles") {
    for (auto p : builtin_profile_names())
      out.emplace_back(p);
    add_keys(config, {"import", "profiles"}, out);
  } else if (kind == "touchpoints") {
    for (const auto& t : config.journey().touchpoints)
      out.push_back(t.name);
  } else if (kind == "phases") {
    out = config.journey().phases;
  } else if (kind == "owners") {
    for (const auto& o : config.owners())
      out.push_back(o.name);
  } else {
    std::string kinds;
    for (auto k : k_kinds)
      kinds += (kinds.empty() ? "" : ", ") + std::string(k);
    throw Error(Exit::usage, fmt::format("no completion kind '{}' (kinds: {})", kind, kinds));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

} // namespace crm
