#include <crm/personal_data.hpp>

#include <array>

namespace crm {

namespace {

constexpr std::array k_tables = {
    // Attributes and tags are merged field by field, then the duplicate's go.
    PersonalTable{"contact_attr", "contact_id", BlocksDelete::no, OnMerge::drop},
    PersonalTable{"contact_tag", "contact_id", BlocksDelete::no, OnMerge::drop},
    PersonalTable{"note", "contact_id", BlocksDelete::no, OnMerge::move},
    PersonalTable{"history", "contact_id", BlocksDelete::no, OnMerge::move},
    // A merged duplicate is gone: an undo of its import has nothing to revert.
    PersonalTable{"import_change", "contact_id", BlocksDelete::no, OnMerge::drop},
    PersonalTable{"dedupe_ignore", "contact_a", BlocksDelete::no, OnMerge::drop},
    PersonalTable{"dedupe_ignore", "contact_b", BlocksDelete::no, OnMerge::drop},
    PersonalTable{"task", "contact_id", BlocksDelete::no, OnMerge::move},
    // A merged duplicate's journey is the survivor's journey; a contact with
    // events is deleted only with --force (SPEC: delete).
    PersonalTable{"event", "contact_id", BlocksDelete::yes, OnMerge::move},
};

} // namespace

std::span<const PersonalTable> personal_tables() { return k_tables; }

} // namespace crm
