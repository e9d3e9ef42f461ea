#include <crm/consent.hpp>

#include <crm/error.hpp>
#include <crm/json.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <toml++/toml.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <array>

namespace crm {

namespace {

constexpr std::string_view k_columns = "id, contact_id, purpose, channel, action, at, source, "
                                       "proof, recorded_at, digest, chain, erased_at";

std::optional<std::string> text_or_null(const SQLite::Column& column) {
  if (column.isNull())
    return std::nullopt;
  return column.getString();
}

ConsentEntry read_entry(SQLite::Statement& q) {
  ConsentEntry e;
  e.id = q.getColumn(0).getInt64();
  if (!q.getColumn(1).isNull())
    e.contact_id = q.getColumn(1).getInt64();
  e.purpose = text_or_null(q.getColumn(2));
  e.channel = text_or_null(q.getColumn(3));
  e.action = q.getColumn(4).getString();
  e.at = q.getColumn(5).getString();
  e.source = text_or_null(q.getColumn(6));
  e.proof = text_or_null(q.getColumn(7));
  e.recorded_at = q.getColumn(8).getString();
  e.digest = q.getColumn(9).getString();
  e.chain = q.getColumn(10).getString();
  e.erased_at = text_or_null(q.getColumn(11));
  return e;
}

// The content an entry's digest covers, one field per unit separator; a
// null field is a record separator alone, so "" and null differ.
std::string digest_content(const std::optional<std::int64_t>& contact_id,
                           const std::optional<std::string>& purpose,
                           const std::optional<std::string>& channel, std::string_view action,
                           std::string_view at, const std::optional<std::string>& source,
                           const std::optional<std::string>& proof) {
  std::string out;
  out.reserve(96 + (proof ? proof->size() : 0) + (source ? source->size() : 0));
  auto field = [&](const std::string* v) {
    if (v)
      out += *v;
    else
      out += '\x1e';
    out += '\x1f';
  };
  auto text = [&](std::string_view v) {
    out += v;
    out += '\x1f';
  };
  if (contact_id)
    text(fmt::format_int(*contact_id).str());
  else
    field(nullptr);
  field(purpose ? &*purpose : nullptr);
  field(channel ? &*channel : nullptr);
  text(action);
  text(at);
  field(source ? &*source : nullptr);
  field(proof ? &*proof : nullptr);
  return out;
}

std::string chain_of(std::string_view previous_chain, std::string_view digest) {
  std::string text;
  text.reserve(previous_chain.size() + digest.size());
  text += previous_chain;
  text += digest;
  return sha256_hex(text);
}

bool known_action(std::string_view action) {
  return action == "grant" || action == "withdraw" || action == "object" || action == "request" ||
         action == "confirm";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}

// Whether an entry for purpose/channel `e` applies to `purpose`/`channel`.
bool applies(const ConsentEntry& e, std::string_view purpose,
             const std::optional<std::string>& channel) {
  if (e.purpose && *e.purpose != purpose)
    return false;
  if (!e.purpose && e.action != "object")
    return false;
  return !e.channel || (channel && *e.channel == *channel);
}

} // namespace

std::string sha256_hex(std::string_view text) {
  // One context per thread, and the algorithm fetched once: EVP_Digest
  // would make and free both for every call (bulk imports hash twice a row).
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    ~Context() {
      EVP_MD_free(md);
      EVP_MD_CTX_free(ctx);
    }
  };
  thread_local Context c;
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int size = 0;
  if (c.ctx == nullptr || c.md == nullptr || EVP_DigestInit_ex(c.ctx, c.md, nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx, hash.data(), &size) != 1)
    throw Error(Exit::internal, "SHA-256 failed");
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex(size * 2, '0');
  for (unsigned int i = 0; i < size; ++i) {
    hex[2 * i] = k_hex[hash[i] >> 4];
    hex[2 * i + 1] = k_hex[hash[i] & 0xf];
  }
  return hex;
}

std::vector<Purpose> consent_purposes(const Config& config) {
  std::vector<Purpose> out;
  const toml::table* all = config.table()["consent"]["purposes"].as_table();
  if (all == nullptr)
    return out;
  for (const auto& [name, node] : *all) {
    const toml::table* t = node.as_table();
    if (t == nullptr)
      continue;
    Purpose p;
    p.name = std::string(name.str());
    if (const toml::array* channels = (*t)["channels"].as_array())
      for (const auto& c : *channels)
        if (auto s = c.value<std::string>())
          p.channels.push_back(*s);
    p.double_opt_in = (*t)["double_opt_in"].value_or(false);
    if (auto text = (*t)["confirm_within"].value<std::string>())
      if (auto d = parse_duration(*text))
        p.confirm_within = *d;
    if (auto text = (*t)["valid_for"].value<std::string>())
      p.valid_for = parse_duration(*text);
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const Purpose& a, const Purpose& b) { return a.name < b.name; });
  return out;
}

