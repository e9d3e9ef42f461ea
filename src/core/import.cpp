#include <crm/consent.hpp>
#include <crm/erase.hpp>
#include <crm/error.hpp>
#include <crm/import.hpp>

#include <crm/json.hpp>
#include <crm/normalize.hpp>
#include <sqlite3.h>

#include "contact_store.hpp"
#include "prefetch.hpp"

#include <SQLiteCpp/Transaction.h>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <exception>
#include <unordered_set>

namespace crm {

namespace {

// Where the values of one input column go.
struct Target {
  enum class Kind { field, attr, tags, created_at, ignore } kind = Kind::ignore;
  std::string name; // the field or attribute name
};

// Names people give the fields in their own files (simplified).
constexpr std::pair<std::string_view, std::string_view> k_aliases[] = {
    {"mail", "email"},
    {"emailaddress", "email"},
    {"emailadresse", "email"},
    {"telephone", "phone"},
    {"tel", "phone"},
    {"mobile", "phone"},
    {"phonenumber", "phone"},
    {"telefon", "phone"},
    {"handy", "phone"},
    {"firstname", "first_name"},
    {"givenname", "first_name"},
    {"vorname", "first_name"},
    {"lastname", "last_name"},
    {"surname", "last_name"},
    {"familyname", "last_name"},
    {"nachname", "last_name"},
    {"organization", "company"},
    {"organisation", "company"},
    {"firma", "company"},
    {"unternehmen", "company"},
    {"address", "street"},
    {"strasse", "street"},
    {"straße", "street"},
    {"zip", "postcode"},
    {"zipcode", "postcode"},
    {"postalcode", "postcode"},
    {"plz", "postcode"},
    {"town", "city"},
    {"ort", "city"},
    {"stadt", "city"},
    {"countrycode", "country"},
    {"land", "country"},
    {"birthday", "birthdate"},
    {"dateofbirth", "birthdate"},
    {"dob", "birthdate"},
    {"geburtstag", "birthdate"},
    {"geburtsdatum", "birthdate"},
    {"externalid", "external_id"},
    {"note", "attr.note"},
};

// An attribute name made from a column name: invalid characters become '_'.
std::string attribute_name(std::string_view column) {
  std::string out;
  for (char c : column) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "_" : out;
}

Target target_of(std::string_view target) {
  if (target == "-")
    return {Target::Kind::ignore, ""};
  if (target == "tags")
    return {Target::Kind::tags, ""};
  if (target == "created_at")
    return {Target::Kind::created_at, ""};
  if (target.starts_with("attr.") && valid_attr_key(target.substr(5)))
    return {Target::Kind::attr, std::string(target.substr(5))};
  const FieldInfo* info = field_info(target);
  if (info != nullptr && info->member != nullptr)
    return {Target::Kind::field, std::string(target)};
  throw Error(Exit::usage, fmt::format("--map: unknown field '{}'", std::string(target)),
              "map to a contact field, tags, attr.NAME, or - to ignore the column");
}

Target resolve_column(const std::string& column, const ImportOptions& options) {
  for (const auto& [from, to] : options.map)
    if (from == column)
      return target_of(to);
  if (column.starts_with("attr.") && valid_attr_key(column.substr(5)))
    return {Target::Kind::attr, column.substr(5)};
  std::string simple = simplified_column(column);
  if (simple == "id" || simple == "updatedat")
    return {Target::Kind::ignore, ""};
  if (simple == "tags" || simple == "categories")
    return {Target::Kind::tags, ""};
  if (simple == "createdat")
    return {Target::Kind::created_at, ""};
  for (const auto& f : field_table())
    if (f.member != nullptr && simplified_column(f.name) == simple)
      return {Target::Kind::field, std::string(f.name)};
  for (const auto& [alias, field] : k_aliases)
    if (alias == simple)
      return target_of(field);
  if (options.strict == Strict::yes)
    throw Error(Exit::data, fmt::format("unmapped column '{}'", column),
                "map it with --map \"COLUMN=field\" (or =- to ignore it), or drop --strict");
  return {Target::Kind::attr, attribute_name(column)};
}

std::string key_name(ImportKey key) {
  switch (key) {
  case ImportKey::email:
    return "email";
  case ImportKey::external_id:
    return "external_id";
  case ImportKey::phone:
    return "phone";
  case ImportKey::none:
    break;
  }
  return "none";
}

// The contact as it was, for undo: its set fields, attributes and tags.
std::string snapshot(const Contact& c) {
  std::string out = "{";
  for (const auto& f : field_table()) {
    if (f.member == nullptr || !(c.*(f.member)))
      continue;
    if (out.size() > 1)
      out += ',';
    append_json_string(out, f.name);
    out += ':';
    append_json_string(out, *(c.*(f.member)));
  }
  out += out.size() > 1 ? ",\"attrs\":{" : "\"attrs\":{";
  for (std::size_t i = 0; i < c.attrs.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, c.attrs[i].first);
    out += ':';
    append_json_string(out, c.attrs[i].second);
  }
  out += "},\"tags\":[";
  for (std::size_t i = 0; i < c.tags.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, c.tags[i]);
  }
  out += "]}";
  return out;
}

