#pragma once

#include <crm/contacts.hpp>

#include <SQLiteCpp/Statement.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crm {

enum class FieldKind { id, text, email, phone, country, date, stamp };

// A fixed contact field; `member` is null for id and the time stamps.
struct FieldInfo {
  std::string_view name;
  FieldKind kind;
  std::optional<std::string> Contact::*member;
};

// The fixed fields in output order, their names, and one by name (nullptr
// if unknown).
std::span<const FieldInfo> field_table();
std::span<const std::string_view> field_names();
const FieldInfo* field_info(std::string_view name);

// Attribute names: letters, digits, '_', '-' and '.'.
bool valid_attr_key(std::string_view key);

// Sets and removes attributes of a contact (`attrs` sorted by key): each
// update sets its key to the value, or removes it (nullopt); of updates of
// the same key the last counts. O(n log n), for rows of 100k attributes.
void merge_attrs(std::vector<std::pair<std::string, std::string>>& attrs,
                 std::vector<std::pair<std::string, std::optional<std::string>>> updates);

// Applies `changes` to `c`, normalising every value (SPEC.md section 6);
// phone numbers are read with the contact's own country as region, else
// `default_country`. Sets `stage_set` if the stage was given. Throws
// Error(Exit::data) for an invalid value or an unknown field.
void apply_changes(Contact& c, const ContactChanges& changes, std::string_view default_country,
                   bool& stage_set);

// What changed from `before` to `after` as the JSON of a history entry
// ({"field": [old, new], "attr.key": [old, new], "tags": {"added": [..],
// "removed": [..]}}); empty if nothing changed.
std::string change_detail(const Contact& before, const Contact& after);

// find_contact with its statement prepared once, for many lookups.
class ContactLookup {
public:
  explicit ContactLookup(Database& db);
  std::optional<Contact> find(std::int64_t id);

private:
  SQLite::Statement m_query;
};

// Writes contacts with prepared statements that are reused for every row,
// so bulk paths pay for parsing SQL once. All calls belong inside a write
// transaction of the caller.
class ContactWriter {
public:
  explicit ContactWriter(Database& db);

  // Inserts `c` with its attributes and tags; sets c.id. `email_key`, when
  // given, is email_match_key(*c.email), computed already by the caller.
  void insert(Contact& c, bool stage_manual, const std::string* email_key = nullptr);
  // Writes `after` over `before` (same id): fields, attributes, tags.
  void update(const Contact& before, const Contact& after, bool stage_set);
  void history(std::int64_t id, const WriteContext& ctx, std::string_view action,
               const std::string& detail);
  // The same with the time already formatted (`at`), for many rows at once.
  void history(std::int64_t id, const std::string& at, const std::string& source,
               std::string_view action, const std::string& detail);
  // The contact that has this normalised email / external id / phone,
  // other than `except`; the lowest id if several.
  std::optional<std::int64_t> owner_of_email(const std::string& match_key, std::int64_t except);
  std::optional<std::int64_t> owner_of_external_id(const std::string& id, std::int64_t except);
  std::optional<std::int64_t> owner_of_phone(const std::string& e164, std::int64_t except);
  // Which identities must not belong to another contact.
  enum class Unique { both, email, external_id };
  // Refuses (Error(Exit::data)) an email or external id (as `what` says)
  // that another contact has.
  void check_unique(const Contact& c, Unique what = Unique::both);

private:
  void update_attrs_and_tags(const Contact& before, const Contact& after);
  Database& m_db;
  SQLite::Statement m_insert, m_update, m_history, m_attr_set, m_attr_delete, m_tag_add,
      m_tag_delete, m_by_email, m_by_external_id, m_by_phone;
};

} // namespace crm
