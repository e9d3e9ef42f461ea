#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace crm {

class Database;
struct WriteContext;

// Whether rows of a table count as the contact's history, which makes a
// plain `contact delete` refuse (events, consent entries, memberships).
enum class BlocksDelete { no, yes };

// What `contact merge` does with a duplicate's rows: give them to the
// contact it keeps (rows that would then repeat a key of its own are
// dropped), drop them, or leave them to code of the table's own capability
// that merge_contacts calls (a custom table nobody handles keeps the
// duplicate's row referenced, so the merge fails on the foreign key rather
// than losing it).
enum class OnMerge { move, drop, custom };

// A table that holds personal data, keyed by a contact column.
struct PersonalTable {
  std::string_view table;
  std::string_view contact_column;
  BlocksDelete blocks_delete;
  OnMerge on_merge = OnMerge::move;
  // How the rows of a contact that leaves are removed; nullptr: DELETE.
  // The consent ledger blanks its entries instead (it is append-only).
  void (*remove)(Database& db, std::int64_t contact_id) = nullptr;
  // OnMerge::custom: gives the duplicate's rows to `keep` and removes them.
  void (*merge)(Database& db, std::int64_t keep, std::int64_t duplicate,
                const WriteContext& ctx) = nullptr;
};

// Every table that holds personal data, in the order rows are removed (the
// contact row itself comes last and is not listed). Erase, merge, delete
// and `export subject` read this list; a test fails on a table with a
// contact column that is not here. The full-text index follows the contact
// and note tables through triggers.
std::span<const PersonalTable> personal_tables();

// Removes every row of every registered table that belongs to the contact
// (not the contact row itself), each table by its own rule. Inside a write
// transaction.
void remove_personal_rows(Database& db, std::int64_t contact_id);

} // namespace crm
