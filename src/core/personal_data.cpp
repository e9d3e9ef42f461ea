#include <crm/personal_data.hpp>

#include <crm/database.hpp>
#include <crm/erase.hpp>

#include <fmt/format.h>

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
    // A merged duplicate's journey is the survivor's journey.
    PersonalTable{"event", "contact_id", BlocksDelete::yes, OnMerge::move},
    // The ledger is append-only: entries of a contact that leaves are
    // blanked (digests kept, so the chain verifies), a duplicate's are copied.
    PersonalTable{"consent", "contact_id", BlocksDelete::yes, OnMerge::custom,
                  detach_consent_entries, merge_consent_entries},
    // Scores are computed, not given: a merged duplicate's are dropped and
    // the survivor is scored again by the next run.
    PersonalTable{"score_part", "contact_id", BlocksDelete::no, OnMerge::drop},
    PersonalTable{"score", "contact_id", BlocksDelete::no, OnMerge::drop},
    // Campaign memberships and responses are history: a duplicate's move.
    PersonalTable{"campaign_response", "contact_id", BlocksDelete::yes, OnMerge::move},
    PersonalTable{"campaign_member", "contact_id", BlocksDelete::yes, OnMerge::move},
    PersonalTable{"undeliverable", "contact_id", BlocksDelete::no, OnMerge::move},
};

} // namespace

std::span<const PersonalTable> personal_tables() { return k_tables; }

void remove_personal_rows(Database& db, std::int64_t contact_id) {
  for (const auto& table : k_tables) {
    if (table.remove != nullptr) {
      table.remove(db, contact_id);
      continue;
    }
    // Table and column names come from the registry, never from input.
    SQLite::Statement del(
        db.sql(), fmt::format("DELETE FROM {} WHERE {} = ?", table.table, table.contact_column));
    del.bind(1, contact_id);
    del.exec();
  }
}

} // namespace crm