std::string too_many_rejects(std::size_t max) {
  return fmt::format("too many rejected rows: more than {} (--max-rejects); nothing was imported",
                     max);
}

// A row read and normalised, ready to be written; or the reason it is not.
struct PreparedRow {
  InputRecord record;
  std::string reject;
  Contact incoming;
  std::optional<std::string> email_key; // email_match_key of its email
  std::vector<ConsentEvidence> consent; // from a built-in profile (Mailchimp)
};

// Reads records and normalises them (libphonenumber's parsing is the
// costliest part of an import) on a second thread, while the importer's
// thread writes to SQLite. Rows come out in input order, in chunks.
class RowSource {
public:
  RowSource(RecordReader& reader, const ImportOptions& options, std::string default_country)
      : m_reader(reader), m_options(options), m_default_country(std::move(default_country)) {}

  // The next row, or nullptr at the end. Rethrows what stopped the reader.
  PreparedRow* next() { return m_rows.next(); }

private:
  bool fill(PreparedRow& row) {
    if (!m_reader.next(row.record))
      return false;
    prepare(row);
    return true;
  }

  void prepare(PreparedRow& row) {
    row.reject.clear();
    row.incoming = Contact{};
    row.email_key.reset();
    const InputRecord& record = row.record;
    if (!record.error.empty()) {
      row.reject = record.error;
      return;
    }
    update_targets();
    ContactChanges& changes = m_changes;
    changes.fields.clear();
    changes.attrs.clear();
    changes.add_tags.clear();
    row.consent.clear();
    if (m_mapper) {
      // The profile's columns first; the generic mapping below appends the rest.
      try {
        m_mapper->map(record.values, m_profile_row);
      } catch (const Error& e) {
        if (e.code() != Exit::data)
          throw;
        row.reject = e.what();
        return;
      }
      std::swap(changes, m_profile_row.changes);
      std::swap(row.consent, m_profile_row.consent);
    }
    std::optional<std::string> created_at;
    for (std::size_t i = 0; i < record.values.size() && i < m_targets.size(); ++i) {
      const auto& value = record.values[i];
      if (!value || value->empty())
        continue;
      const Target& t = m_targets[i];
      switch (t.kind) {
      case Target::Kind::field:
        changes.fields.emplace_back(t.name, *value);
        break;
      case Target::Kind::attr:
        changes.attrs.emplace_back(t.name, *value);
        break;
      case Target::Kind::tags: {
        std::size_t start = 0;
        while (start <= value->size()) {
          auto end = value->find(';', start);
          auto tag = value->substr(start, end == std::string::npos ? end : end - start);
          if (tag.find_first_not_of(' ') != std::string::npos)
            changes.add_tags.push_back(tag);
          if (end == std::string::npos)
            break;
          start = end + 1;
        }
        break;
      }
      case Target::Kind::created_at:
        created_at = *value;
        break;
      case Target::Kind::ignore:
        break;
      }
    }
    if (m_options.default_source &&
        std::none_of(changes.fields.begin(), changes.fields.end(),
                     [](const auto& field) { return field.first == "source"; }))
      changes.fields.emplace_back("source", *m_options.default_source);
    Contact& incoming = row.incoming;
    try {
      bool stage_set = false;
      apply_changes(incoming, changes, m_default_country, stage_set);
      if (created_at) {
        auto t = parse_time(*created_at);
        if (!t)
          throw Error(Exit::data, fmt::format("invalid created_at '{}': expected RFC 3339 or "
                                              "YYYY-MM-DD",
                                              *created_at));
        incoming.created_at = format_time(*t);
      }
    } catch (const Error& e) {
      if (e.code() != Exit::data)
        throw;
      row.reject = e.what();
      return;
    }
    if (incoming.email)
      row.email_key = email_match_key(*incoming.email);
    switch (m_options.key) {
    case ImportKey::email:
      if (!incoming.email)
        row.reject = "no email (the import key)";
      break;
    case ImportKey::external_id:
      if (!incoming.external_id)
        row.reject = "no external_id (the import key)";
      break;
    case ImportKey::phone:
      if (!incoming.phone)
        row.reject = "no phone (the import key)";
      break;
    case ImportKey::none:
      break;
    }
  }