const Purpose& find_purpose(std::span<const Purpose> purposes, std::string_view name) {
  for (const auto& p : purposes)
    if (p.name == name)
      return p;
  std::vector<std::string> names;
  for (const auto& p : purposes)
    names.push_back(p.name);
  throw Error(Exit::not_found, fmt::format("unknown purpose '{}'", name),
              fmt::format("the config's [consent.purposes] are: {}", joined(names)));
}

void validate_consent_change(std::span<const Purpose> purposes, const ConsentChange& change) {
  if (!known_action(change.action))
    throw Error(Exit::internal, fmt::format("unknown consent action '{}'", change.action));
  if (!change.purpose) {
    if (change.action != "object")
      throw Error(Exit::usage, fmt::format("{} needs --purpose", change.action));
    if (change.channel)
      throw Error(Exit::usage, "object: --channel needs --purpose");
    return;
  }
  const Purpose& p = find_purpose(purposes, *change.purpose);
  if (change.channel) {
    if (p.channels.empty())
      throw Error(
          Exit::not_found,
          fmt::format("purpose '{}' has no channels, so no channel '{}'", p.name, *change.channel),
          "omit --channel for this purpose");
    if (std::find(p.channels.begin(), p.channels.end(), *change.channel) == p.channels.end())
      throw Error(Exit::not_found,
                  fmt::format("unknown channel '{}' for purpose '{}'", *change.channel, p.name),
                  fmt::format("its channels are: {}", joined(p.channels)));
  } else if (change.action == "request" && !p.channels.empty()) {
    throw Error(Exit::usage, "request needs --channel",
                fmt::format("the channels of '{}' are: {}", p.name, joined(p.channels)));
  }
  if (change.action == "grant" && p.double_opt_in && (!change.proof || change.proof->empty()))
    throw Error(Exit::data,
                fmt::format("purpose '{}' needs double opt-in: a grant needs --proof", p.name),
                "use 'crm consent request' to start a double opt-in, or give the proof you hold");
}

namespace {

constexpr std::string_view k_insert_columns =
    "INSERT INTO consent (contact_id, purpose, channel, action, at, source, proof, token, "
    "recorded_at, digest, chain) VALUES ";
constexpr std::string_view k_insert_row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

std::string insert_sql(std::size_t rows) {
  std::string sql(k_insert_columns);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i > 0)
      sql += ", ";
    sql += k_insert_row;
  }
  return sql;
}

// Binds a value that outlives the statement's execution, without a copy.
void bind_text(SQLite::Statement& s, int i, const std::optional<std::string>& v) {
  if (v)
    s.bindNoCopy(i, *v);
  else
    s.bind(i);
}

} // namespace

ConsentWriter::ConsentWriter(Database& db, const WriteContext& ctx)
    : m_db(db), m_ctx(ctx), m_recorded_at(format_time(ctx.now)),
      m_same(db.sql(), "SELECT 1 FROM consent WHERE contact_id = ? AND purpose IS ? AND "
                       "channel IS ? AND action = ? AND at = ? AND proof IS ?"),
      m_insert(db.sql(), insert_sql(1)) {
  SQLite::Statement last(db.sql(), "SELECT id, chain FROM consent ORDER BY id DESC LIMIT 1");
  if (last.executeStep()) {
    m_last_id = last.getColumn(0).getInt64();
    m_chain = last.getColumn(1).getString();
  }
  m_pending.reserve(k_rows_per_insert);
}

ConsentWriter::~ConsentWriter() = default;

bool ConsentWriter::known(std::int64_t contact_id, const Entry& e) {
  // Entries are deduplicated on (contact, purpose, channel, action, time,
  // proof), so a repeated command or import adds nothing.
  for (const auto& p : m_pending)
    if (p.contact_id == contact_id && p.at == e.at && p.action == e.action &&
        p.purpose == e.purpose && p.channel == e.channel && p.proof == e.proof)
      return true;
  m_same.reset();
  m_same.bind(1, contact_id);
  bind_text(m_same, 2, e.purpose);
  bind_text(m_same, 3, e.channel);
  m_same.bindNoCopy(4, e.action);
  m_same.bindNoCopy(5, e.at);
  bind_text(m_same, 6, e.proof);
  return m_same.executeStep();
}

