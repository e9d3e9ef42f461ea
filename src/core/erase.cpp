#include <crm/erase.hpp>

#include <crm/consent.hpp>
#include <crm/error.hpp>
#include <crm/normalize.hpp>
#include <crm/personal_data.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <toml++/toml.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <map>
#include <tuple>

namespace crm {

namespace {

std::string database_secret(Database& db) {
  SQLite::Statement q(db.sql(), "SELECT value FROM meta WHERE key = 'erasure_secret'");
  if (!q.executeStep())
    throw Error(Exit::internal, "the database has no erasure secret");
  return q.getColumn(0).getString();
}

std::optional<std::string> text_or_null(const SQLite::Column& column) {
  if (column.isNull())
    return std::nullopt;
  return column.getString();
}

// The tombstone hash of a normalised email or phone; nullopt for none.
std::optional<std::string> tomb(const std::string& secret, const std::optional<std::string>& v,
                                std::string_view kind) {
  if (!v || v->empty())
    return std::nullopt;
  // The kind keeps an email and a phone with the same text apart.
  return hmac_sha256_hex(secret, fmt::format("{}:{}", kind, *v));
}

struct Entry {
  std::int64_t id;
  std::optional<std::string> purpose, channel;
  std::string action, at;
  std::optional<std::string> source, proof;
};

std::vector<Entry> entries_of(Database& db, std::int64_t contact_id) {
  std::vector<Entry> out;
  SQLite::Statement q(db.sql(), "SELECT id, purpose, channel, action, at, source, proof FROM "
                                "consent WHERE contact_id = ? ORDER BY id");
  q.bind(1, contact_id);
  while (q.executeStep())
    out.push_back({q.getColumn(0).getInt64(), text_or_null(q.getColumn(1)),
                   text_or_null(q.getColumn(2)), q.getColumn(3).getString(),
                   q.getColumn(4).getString(), text_or_null(q.getColumn(5)),
                   text_or_null(q.getColumn(6))});
  return out;
}

bool deciding(const Entry& e) { return e.action != "request"; }

// Whether entry `later` may override `withdrawal` (they concern the same
// purpose, or the withdrawal is an objection to every purpose).
bool overlaps(const Entry& withdrawal, const Entry& later) {
  if (!withdrawal.purpose || !later.purpose)
    return true;
  if (*withdrawal.purpose != *later.purpose)
    return false;
  return !withdrawal.channel || !later.channel || *withdrawal.channel == *later.channel;
}

} // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view value) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac.data(),
           &size) == nullptr)
    throw Error(Exit::internal, "HMAC-SHA-256 failed");
  std::string hex;
  for (unsigned int i = 0; i < size; ++i)
    hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

void detach_consent_entries(Database& db, std::int64_t contact_id) {
  // The ledger's triggers let an update through only while 'erasing' is
  // set, and then only one that blanks contact, source and proof.
  db.sql().exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('erasing', '1')");
  SQLite::Statement blank(db.sql(), "UPDATE consent SET contact_id = NULL, source = NULL, "
                                    "proof = NULL, erased_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                                    "'now') WHERE contact_id = ?");
  blank.bind(1, contact_id);
  blank.exec();
  db.sql().exec("DELETE FROM meta WHERE key = 'erasing'");
}

void merge_consent_entries(Database& db, std::int64_t keep, std::int64_t duplicate,
                           const WriteContext& ctx) {
  auto kept = entries_of(db, keep);
  auto moved = entries_of(db, duplicate);
  for (const auto& e : moved) {
    ConsentChange copy;
    copy.action = e.action;
    copy.purpose = e.purpose;
    copy.channel = e.channel;
    copy.at = parse_time_or_throw(e.at, "consent time");
    copy.source = e.source;
    copy.proof = e.proof;
    append_consent_entry(db, keep, copy, std::nullopt, ctx);
  }
  // A withdrawal or objection that decides its purpose and channel on one
  // side must still decide after the merge: if the other side has a later
  // grant for it, the withdrawal is repeated now.
  auto repeat_withdrawals = [&](const std::vector<Entry>& side, const std::vector<Entry>& other) {
    std::map<std::tuple<std::string, std::string>, const Entry*> latest;
    for (const auto& e : side)
      if (deciding(e)) {
        auto key = std::make_tuple(e.purpose.value_or("\x1e"), e.channel.value_or("\x1e"));
        auto& slot = latest[key];
        if (slot == nullptr || slot->at <= e.at)
          slot = &e;
      }
    for (const auto& [key, w] : latest) {
      if (w->action != "withdraw" && w->action != "object")
        continue;
      bool overridden = false;
      for (const auto& o : other)
        if ((o.action == "grant" || o.action == "confirm") && o.at > w->at && overlaps(*w, o))
          overridden = true;
      if (!overridden)
        continue;
      ConsentChange again;
      again.action = w->action;
      again.purpose = w->purpose;
      again.channel = w->channel;
      again.at = ctx.now;
      again.source = fmt::format("merge: withdrawal of contact {} kept", duplicate);
      again.proof = fmt::format("repeats consent entry {}", w->id);
      append_consent_entry(db, keep, again, std::nullopt, ctx);
    }
  };
  repeat_withdrawals(moved, kept);
  repeat_withdrawals(kept, moved);
  detach_consent_entries(db, duplicate);
}