  void update_targets() {
    const auto& columns = m_reader.columns();
    if (m_options.builtin && !m_mapper)
      m_mapper.emplace(*m_options.builtin, columns, [&](std::size_t i) {
        return std::any_of(m_options.map.begin(), m_options.map.end(),
                           [&](const auto& m) { return m.first == columns[i]; });
      });
    while (m_targets.size() < columns.size()) {
      std::size_t i = m_targets.size();
      if (m_mapper && m_mapper->handles(i))
        m_targets.push_back({Target::Kind::ignore, ""});
      else
        m_targets.push_back(resolve_column(columns[i], m_options));
    }
  }

  RecordReader& m_reader;
  const ImportOptions& m_options;
  std::string m_default_country;
  std::vector<Target> m_targets;
  ContactChanges m_changes;
  std::optional<ProfileMapper> m_mapper;
  ProfileRow m_profile_row;
  // Declared last: its thread uses the members above.
  Prefetcher<PreparedRow> m_rows{[this](PreparedRow& row) { return fill(row); },
                                 Prefetcher<PreparedRow>::Threading::yes};
};

class Importer {
public:
  Importer(Database& db, RecordReader& reader, const ImportOptions& options,
           const WriteContext& ctx, RejectSink& rejects)
      : m_db(db), m_reader(reader), m_options(options), m_ctx(ctx), m_now(format_time(ctx.now)),
        m_rejects(rejects), m_source(reader, options, ctx.default_country), m_writer(db),
        m_change(db.sql(), "INSERT OR IGNORE INTO import_change (batch_id, contact_id, action, "
                           "before) VALUES (?, ?, ?, ?)") {}

  // Writes up to `limit` rows (0: all); false when the input is done.
  bool run(std::size_t limit, const std::function<void(std::size_t)>& progress) {
    std::size_t n = 0;
    while (limit == 0 || n < limit) {
      PreparedRow* row = m_source.next();
      if (row == nullptr)
        return false;
      m_row = row;
      ++n;
      ++m_rows;
      write_row(*row);
      if (progress && (m_rows & 0x3FF) == 0)
        progress(m_rows);
    }
    return true;
  }

  // Starts a batch. The full-text index merges its segments only when 64
  // of a level have piled up, not as it goes (FTS5's 'automerge' and
  // 'crisismerge'): a third less work for the index in a bulk load, and
  // searching as fast afterwards. finish() puts back FTS5's defaults, with
  // which later writes merge what the import left, a little at a time.
  void start() {
    m_db.sql().exec("INSERT INTO contact_fts (contact_fts, rank) VALUES ('automerge', 0)");
    m_db.sql().exec("INSERT INTO contact_fts (contact_fts, rank) VALUES ('crisismerge', 64)");
  }

  // Writes what this batch still holds back, before its transaction ends.
  void finish() {
    write_created();
    if (m_consent) {
      m_consent->finish();
      m_consent.reset();
    }
    m_db.sql().exec("INSERT INTO contact_fts (contact_fts, rank) VALUES ('automerge', 4)");
    m_db.sql().exec("INSERT INTO contact_fts (contact_fts, rank) VALUES ('crisismerge', 16)");
  }

  // Hands the contacts of the batch just committed to `on_changed`.
  void report(const std::function<void(std::int64_t)>& on_changed) {
    if (on_changed) {
      std::unordered_set<std::int64_t> seen;
      for (auto id : m_committed)
        if (seen.insert(id).second)
          on_changed(id);
    }
    m_committed.clear();
  }