ConsentWriter::Entry ConsentWriter::entry_of(std::int64_t contact_id,
                                             const ConsentChange& change) const {
  Entry e;
  e.contact_id = contact_id;
  e.purpose = change.purpose;
  e.channel = change.channel;
  e.action = change.action;
  e.at = change.at ? format_time(*change.at) : m_recorded_at;
  e.source = change.source ? *change.source : m_ctx.source;
  e.proof = change.proof;
  return e;
}

void ConsentWriter::chain(Entry& e) {
  e.digest = sha256_hex(
      digest_content(e.contact_id, e.purpose, e.channel, e.action, e.at, e.source, e.proof));
  m_chain = chain_of(m_chain, e.digest);
  e.chain = m_chain;
}

void ConsentWriter::bind_entry(SQLite::Statement& s, int first, const Entry& e) {
  s.bind(first, e.contact_id);
  bind_text(s, first + 1, e.purpose);
  bind_text(s, first + 2, e.channel);
  s.bindNoCopy(first + 3, e.action);
  s.bindNoCopy(first + 4, e.at);
  s.bindNoCopy(first + 5, e.source);
  bind_text(s, first + 6, e.proof);
  bind_text(s, first + 7, e.token);
  s.bindNoCopy(first + 8, m_recorded_at);
  s.bindNoCopy(first + 9, e.digest);
  s.bindNoCopy(first + 10, e.chain);
}

std::optional<std::int64_t> ConsentWriter::append(std::int64_t contact_id,
                                                  const ConsentChange& change,
                                                  const std::optional<std::string>& token_hash) {
  flush();
  Entry e = entry_of(contact_id, change);
  if (known(contact_id, e))
    return std::nullopt;
  e.token = token_hash;
  chain(e);
  m_insert.reset();
  bind_entry(m_insert, 1, e);
  m_insert.exec();
  m_last_id = m_db.sql().getLastInsertRowid();
  m_dirty = true;
  return m_last_id;
}

bool ConsentWriter::add(std::int64_t contact_id, const ConsentChange& change) {
  Entry e = entry_of(contact_id, change);
  if (known(contact_id, e))
    return false;
  chain(e);
  m_pending.push_back(std::move(e));
  m_dirty = true;
  if (m_pending.size() == k_rows_per_insert)
    flush();
  return true;
}

void ConsentWriter::flush() {
  if (m_pending.empty())
    return;
  // Many rows per INSERT: SQLite then reads and writes the AUTOINCREMENT
  // sequence and sets up the statement once for all of them.
  SQLite::Statement* s = &m_insert;
  if (m_pending.size() == k_rows_per_insert) {
    if (!m_insert_many)
      m_insert_many =
          std::make_unique<SQLite::Statement>(m_db.sql(), insert_sql(k_rows_per_insert));
    s = m_insert_many.get();
  }
  std::size_t done = 0;
  while (done < m_pending.size()) {
    s->reset();
    const std::size_t rows = s == &m_insert ? 1 : k_rows_per_insert;
    for (std::size_t i = 0; i < rows; ++i)
      bind_entry(*s, static_cast<int>(i * 11 + 1), m_pending[done + i]);
    s->exec();
    done += rows;
  }
  m_last_id = m_db.sql().getLastInsertRowid();
  m_pending.clear();
}

