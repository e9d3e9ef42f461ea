#include <crm/version.hpp>

namespace crm {

std::string_view version() { return CRM_VERSION; }

} // namespace crm