  void set_batch(std::int64_t id) {
    m_summary.batch_id = id;
    m_ctx.source = fmt::format("import batch {}", id);
  }
  const ImportSummary& summary() const { return m_summary; }

private:
  // New contacts whose history is written at once (write_created()).
  static constexpr std::size_t k_created_chunk = 16384;

  void reject(std::string_view reason) {
    ++m_summary.rejected;
    m_rejects.reject(m_reader, m_row->record, reason);
    if (m_options.max_rejects && m_summary.rejected > *m_options.max_rejects)
      throw Error(Exit::data, too_many_rejects(*m_options.max_rejects),
                  "the rejected rows are listed above or in the --rejects file");
  }

  void write_row(PreparedRow& row) {
    if (!row.reject.empty())
      return reject(row.reject);
    Contact& incoming = row.incoming;
    const std::size_t rejected_before = m_summary.rejected;
    if (!m_ctx.allow_erased && m_suppression.erased(row.email_key, incoming.phone))
      return reject(Suppression::reason);
    std::optional<std::int64_t> existing;
    switch (m_options.key) {
    case ImportKey::email:
      existing = m_writer.owner_of_email(*row.email_key, 0);
      break;
    case ImportKey::external_id:
      existing = m_writer.owner_of_external_id(*incoming.external_id, 0);
      break;
    case ImportKey::phone:
      existing = m_writer.owner_of_phone(*incoming.phone, 0);
      break;
    case ImportKey::none:
      break;
    }
    if (existing)
      update(*existing, incoming);
    else
      insert(incoming);
    if (!row.consent.empty() && m_summary.rejected == rejected_before) {
      const std::int64_t id = existing ? *existing : incoming.id;
      if (id != 0)
        record_consent(id, row.consent);
    }
  }

  // The consent evidence of a row as ledger entries for the import's
  // purpose and channel, with the column and IP as proof; entries already
  // in the ledger are not added again.
  void record_consent(std::int64_t id, const std::vector<ConsentEvidence>& evidence) {
    if (!m_options.consent_purpose) {
      ++m_summary.consent_skipped;
      return;
    }
    if (!m_consent)
      m_consent = std::make_unique<ConsentWriter>(m_db, m_ctx);
    for (const auto& e : evidence) {
      ConsentChange change;
      change.action = std::string(consent_action_name(e.action));
      change.purpose = m_options.consent_purpose;
      change.channel = m_options.consent_channel;
      change.at = parse_time(e.time);
      change.proof = e.ip.empty() ? e.column : fmt::format("{} {}", e.column, e.ip);
      if (m_consent->append(id, change, std::nullopt))
        ++m_summary.consent_added;
    }
  }

  // Refuses a row whose email or external id belongs to another contact.
  bool conflicts(const Contact& c, ContactWriter::Unique what) {
    try {
      m_writer.check_unique(c, what);
      return false;
    } catch (const Error& e) {
      if (e.code() != Exit::data)
        throw;
      reject(e.what());
      return true;
    }
  }

