#pragma once

#include <span>
#include <string_view>

namespace crm {

// The ordered schema migrations: migration i (0-based) brings a database
// from user_version i to i + 1. Shipped migrations are never edited; a
// change of schema is a new entry at the end.
std::span<const std::string_view> migrations();

} // namespace crm