void ConsentWriter::finish() {
  flush();
  if (!m_dirty)
    return;
  SQLite::Statement head(m_db.sql(), "INSERT INTO meta (key, value) VALUES ('consent_head', ?) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  head.bind(1, fmt::format("{} {}", m_last_id, m_chain));
  head.exec();
  m_dirty = false;
}

std::optional<std::int64_t> append_consent_entry(Database& db, std::int64_t contact_id,
                                                 const ConsentChange& change,
                                                 const std::optional<std::string>& token_hash,
                                                 const WriteContext& ctx) {
  ConsentWriter writer(db, ctx);
  auto id = writer.append(contact_id, change, token_hash);
  writer.finish();
  return id;
}

std::size_t append_consent(Database& db, std::span<const Purpose> purposes,
                           std::span<const std::int64_t> ids, const ConsentChange& change,
                           const WriteContext& ctx) {
  validate_consent_change(purposes, change);
  std::size_t added = 0;
  try {
    db.write([&] {
      ConsentWriter writer(db, ctx);
      for (auto id : ids)
        if (writer.append(id, change, std::nullopt))
          ++added;
      writer.finish();
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot record consent");
  }
  return added;
}

std::string request_consent(Database& db, std::span<const Purpose> purposes, std::int64_t id,
                            const ConsentChange& change, const WriteContext& ctx) {
  validate_consent_change(purposes, change);
  std::array<unsigned char, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    throw Error(Exit::internal, "no random bytes for a token");
  std::string token;
  for (auto b : random)
    token += fmt::format("{:02x}", b);
  try {
    db.write([&] {
      ConsentChange request = change;
      if (!request.proof)
        request.proof = "double opt-in request, token sent";
      if (!append_consent_entry(db, id, request, sha256_hex(token), ctx))
        throw Error(Exit::data, "this request is already in the ledger");
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot record the request");
  }
  return token;
}

Confirmation confirm_consent(Database& db, std::span<const Purpose> purposes,
                             std::string_view token, const WriteContext& ctx) {
  Confirmation result;
  try {
    db.write([&] {
      SQLite::Statement q(db.sql(), fmt::format("SELECT {} FROM consent WHERE token = ? AND "
                                                "action = 'request' AND contact_id IS NOT NULL",
                                                k_columns));
      q.bind(1, sha256_hex(token));
      if (!q.executeStep())
        throw Error(Exit::not_found, "no double opt-in request has this token",
                    "the token may be mistyped, or its person erased");
      ConsentEntry request = read_entry(q);
      result.contact_id = *request.contact_id;
      result.request_id = request.id;
      const std::string proof = fmt::format("double opt-in: confirms request {}", request.id);
      SQLite::Statement done(db.sql(), "SELECT 1 FROM consent WHERE contact_id = ? AND "
                                       "action = 'confirm' AND proof = ?");
      done.bind(1, result.contact_id);
      done.bind(2, proof);
      if (done.executeStep()) {
        result.already = true;
        return;
      }
      const Purpose& p = find_purpose(purposes, request.purpose.value_or(""));
      auto requested = parse_time_or_throw(request.at, "request time");
      auto deadline = shift(requested, p.confirm_within, +1);
      if (ctx.now > deadline)
        throw Error(Exit::data,
                    fmt::format("request {} is void: it was not confirmed by {}", request.id,
                                format_time(deadline)),
                    "start a new one with 'crm consent request'");
      ConsentChange confirm;
      confirm.action = "confirm";
      confirm.purpose = request.purpose;
      confirm.channel = request.channel;
      confirm.source = "confirm";
      confirm.proof = proof;
      append_consent_entry(db, result.contact_id, confirm, std::nullopt, ctx);
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot confirm");
  }
  return result;
}

std::vector<ConsentEntry> consent_entries(Database& db, std::int64_t contact_id) {
  std::vector<ConsentEntry> out;
  SQLite::Statement q(
      db.sql(), fmt::format("SELECT {} FROM consent WHERE contact_id = ? ORDER BY id", k_columns));
  q.bind(1, contact_id);
  while (q.executeStep())
    out.push_back(read_entry(q));
  return out;
}

void each_consent_entry(Database& db, const std::function<void(const ConsentEntry&)>& row) {
  db.read([&] {
    SQLite::Statement q(db.sql(), fmt::format("SELECT {} FROM consent ORDER BY id", k_columns));
    while (q.executeStep())
      row(read_entry(q));
  });
}

std::vector<ConsentState> consent_states(std::span<const Purpose> purposes,
                                         std::span<const ConsentEntry> entries, TimePoint now) {
  // Entries in time order, ties by ledger order; later ones decide.
  std::vector<const ConsentEntry*> ordered;
  const std::string now_text = format_time(now);
  for (const auto& e : entries)
    if (e.at <= now_text)
      ordered.push_back(&e);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const ConsentEntry* a, const ConsentEntry* b) { return a->at < b->at; });
  std::vector<ConsentState> out;
  for (const auto& p : purposes) {
    std::vector<std::optional<std::string>> channels;
    for (const auto& c : p.channels)
      channels.emplace_back(c);
    if (channels.empty())
      channels.emplace_back(std::nullopt);
    for (const auto& channel : channels) {
      ConsentState s;
      s.purpose = p.name;
      s.channel = channel;
      s.state = "none";
      const ConsentEntry* decided = nullptr;
      const ConsentEntry* request = nullptr;
      for (const auto* e : ordered) {
        if (!applies(*e, p.name, channel))
          continue;
        if (e->action == "request")
          request = e;
        else
          decided = e;
      }
      if (decided) {
        s.since = decided->at;
        s.source = decided->source;
        if (decided->action == "grant" || decided->action == "confirm") {
          s.state = "granted";
          if (p.valid_for) {
            auto until = shift(parse_time_or_throw(decided->at, "consent time"), *p.valid_for, +1);
            s.until = format_time(until);
            if (until <= now)
              s.state = "expired";
          }
        } else {
          s.state = decided->action == "withdraw" ? "withdrawn" : "objected";
        }
      }
      // A request after the last decision and not yet confirmed: pending
      // while it may still be confirmed, void after.
      if (request && s.state != "granted" && (!decided || decided->at <= request->at)) {
        auto deadline =
            shift(parse_time_or_throw(request->at, "request time"), p.confirm_within, +1);
        s.state = deadline < now ? "void" : "pending";
        s.since = request->at;
        s.until = format_time(deadline);
        s.source = request->source;
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

SqlFilter consent_allowed_sql(const Purpose& purpose, const std::optional<std::string>& channel,
                              TimePoint now) {
  std::vector<std::optional<std::string>> channels;
  if (channel)
    channels.push_back(channel);
  else
    for (const auto& c : purpose.channels)
      channels.emplace_back(c);
  if (channels.empty())
    channels.emplace_back(std::nullopt);
  SqlFilter out;
  const std::string now_text = format_time(now);
  std::optional<std::string> cutoff;
  if (purpose.valid_for)
    cutoff = format_time(shift(now, *purpose.valid_for, -1));
  out.sql = "(";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i > 0)
      out.sql += " OR ";
    // The latest deciding entry at `now` is a grant or confirmation, and
    // it has not expired.
    out.sql += "EXISTS (SELECT 1 FROM (SELECT k.action, k.at FROM consent k "
               "WHERE k.contact_id = c.id AND (k.purpose = ? OR (k.purpose IS NULL AND "
               "k.action = 'object')) AND ";
    out.params.emplace_back(purpose.name);
    if (channels[i]) {
      out.sql += "(k.channel = ? OR k.channel IS NULL)";
      out.params.emplace_back(*channels[i]);
    } else {
      out.sql += "k.channel IS NULL";
    }
    out.sql += " AND k.action IN ('grant', 'confirm', 'withdraw', 'object') AND k.at <= ? "
               "ORDER BY k.at DESC, k.id DESC LIMIT 1) d WHERE d.action IN ('grant', 'confirm')";
    out.params.emplace_back(now_text);
    if (cutoff) {
      out.sql += " AND d.at > ?";
      out.params.emplace_back(*cutoff);
    }
    out.sql += ")";
  }
  out.sql += ")";
  return out;
}

bool consent_allowed(Database& db, const Purpose& purpose,
                     const std::optional<std::string>& channel, std::int64_t id, TimePoint now) {
  auto filter = consent_allowed_sql(purpose, channel, now);
  SQLite::Statement q(db.sql(), "SELECT 1 FROM contact c WHERE c.id = ? AND " + filter.sql);
  q.bind(1, id);
  bind_all(q, filter.params, 2);
  return q.executeStep();
}

std::vector<std::string> verify_consent_ledger(Database& db, std::int64_t& entries) {
  std::vector<std::string> problems;
  entries = 0;
  db.read([&] {
    SQLite::Statement q(db.sql(), fmt::format("SELECT {} FROM consent ORDER BY id", k_columns));
    std::string previous;
    std::int64_t last_id = 0;
    while (q.executeStep()) {
      ConsentEntry e = read_entry(q);
      ++entries;
      last_id = e.id;
      if (!e.erased_at) {
        auto digest = sha256_hex(
            digest_content(e.contact_id, e.purpose, e.channel, e.action, e.at, e.source, e.proof));
        if (digest != e.digest) {
          problems.push_back(
              fmt::format("entry {}: its content does not match its digest (changed)", e.id));
          break;
        }
      }
      if (chain_of(previous, e.digest) != e.chain) {
        problems.push_back(fmt::format(
            "entry {}: the chain is broken (an entry up to here was changed, removed or "
            "reordered)",
            e.id));
        break;
      }
      previous = e.chain;
    }
    if (problems.empty()) {
      SQLite::Statement head(db.sql(), "SELECT value FROM meta WHERE key = 'consent_head'");
      std::string expected = head.executeStep() ? head.getColumn(0).getString() : "";
      std::string actual = entries > 0 ? fmt::format("{} {}", last_id, previous) : "";
      if (expected != actual)
        problems.push_back(fmt::format(
            "the ledger ends at entry {}, but its recorded head is entry {} (entries removed "
            "from the end)",
            last_id,
            expected.empty() ? std::string("none") : expected.substr(0, expected.find(' '))));
    }
  });
  return problems;
}

} // namespace crm