  void insert(Contact& c) {
    // The key was looked up and is free, so only the other identity needs a
    // look; with --key none emails may repeat, external ids never. An
    // external id's look is its UNIQUE constraint: a taken id fails the
    // INSERT before it writes anything, and only then is the owner looked
    // up, for the reason.
    using Unique = ContactWriter::Unique;
    std::optional<Unique> what;
    if (m_options.key == ImportKey::external_id)
      what = Unique::email;
    else if (m_options.key == ImportKey::phone)
      what = Unique::both;
    if (what && conflicts(c, *what))
      return;
    if (c.created_at.empty())
      c.created_at = m_now;
    c.updated_at = m_now;
    try {
      m_writer.insert(c, c.stage.has_value(), m_row->email_key ? &*m_row->email_key : nullptr);
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() != SQLITE_CONSTRAINT_UNIQUE ||
          !conflicts(c, Unique::external_id))
        throw;
      return;
    }
    index(m_index, c);
    created(c.id);
    ++m_summary.inserted;
  }

  void update(std::int64_t id, const Contact& incoming) {
    if (m_options.on_conflict == OnConflict::fail)
      throw Error(Exit::data,
                  fmt::format("line {}: contact {} exists already (--on-conflict fail); nothing "
                              "of this batch was imported",
                              m_row->record.line, id));
    if (m_options.on_conflict == OnConflict::skip) {
      ++m_summary.unchanged;
      return;
    }
    auto before = m_lookup.find(id);
    Contact after = *before;
    // Only what the row has: an empty cell keeps the stored value.
    for (const auto& f : field_table())
      if (f.member != nullptr && incoming.*(f.member))
        after.*(f.member) = incoming.*(f.member);
    // A contact found by another key keeps the external id it has: a second
    // id for the same person in the source is a duplicate there, not a change
    // here (and re-importing such a file would flip it back and forth).
    if (m_options.key != ImportKey::external_id && before->external_id)
      after.external_id = before->external_id;
    // The same address in other letters is no change: the stored spelling stays.
    if (before->email && m_row->email_key && email_match_key(*before->email) == *m_row->email_key)
      after.email = before->email;
    if (!incoming.attrs.empty())
      merge_attrs(after.attrs, {incoming.attrs.begin(), incoming.attrs.end()});
    for (const auto& tag : incoming.tags) {
      auto it = std::lower_bound(after.tags.begin(), after.tags.end(), tag);
      if (it == after.tags.end() || *it != tag)
        after.tags.insert(it, tag);
    }
    bool stage_set = incoming.stage.has_value();
    std::string detail = change_detail(*before, after);
    if (detail.empty()) {
      ++m_summary.unchanged;
      return;
    }
    if (conflicts(after, ContactWriter::Unique::both))
      return;
    after.updated_at = m_now;
    // The index reads a row's old text from contact_fts_source to remove it
    // (external content), so the row leaves it before the update.
    bool reindex = indexed_text_differs(*before, after);
    if (reindex)
      index(m_unindex, *before);
    m_writer.update(*before, after, stage_set);
    if (reindex)
      index(m_index, after);
    ++m_summary.updated;
    if (m_options.on_changed)
      m_committed.push_back(id);
    if (m_created_first != 0 && id >= m_created_first) {
      // Created by this import and not yet written by write_created(): its
      // history entry follows its creation's; undo deletes it, so no undo row.
      m_created_updates.emplace_back(id, std::move(detail));
      return;
    }
    m_writer.history(id, m_now, m_ctx.source, "import", detail);
    std::string image = snapshot(*before);
    record_change(id, "update", &image);
  }

  // Contacts created since the last write_created(): ids m_created_first to
  // m_created_last, and every id between is one of them (only this import
  // writes contacts in its transaction, and ids only grow).
  void created(std::int64_t id) {
    if (m_created_first == 0)
      m_created_first = id;
    m_created_last = id;
    if (m_created_last - m_created_first + 1 >= static_cast<std::int64_t>(k_created_chunk))
      write_created();
  }

  // Adds a contact's full-text entry (m_index) or removes it (m_unindex,
  // FTS5's 'delete' with the text the entry was made from), with the
  // columns of contact_fts_source. Both are one row of VALUES: a statement
  // that may write several rows (INSERT ... SELECT, DELETE ... WHERE) opens
  // a savepoint, at which FTS5 writes out its pending terms, a segment per
  // row (it doubled the import's time). A statement of many rows would also
  // keep the pages that FTS5's merges change in its statement journal, in
  // memory.
  void index(SQLite::Statement& s, const Contact& c) {
    auto text = [&](int i, const std::optional<std::string>& v) {
      if (v)
        s.bindNoCopy(i, *v);
      else
        s.bind(i);
    };
    s.bind(1, c.id);
    text(2, c.first_name);
    text(3, c.last_name);
    text(4, c.email);
    text(5, c.company);
    text(6, c.city);
    s.exec();
    s.reset();
  }

  // The history entries of the contacts created since the last call, in
  // one statement, and their id range for undo (import_created); then the
  // history entries of later rows that changed them. The history of a
  // creation holds no values: they are the contact's own, and repeating
  // them would double what an import writes (the history was 44% of the
  // file).
  void write_created() {
    if (m_created_first == 0)
      return;
    auto run = [&](SQLite::Statement& s, int first) {
      s.bind(first, m_created_first);
      s.bind(first + 1, m_created_last);
      s.exec();
      s.reset();
    };
    m_created_history.bindNoCopy(1, m_now);
    m_created_history.bindNoCopy(2, m_ctx.source);
    run(m_created_history, 3);
    m_created_range.bind(1, m_summary.batch_id);
    run(m_created_range, 2);
    for (const auto& [id, detail] : m_created_updates)
      m_writer.history(id, m_now, m_ctx.source, "import", detail);
    m_created_updates.clear();
    if (m_options.on_changed)
      for (auto id = m_created_first; id <= m_created_last; ++id)
        m_committed.push_back(id);
    m_created_first = m_created_last = 0;
  }

  // An INSERT into contact_fts of the columns of contact_fts_source from
  // bound values (1: id, 2: first name, 3: last name, 4: email, 5: company,
  // 6: city) and the contact's notes, after `command` (FTS5's 'delete').
  static std::string fts_row(std::string_view command = {}) {
    return fmt::format("INSERT INTO contact_fts ({}rowid, name, email, company, city, notes) "
                       "VALUES ({}?1, trim(coalesce(?2, '') || ' ' || coalesce(?3, '')), ?4, ?5, "
                       "?6, (SELECT group_concat(body, ' ') FROM (SELECT body FROM note WHERE "
                       "contact_id = ?1 ORDER BY id)))",
                       command.empty() ? "" : "contact_fts, ", command);
  }

  static bool indexed_text_differs(const Contact& a, const Contact& b) {
    return a.first_name != b.first_name || a.last_name != b.last_name || a.email != b.email ||
           a.company != b.company || a.city != b.city;
  }

  void record_change(std::int64_t id, const char* action, const std::string* before) {
    m_change.bind(1, m_summary.batch_id);
    m_change.bind(2, id);
    m_change.bindNoCopy(3, action);
    if (before)
      m_change.bindNoCopy(4, *before);
    else
      m_change.bind(4);
    m_change.exec();
    m_change.reset();
  }

  Database& m_db;
  RecordReader& m_reader;
  const ImportOptions& m_options;
  WriteContext m_ctx;
  std::string m_now; // m_ctx.now, formatted once
  RejectSink& m_rejects;
  RowSource m_source;
  ContactWriter m_writer;
  ContactLookup m_lookup{m_db};
  Suppression m_suppression{m_db};
  std::unique_ptr<ConsentWriter> m_consent; // this batch's, made on first evidence
  SQLite::Statement m_change;
  SQLite::Statement m_created_history{
      m_db.sql(), "INSERT INTO history (contact_id, at, action, source, detail) SELECT id, ?1, "
                  "'import', ?2, '{\"created\":true}' FROM contact WHERE id BETWEEN ?3 AND ?4 "
                  "ORDER BY id"};
  SQLite::Statement m_created_range{
      m_db.sql(), "INSERT INTO import_created (batch_id, first_id, last_id) VALUES (?, ?, ?)"};
  SQLite::Statement m_index{m_db.sql(), fts_row()};
  SQLite::Statement m_unindex{m_db.sql(), fts_row("'delete', ")};
  std::int64_t m_created_first = 0;
  std::int64_t m_created_last = 0;
  std::vector<std::pair<std::int64_t, std::string>> m_created_updates; // id, history detail
  std::vector<std::int64_t> m_committed; // this batch's contacts, for report() with --ids
  PreparedRow* m_row = nullptr;
  ImportSummary m_summary;
  std::size_t m_rows = 0;
};

