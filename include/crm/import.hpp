#pragma once

#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/import_profiles.hpp>
#include <crm/readers.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// Which field decides that a row is a contact already known.
enum class ImportKey { email, external_id, phone, none };
// What a row whose key is known does.
enum class OnConflict { update, skip, fail };
enum class DryRun { no, yes };
enum class Strict { no, yes };

std::optional<ImportKey> parse_import_key(std::string_view name);
std::optional<OnConflict> parse_on_conflict(std::string_view name);

struct ImportOptions {
  // "Source Column" -> target: a contact field, "tags", "attr.NAME", or "-"
  // to ignore the column. Other columns map by name (case, spaces and
  // hyphens aside, and a few common aliases like "E-Mail" or "Zip").
  std::vector<std::pair<std::string, std::string>> map;
  ImportKey key = ImportKey::email;
  OnConflict on_conflict = OnConflict::update;
  Strict strict = Strict::no; // yes: an unmapped column is an error, not an attribute
  DryRun dry_run = DryRun::no;
  std::size_t batch = 0; // rows per transaction; 0: the whole input
  std::optional<std::size_t> max_rejects;
  std::string source;  // the input's name, recorded with the batch
  std::string profile; // the profile used, recorded with the batch ("" for none)
  // A built-in profile reads the columns it knows (those of `map` aside);
  // the others map by name as without it. nullptr: none.
  const BuiltinProfile* builtin = nullptr;
  // The `source` field of contacts whose row has none (a profile's source).
  std::optional<std::string> default_source;
  // Called with the id of each contact inserted or updated, once per
  // contact and batch, after the batch is committed (never in a dry run).
  std::function<void(std::int64_t)> on_changed;
  // Where consent evidence of a built-in profile (Mailchimp's OPTIN_*,
  // CONFIRM_*, UNSUB_TIME) goes in the consent ledger; nullopt purpose:
  // the evidence is counted in ImportSummary::consent_skipped, not recorded.
  std::optional<std::string> consent_purpose;
  std::optional<std::string> consent_channel;
};

struct ImportSummary {
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
  std::size_t rejected = 0;
  std::size_t consent_added = 0;   // ledger entries recorded from consent evidence
  std::size_t consent_skipped = 0; // rows with evidence but no purpose to record it for
  std::int64_t batch_id = 0;       // 0 in a dry run
};

// Receives each rejected row with the reason, as it happens.
class RejectSink {
public:
  virtual ~RejectSink() = default;
  virtual void reject(const RecordReader& reader, const InputRecord& record,
                      std::string_view reason) = 0;
};

// Imports contacts from `reader`: maps columns, normalises and validates
// every value as `contact add` does, and inserts or updates by the key, each
// change in the history with the batch as its source. A row that cannot be
// read, has an invalid value or conflicts with another contact is given to
// `rejects` and the import goes on. Each `batch` rows are one transaction.
// Throws Error(Exit::data) (nothing of the current batch written) when the
// rejects exceed max_rejects, on --on-conflict fail for a known row, or with
// Strict::yes for an unmapped column. `progress` is called now and then
// with the rows read so far.
ImportSummary import_contacts(Database& db, RecordReader& reader, const ImportOptions& options,
                              const WriteContext& ctx, RejectSink& rejects,
                              const std::function<void(std::size_t)>& progress);

} // namespace crm

namespace crm {

struct UndoSummary {
  std::size_t deleted = 0;  // contacts the batch had created
  std::size_t restored = 0; // contacts put back as they were before the batch
  std::size_t gone = 0;     // contacts deleted or erased since: nothing to undo
};

// Reverts import batch `batch` in one transaction: deletes the contacts it
// created and puts back the fields, attributes and tags of those it
// updated, each restore in the history as "undo". Refuses (Exit::data,
// nothing changed) when a contact of the batch changed after it (a later
// history entry, or events or consent entries on a contact it created), or
// when a restored email or external id now belongs to another contact.
// Error(Exit::not_found) for no such contact import batch; Error(Exit::data)
// if it is undone already.
UndoSummary undo_import(Database& db, std::int64_t batch, const WriteContext& ctx);

} // namespace crm
