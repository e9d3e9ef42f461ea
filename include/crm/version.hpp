#pragma once

#include <string_view>

namespace crm {

// The version of crm, like "0.1.0".
std::string_view version();

} // namespace crm
