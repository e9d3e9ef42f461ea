#pragma once
// GDPR erasure (SPEC.md section 7): `crm contact erase` removes a person's
// data everywhere and keeps a tombstone that suppresses them for good.

#include <crm/config.hpp>
#include <crm/consent.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// Erases the contacts of `ids`, in one transaction: every personal-data table of the registry, the
// contact row and its full-text entry; consent entries keep their digests
// (the chain still verifies) but lose contact, source and proof. Records a
// tombstone (HMAC-SHA-256 of the normalised email and E.164 phone under the
// database's own secret). Then optimises the full-text index and truncates
// the WAL, so the person's text leaves the live pages. Error(not_found) if
// there is no such contact.
void erase_contacts(Database& db, std::span<const std::int64_t> ids, const WriteContext& ctx);

// Tells whether an email or phone belongs to an erased person. Prepares
// its statements once; use inside the caller's transactions.
class Suppression {
public:
  explicit Suppression(Database& db);
  // True if the normalised email (match key) or E.164 phone of an erased
  // person is this one.
  bool erased(const std::optional<std::string>& email_key,
              const std::optional<std::string>& e164_phone);
  // The reason a row is refused with.
  static constexpr std::string_view reason = "erased (suppressed)";

private:
  Database& m_db;
  std::string m_secret;
  bool m_any = false;
};

// The contacts `crm contact purge` erases under a [retention] rule: created
// before `now - inactive_for`, with no journey event and no consent ledger
// entry since then, and no purpose of `purposes` allowed now. By id.
std::vector<std::int64_t> retention_candidates(Database& db, std::span<const Purpose> purposes,
                                               const Duration& inactive_for, TimePoint now);

// [retention].inactive_for of the config, parsed, and as written.
// Error(Exit::config) if it is not set.
std::pair<Duration, std::string> retention_rule(const Config& config);

// HMAC-SHA-256 of `value` under `secret`, lower-case hex.
std::string hmac_sha256_hex(std::string_view secret, std::string_view value);

// Consent ledger entries of a contact that leaves: blanked (contact, source
// and proof removed, digests kept), never deleted. Inside a write transaction.
void detach_consent_entries(Database& db, std::int64_t contact_id);

// Gives the duplicate's consent entries to `keep` in a merge: copies them
// (same purpose, channel, action, time, source and proof), repeats at `now`
// any withdrawal or objection that a later entry of the other side would
// otherwise override (a merge never widens consent), then detaches the
// duplicate's originals. Inside a write transaction.
void merge_consent_entries(Database& db, std::int64_t keep, std::int64_t duplicate,
                           const WriteContext& ctx);

} // namespace crm
