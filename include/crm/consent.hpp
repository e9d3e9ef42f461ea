#pragma once
// The consent ledger (SPEC.md section 6 "consent"): an append-only list of
// grants, withdrawals, objections and double opt-in requests and
// confirmations, each with a SHA-256 digest of its content and a hash chained
// over the digest of the entry before it.

#include <crm/clock.hpp>
#include <crm/config.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>

#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

// A purpose of [consent.purposes.NAME].
struct Purpose {
  std::string name;
  std::vector<std::string> channels; // empty: a purpose without channels (profiling)
  bool double_opt_in = false;
  Duration confirm_within{7, Duration::Unit::days};
  std::optional<Duration> valid_for; // nullopt: a consent does not expire
};

// The purposes of the config, by name.
std::vector<Purpose> consent_purposes(const Config& config);

// The purpose named `name`; Error(Exit::not_found) naming the known ones if
// there is none.
const Purpose& find_purpose(std::span<const Purpose> purposes, std::string_view name);

// One ledger entry. A purpose or channel of nullopt applies to all
// (an objection to every purpose, a grant or withdrawal on every channel of
// its purpose, or the only "channel" of a purpose without channels).
struct ConsentEntry {
  std::int64_t id = 0;
  std::optional<std::int64_t> contact_id; // nullopt once erased
  std::optional<std::string> purpose, channel;
  std::string action; // grant, withdraw, object, request, confirm
  std::string at;
  std::optional<std::string> source, proof;
  std::string recorded_at;
  std::string digest, chain;
  std::optional<std::string> erased_at;
};

// An entry to append.
struct ConsentChange {
  std::string action;
  std::optional<std::string> purpose;
  std::optional<std::string> channel;
  std::optional<TimePoint> at; // default: now
  std::optional<std::string> source, proof;
};

// Checks `change` against the purposes: an unknown purpose or channel, a
// channel on a purpose without channels, or a missing purpose where the
// action needs one is Error(Exit::not_found) / Error(Exit::usage); a grant
// on a double opt-in purpose without proof is Error(Exit::data).
void validate_consent_change(std::span<const Purpose> purposes, const ConsentChange& change);

// Appends `change` for each contact of `ids`, in one transaction (the
// entries show in `contact_history` too). An entry equal to one already in the ledger (same
// contact, purpose, channel, action, time and proof) is not added again.
// Returns how many entries were added.
std::size_t append_consent(Database& db, std::span<const Purpose> purposes,
                           std::span<const std::int64_t> ids, const ConsentChange& change,
                           const WriteContext& ctx);

// Appends one entry inside the caller's write transaction (no validation
// beyond the ledger's own); returns its id, or nullopt if it was already
// there. For imports and merges.
std::optional<std::int64_t> append_consent_entry(Database& db, std::int64_t contact_id,
                                                 const ConsentChange& change,
                                                 const std::optional<std::string>& token_hash,
                                                 const WriteContext& ctx);

// Appends entries inside the caller's write transaction with statements
// prepared once and the chain head kept in memory: for bulk paths. finish()
// records the new head; call it before the transaction commits.
class ConsentWriter {
public:
  ConsentWriter(Database& db, const WriteContext& ctx);
  ~ConsentWriter();
  ConsentWriter(const ConsentWriter&) = delete;
  ConsentWriter& operator=(const ConsentWriter&) = delete;
  // Like append_consent_entry: the new entry's id, or nullopt if it was
  // already in the ledger.
  std::optional<std::int64_t> append(std::int64_t contact_id, const ConsentChange& change,
                                     const std::optional<std::string>& token_hash);
  // Like append, for bulk imports: the entry may be written later (in a
  // multi-row INSERT), by the latest at finish(). False if it was already in
  // the ledger or added before.
  bool add(std::int64_t contact_id, const ConsentChange& change);
  // Writes what add() holds back and the ledger's head; call it before the
  // transaction commits.
  void finish();

private:
  struct Entry {
    std::int64_t contact_id = 0;
    std::optional<std::string> purpose, channel;
    std::string action, at, source;
    std::optional<std::string> proof, token;
    std::string digest, chain;
  };
  static constexpr std::size_t k_rows_per_insert = 64;
  Entry entry_of(std::int64_t contact_id, const ConsentChange& change) const;
  bool known(std::int64_t contact_id, const Entry& e);
  void chain(Entry& e);
  void bind_entry(SQLite::Statement& s, int first, const Entry& e);
  void flush();

