#include <crm/personal_data.hpp>

#include <array>

namespace crm {

namespace {

constexpr std::array k_tables = {
    PersonalTable{"contact_attr", "contact_id", BlocksDelete::no},
    PersonalTable{"contact_tag", "contact_id", BlocksDelete::no},
    PersonalTable{"note", "contact_id", BlocksDelete::no},
    PersonalTable{"history", "contact_id", BlocksDelete::no},
    PersonalTable{"import_change", "contact_id", BlocksDelete::no},
};

} // namespace

std::span<const PersonalTable> personal_tables() { return k_tables; }

} // namespace crm
