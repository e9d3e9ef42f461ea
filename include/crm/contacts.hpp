#pragma once

#include <crm/clock.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// A contact as stored. Emails keep their display form; phones are E.164.
struct Contact {
  std::int64_t id = 0;
  std::optional<std::string> external_id, email, phone, first_name, last_name, company, street,
      postcode, city, country, birthdate, stage, owner, source;
  std::string created_at, updated_at;
  std::vector<std::string> tags;                          // sorted
  std::vector<std::pair<std::string, std::string>> attrs; // sorted by key
};

// The fixed fields in output order (then `tags`, then `attr.*` when asked).
std::span<const std::string_view> contact_fields();

// The value of fixed field `name` of `c`; nullopt if null.
std::optional<std::string> contact_field(const Contact& c, std::string_view name);

// A change to contacts. A field or attribute set to nullopt is cleared; an
// attribute set to "" is removed too.
struct ContactChanges {
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;
  std::vector<std::pair<std::string, std::optional<std::string>>> attrs;
  std::vector<std::string> add_tags;
  std::vector<std::string> remove_tags;
  bool empty() const {
    return fields.empty() && attrs.empty() && add_tags.empty() && remove_tags.empty();
  }
};

// What every write needs: the clock, the region for phone numbers and the
// source recorded in the history.
struct WriteContext {
  TimePoint now{};
  std::string default_country = "DE";
  std::string source = "cli";
  // Let an email or phone of an erased person in again (--allow-erased).
  bool allow_erased = false;
};

// Adds a contact after normalising every value (SPEC.md section 6) and
// records it in the history; returns its id. Throws Error(Exit::data) for
// an invalid value, an unknown field, or an email or external id that
// another contact already has.
std::int64_t add_contact(Database& db, const ContactChanges& changes, const WriteContext& ctx);

// Applies `changes` to each contact of `ids` in one transaction; records
// what changed in each contact's history; a contact the change leaves as it
// was gets no entry and keeps its updated_at. Returns how many changed.
// Throws like add_contact.
std::size_t update_contacts(Database& db, std::span<const std::int64_t> ids,
                            const ContactChanges& changes, const WriteContext& ctx);

// Adds a note to each contact of `ids`, in the history too.
void add_note(Database& db, std::span<const std::int64_t> ids, std::string_view text,
              const WriteContext& ctx);

enum class Force { no, yes };

// Deletes the contacts of `ids` and everything that belongs to them, in one
// transaction. Without Force::yes, refuses (Error(Exit::data), nothing
// deleted) when one has events, consent entries or campaign memberships.
void delete_contacts(Database& db, std::span<const std::int64_t> ids, Force force);

// The contact with this id, with tags and attributes.
std::optional<Contact> find_contact(Database& db, std::int64_t id);

// Resolves a contact reference of SPEC.md section 4 (id, email, ext:ID,
// tel:PHONE); nullopt if no contact has it. Throws Error(Exit::data) if the
// reference is malformed or an email or phone matches several contacts.
std::optional<std::int64_t> resolve_ref(Database& db, std::string_view ref,
                                        std::string_view default_country);

// Reads references from `in`, one per line: the first tsv/csv column (a
// header naming id, contact_id, email or external_id is skipped and names
// the kind of the values below it), or ndjson objects with one of those
// keys. Returns references in the syntax of resolve_ref. Throws
// Error(Exit::data) for a line it cannot read.
std::vector<std::string> read_refs(std::istream& in);

struct SortKey {
  std::string field;
  bool descending = false;
};

struct ListQuery {
  std::optional<SqlFilter> where;
  std::vector<SortKey> sort; // empty: by id
  std::optional<std::int64_t> limit;
  bool with_attrs = false; // fill Contact::attrs
};

// Parses `--sort FIELD[,-FIELD]`; throws Error(Exit::usage) for an unknown field.
std::vector<SortKey> parse_sort(std::string_view spec);

// Streams the matching contacts to `row`, one at a time, in one snapshot.
void list_contacts(Database& db, const ListQuery& query,
                   const std::function<void(const Contact&)>& row);

// The names of all custom attributes in use, sorted.
std::vector<std::string> attribute_keys(Database& db);

// Ranked full-text search over names, email, company, city and notes,
// case- and diacritics-insensitive with prefix matching; best first.
// limit 0 = all.
void search_contacts(Database& db, std::string_view text, std::int64_t limit,
                     const std::function<void(const Contact&)>& row);

struct HistoryEntry {
  std::int64_t id = 0;
  std::int64_t contact_id = 0;
  std::string at;
  std::string action;
  std::optional<std::string> source;
  std::optional<std::string> detail; // JSON: what changed
};

// The history of a contact, oldest first.
std::vector<HistoryEntry> contact_history(Database& db, std::int64_t id);

} // namespace crm