std::int64_t start_batch(Database& db, const ImportOptions& options, const WriteContext& ctx) {
  SQLite::Statement insert(db.sql(), "INSERT INTO import_batch (kind, source, profile, "
                                     "started_at) VALUES ('contacts', ?, ?, ?) RETURNING id");
  insert.bind(1, options.source);
  if (options.profile.empty())
    insert.bind(2);
  else
    insert.bind(2, options.profile);
  insert.bind(3, format_time(ctx.now));
  insert.executeStep();
  return insert.getColumn(0).getInt64();
}

void finish_batch(Database& db, const ImportSummary& s, const WriteContext& ctx) {
  SQLite::Statement update(db.sql(), "UPDATE import_batch SET finished_at = ?, inserted = ?, "
                                     "updated = ?, unchanged = ?, rejected = ? WHERE id = ?");
  update.bind(1, format_time(ctx.now));
  update.bind(2, static_cast<std::int64_t>(s.inserted));
  update.bind(3, static_cast<std::int64_t>(s.updated));
  update.bind(4, static_cast<std::int64_t>(s.unchanged));
  update.bind(5, static_cast<std::int64_t>(s.rejected));
  update.bind(6, s.batch_id);
  update.exec();
}

} // namespace

std::optional<ImportKey> parse_import_key(std::string_view name) {
  for (auto k : {ImportKey::email, ImportKey::external_id, ImportKey::phone, ImportKey::none})
    if (key_name(k) == name)
      return k;
  return std::nullopt;
}

