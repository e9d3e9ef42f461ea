#pragma once

#include <crm/contacts.hpp>
#include <crm/readers.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

// Built-in import profiles: how the contact exports people actually have
// (Google Contacts, Outlook, Thunderbird, Mailchimp, HubSpot) map onto
// contacts. A profile knows the columns of its export, picks the contact's
// email and phone among several (the one marked primary, else the first),
// keeps the others as attributes, and reads what an export packs into one
// cell (Google's " ::: " lists, Mailchimp's tag list).
class BuiltinProfile;

// Evidence of consent found in an export, to become consent ledger entries
// (Mailchimp's OPTIN_TIME/OPTIN_IP, CONFIRM_TIME/CONFIRM_IP, UNSUB_TIME).
struct ConsentEvidence {
  enum class Action {
    request,  // the sign-up (OPTIN_*): the first step of a double opt-in
    grant,    // the subscription confirmed (CONFIRM_*)
    withdraw, // the unsubscription (UNSUB_TIME)
  };
  Action action = Action::grant;
  std::string time;   // RFC 3339 UTC, `2026-11-22T09:30:00Z`
  std::string ip;     // as exported; "" if none
  std::string column; // the column the time came from, for messages and proof
  friend bool operator==(const ConsentEvidence&, const ConsentEvidence&) = default;
};

std::string_view consent_action_name(ConsentEvidence::Action action);

// The names of the built-in profiles, in the order recognition tries them.
std::span<const std::string_view> builtin_profile_names();

// The built-in profile NAME; nullptr if there is none.
const BuiltinProfile* find_builtin_profile(std::string_view name);

// The built-in profile whose distinctive columns are all among `columns`
// (names compare without case, spaces, hyphens, underscores and dots);
// nullptr if none is.
const BuiltinProfile* recognise_profile(std::span<const std::string> columns);

std::string_view profile_name(const BuiltinProfile& profile);

// The encoding the export is written in when no BOM says otherwise and the
// user gives none (cp1252 for German Outlook); nullopt for UTF-8.
std::optional<std::string_view> profile_encoding(const BuiltinProfile& profile);

// For recognition when the header of `path` is not valid UTF-8: opens the
// file again in the legacy encoding of each built-in profile that has one
// (cp1252 for German Outlook) and returns the reader if its header is that
// export; nullptr otherwise (also for stdin, "-", which cannot be read
// twice, and when `options` names an encoding).
std::unique_ptr<RecordReader> reopen_legacy_export(const std::string& path, ReaderOptions options);

// The values of one cell: split on " ::: " (Google's separator), each
// trimmed, empty ones dropped.
std::vector<std::string> split_multi_value(std::string_view cell);

// A row as a profile reads it.
struct ProfileRow {
  ContactChanges changes; // fields, attributes and tags, not yet validated
  std::vector<ConsentEvidence> consent;
};

// A profile bound to the columns of one input.
class ProfileMapper {
public:
  // `columns` are the input's column names. A column the profile does not
  // know, or one for which `skip` answers true (a --map of the user), is
  // left to the caller's mapping by name.
  ProfileMapper(const BuiltinProfile& profile, std::span<const std::string> columns,
                const std::function<bool(std::size_t)>& skip);
  ~ProfileMapper();
  ProfileMapper(ProfileMapper&&) noexcept;
  ProfileMapper& operator=(ProfileMapper&&) noexcept;

  // Whether column `index` is read by this mapper.
  bool handles(std::size_t index) const;

  // Maps the values of the columns it handles of one record (by column
  // position) into `out`, which it clears first. Throws Error(Exit::data) with the reason for a
  // value the profile cannot read (a date or time in another shape than the export writes).
  void map(const std::vector<std::optional<std::string>>& values, ProfileRow& out) const;

  struct Column; // how one column is read

private:
  const BuiltinProfile* m_profile;
  std::vector<Column> m_columns;
};

} // namespace crm