void erase_contacts(Database& db, std::span<const std::int64_t> ids, const WriteContext& ctx) {
  try {
    db.write([&] {
      for (auto id : ids) {
        SQLite::Statement q(db.sql(), "SELECT email_norm, phone FROM contact WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep())
          throw Error(Exit::not_found, fmt::format("no contact {}", id));
        auto email = text_or_null(q.getColumn(0));
        auto phone = text_or_null(q.getColumn(1));
        q.reset();
        const std::string secret = database_secret(db);
        SQLite::Statement tombstone(db.sql(), "INSERT INTO erasure (at, email_hmac, phone_hmac) "
                                              "VALUES (?, ?, ?)");
        tombstone.bind(1, format_time(ctx.now));
        auto bind_opt = [&](int i, const std::optional<std::string>& v) {
          if (v)
            tombstone.bind(i, *v);
          else
            tombstone.bind(i);
        };
        bind_opt(2, tomb(secret, email, "email"));
        bind_opt(3, tomb(secret, phone, "phone"));
        tombstone.exec();
        remove_personal_rows(db, id);
        SQLite::Statement del(db.sql(), "DELETE FROM contact WHERE id = ?");
        del.bind(1, id);
        del.exec();
      }
    });
    // FTS5 keeps a deleted row's terms in its index segments until they are
    // merged; 'optimize' merges them all, and secure_delete zeroes the
    // freed pages. Then the WAL, which still holds the old pages, is
    // checkpointed and truncated.
    db.write([&] { db.sql().exec("INSERT INTO contact_fts(contact_fts) VALUES ('optimize')"); });
    db.sql().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot erase contact");
  }
}

std::pair<Duration, std::string> retention_rule(const Config& config) {
  auto text = config.table()["retention"]["inactive_for"].value<std::string>();
  if (!text)
    throw Error(Exit::config, "purge: [retention].inactive_for is not set",
                "add e.g. inactive_for = \"36mo\" under [retention] in the config");
  auto d = parse_duration(*text);
  if (!d)
    throw Error(Exit::config, fmt::format("[retention].inactive_for: bad duration '{}'", *text));
  return {*d, *text};
}

std::vector<std::int64_t> retention_candidates(Database& db, std::span<const Purpose> purposes,
                                               const Duration& inactive_for, TimePoint now) {
  const std::string cutoff = format_time(shift(now, inactive_for, -1));
  std::string sql =
      "SELECT c.id FROM contact c WHERE c.created_at < ? "
      "AND NOT EXISTS (SELECT 1 FROM event e WHERE e.contact_id = c.id AND e.at >= ?) "
      "AND NOT EXISTS (SELECT 1 FROM consent k WHERE k.contact_id = c.id AND "
      "k.at >= ?)";
  std::vector<SqlValue> params = {cutoff, cutoff, cutoff};
  for (const auto& p : purposes) {
    auto allowed = consent_allowed_sql(p, std::nullopt, now);
    sql += " AND NOT " + allowed.sql;
    params.insert(params.end(), allowed.params.begin(), allowed.params.end());
  }
  sql += " ORDER BY c.id";
  std::vector<std::int64_t> ids;
  db.read([&] {
    SQLite::Statement q(db.sql(), sql);
    bind_all(q, params);
    while (q.executeStep())
      ids.push_back(q.getColumn(0).getInt64());
  });
  return ids;
}

Suppression::Suppression(Database& db) : m_db(db) {
  SQLite::Statement any(db.sql(), "SELECT EXISTS (SELECT 1 FROM erasure)");
  any.executeStep();
  m_any = any.getColumn(0).getInt() != 0;
  if (m_any)
    m_secret = database_secret(db);
}

bool Suppression::erased(const std::optional<std::string>& email_key,
                         const std::optional<std::string>& e164_phone) {
  if (!m_any)
    return false;
  auto email = tomb(m_secret, email_key, "email");
  auto phone = tomb(m_secret, e164_phone, "phone");
  if (!email && !phone)
    return false;
  SQLite::Statement q(m_db.sql(), "SELECT 1 FROM erasure WHERE email_hmac = ? OR phone_hmac = ?");
  if (email)
    q.bind(1, *email);
  if (phone)
    q.bind(2, *phone);
  return q.executeStep();
}

} // namespace crm
