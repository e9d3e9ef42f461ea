#pragma once

#include <crm/config.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

// The kinds of names the shell completions ask for (`crm __complete KIND`).
std::span<const std::string_view> completion_kinds();

// The names of `kind` a user may give, sorted, without repeats: purposes,
// channels, campaigns, models, reports, profiles, touchpoints, phases or
// owners, from the config and the built-in ones. Error(Exit::usage) for
// another kind.
std::vector<std::string> completion_words(const Config& config, std::string_view kind);

} // namespace crm