std::optional<OnConflict> parse_on_conflict(std::string_view name) {
  if (name == "update")
    return OnConflict::update;
  if (name == "skip")
    return OnConflict::skip;
  if (name == "fail")
    return OnConflict::fail;
  return std::nullopt;
}

ImportSummary import_contacts(Database& db, RecordReader& reader, const ImportOptions& options,
                              const WriteContext& ctx, RejectSink& rejects,
                              const std::function<void(std::size_t)>& progress) {
  for (const auto& [from, to] : options.map)
    target_of(to);
  // A larger page cache while importing: the email and phone indexes take
  // rows in random order, and with SQLite's default 2 MiB their pages spill
  // to the WAL and are read back again and again.
  struct CacheSize {
    SQLite::Database& db;
    int before;
    explicit CacheSize(SQLite::Database& d)
        : db(d), before(d.execAndGet("PRAGMA cache_size").getInt()) {
      db.exec("PRAGMA cache_size = -32768");
    }
    ~CacheSize() {
      try {
        db.exec(fmt::format("PRAGMA cache_size = {}", before));
      } catch (...) {
      }
    }
  };
  // Foreign keys are not checked while importing: every row the import
  // writes refers to a contact it has just written or found (and to its own
  // batch), and `crm db check` checks them all. Checking cost a lookup of
  // the contact per attribute and history entry, 3% of the time.
  // The pragma is a no-op inside a transaction, so it is set before.
  struct ForeignKeysOff {
    SQLite::Database& db;
    explicit ForeignKeysOff(SQLite::Database& d) : db(d) { db.exec("PRAGMA foreign_keys = OFF"); }
    ~ForeignKeysOff() {
      try {
        db.exec("PRAGMA foreign_keys = ON");
      } catch (...) {
      }
    }
  };
  // The importer keeps the full-text index itself (index_created, and
  // m_unindex/m_reindex around an update): inside its transactions the
  // triggers are off, so that a row costs no trigger program and no
  // statement journal.
  // Switching them changes the connection's flags, and SQLite then prepares
  // the statements again, without (or with) the triggers.
  struct TriggersOff {
    sqlite3* db;
    explicit TriggersOff(SQLite::Database& d) : db(d.getHandle()) { set(0); }
    ~TriggersOff() { set(1); }
    void set(int on) const { sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, nullptr); }
  };
  try {
    CacheSize cache(db.sql());
    ForeignKeysOff foreign_keys(db.sql());
    if (options.dry_run == DryRun::yes) {
      // Everything happens, then is rolled back: the counts are exact.
      SQLite::Transaction transaction(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
      TriggersOff triggers(db.sql());
      Importer importer(db, reader, options, ctx, rejects);
      importer.set_batch(start_batch(db, options, ctx));
      importer.start();
      importer.run(0, progress);
      importer.finish();
      auto summary = importer.summary();
      summary.batch_id = 0;
      return summary;
    }
    Importer importer(db, reader, options, ctx, rejects);
    bool more = true;
    bool first = true;
    try {
      while (more) {
        db.write([&] {
          TriggersOff triggers(db.sql());
          // The batch row belongs to the first transaction: an import that
          // fails there leaves no trace.
          if (first)
            importer.set_batch(start_batch(db, options, ctx));
          importer.start();
          more = importer.run(options.batch, progress);
          importer.finish();
          finish_batch(db, importer.summary(), ctx);
        });
        first = false;
        importer.report(options.on_changed);
      }
    } catch (const Error&) {
      // Too many rejects after some batches were committed: those are
      // undone, so that the import changes nothing, as with one transaction.
      bool over = options.max_rejects && importer.summary().rejected > *options.max_rejects;
      if (first || !over)
        throw;
      undo_import(db, importer.summary().batch_id, ctx);
      throw Error(Exit::data,
                  fmt::format("{} (import batch {}: its committed rows were undone)",
                              too_many_rejects(*options.max_rejects), importer.summary().batch_id),
                  "the rejected rows are listed above or in the --rejects file");
    }
    return importer.summary();
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot import");
  }
}

} // namespace crm