  Database& m_db;
  WriteContext m_ctx;
  std::string m_recorded_at;
  SQLite::Statement m_same, m_insert;
  std::unique_ptr<SQLite::Statement> m_insert_many;
  std::vector<Entry> m_pending;
  std::string m_chain;
  std::int64_t m_last_id = 0;
  bool m_dirty = false;
};

// Starts a double opt-in: appends a `request` and returns the token to
// send to the person (only its hash is stored).
std::string request_consent(Database& db, std::span<const Purpose> purposes, std::int64_t id,
                            const ConsentChange& change, const WriteContext& ctx);

struct Confirmation {
  std::int64_t contact_id = 0;
  std::int64_t request_id = 0;
  bool already = false; // confirmed before: nothing was added
};

// Completes the double opt-in of `token`. Error(Exit::not_found) if no
// request has it, Error(Exit::data) if the request is void (older than the
// purpose's confirm_within).
Confirmation confirm_consent(Database& db, std::span<const Purpose> purposes,
                             std::string_view token, const WriteContext& ctx);

// The ledger entries of a contact, in ledger order.
std::vector<ConsentEntry> consent_entries(Database& db, std::int64_t contact_id);

// Every entry, in ledger order (for export and verify).
void each_consent_entry(Database& db, const std::function<void(const ConsentEntry&)>& row);

// The state of one purpose and channel for a contact at a time.
struct ConsentState {
  std::string purpose;
  std::optional<std::string> channel;
  // granted, expired, withdrawn, objected, pending, void or none
  std::string state;
  std::optional<std::string> since;  // time of the entry that decided it
  std::optional<std::string> until;  // when a grant expires
  std::optional<std::string> source; // of that entry
  bool allowed() const { return state == "granted"; }
};

// The state per configured purpose and channel, decided by the entries'
// times (ties by ledger order), as of `now`.
std::vector<ConsentState> consent_states(std::span<const Purpose> purposes,
                                         std::span<const ConsentEntry> entries, TimePoint now);

// A SQL fragment over contact row `c`: true if the contact may be
// contacted for `purpose` (on `channel`, or on any channel of the purpose
// if nullopt) at `now`. Used by the filter language and `consent check`.
SqlFilter consent_allowed_sql(const Purpose& purpose, const std::optional<std::string>& channel,
                              TimePoint now);

// True if contact `id` may be contacted for purpose/channel at `now`.
bool consent_allowed(Database& db, const Purpose& purpose,
                     const std::optional<std::string>& channel, std::int64_t id, TimePoint now);

// Walks the whole chain. Returns the problems (empty if it verifies) and
// sets `entries` to the number of entries read.
std::vector<std::string> verify_consent_ledger(Database& db, std::int64_t& entries);

// SHA-256 of `text`, lower-case hex.
std::string sha256_hex(std::string_view text);

} // namespace crm

namespace crm {

class RecordReader;
class RejectSink;

struct ConsentImportOptions {
  std::optional<std::size_t> max_rejects; // abort (65, nothing written) past this many
  bool dry_run = false;                   // validate and count, write nothing
  std::size_t batch = 0;                  // rows per transaction; 0: the whole input
};

struct ConsentImportSummary {
  std::size_t added = 0;
  std::size_t unchanged = 0; // already in the ledger
  std::size_t rejected = 0;
};

// Appends ledger entries read from `reader`: a contact column (contact_id,
// id, email, external_id or phone; the first present), purpose, channel,
// action, at (default now), source (default ctx.source) and proof. A row
// with an unknown contact, purpose or channel, a bad action or time, or a
// grant without proof on a double opt-in purpose goes to `rejects`. Entries
// already in the ledger are not added again. Throws Error(Exit::data) when
// the input lacks a needed column or the rejects exceed max_rejects
// (nothing of the current batch written).
ConsentImportSummary import_consents(Database& db, RecordReader& reader,
                                     std::span<const Purpose> purposes,
                                     const ConsentImportOptions& options, const WriteContext& ctx,
                                     RejectSink& rejects);

} // namespace crm
