#include <crm/journey.hpp>

#include <crm/error.hpp>
#include <crm/normalize.hpp>

#include "contact_store.hpp"
#include "prefetch.hpp"

#include <SQLiteCpp/Transaction.h>
#include <fmt/core.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>
#include <memory>

namespace crm {

namespace {

// Where the values of one input column go.
enum class Slot {
  contact_id,
  external_id,
  email,
  touchpoint,
  channel,
  phase,
  at,
  amount,
  rating,
  campaign,
  attrs_json,
  attr,
  ignore
};

constexpr std::pair<std::string_view, Slot> k_names[] = {
    {"contactid", Slot::contact_id},
    {"contact", Slot::contact_id},
    {"externalid", Slot::external_id},
    {"email", Slot::email},
    {"mail", Slot::email},
    {"emailaddress", Slot::email},
    {"touchpoint", Slot::touchpoint},
    {"event", Slot::touchpoint},
    {"channel", Slot::channel},
    {"phase", Slot::phase},
    {"at", Slot::at},
    {"time", Slot::at},
    {"timestamp", Slot::at},
    {"amount", Slot::amount},
    {"rating", Slot::rating},
    {"campaign", Slot::campaign},
    {"attrs", Slot::attrs_json},
    // What `crm export events` writes besides: the event's own id and batch.
    {"id", Slot::ignore},
    {"batchid", Slot::ignore},
};

constexpr std::pair<std::string_view, Slot> k_targets[] = {
    {"contact_id", Slot::contact_id},
    {"external_id", Slot::external_id},
    {"email", Slot::email},
    {"touchpoint", Slot::touchpoint},
    {"channel", Slot::channel},
    {"phase", Slot::phase},
    {"at", Slot::at},
    {"amount", Slot::amount},
    {"rating", Slot::rating},
    {"campaign", Slot::campaign},
    {"attrs", Slot::attrs_json},
    {"-", Slot::ignore},
};

struct Target {
  Slot slot = Slot::ignore;
  std::string attr; // Slot::attr: the attribute name
};

Target target_of(std::string_view target) {
  for (const auto& [name, slot] : k_targets)
    if (name == target)
      return {slot, {}};
  if (target.starts_with("attr.") && valid_attr_key(target.substr(5)))
    return {Slot::attr, std::string(target.substr(5))};
  throw Error(Exit::usage, fmt::format("--map: unknown event field '{}'", target),
              "map to contact_id, external_id, email, touchpoint, channel, phase, at, amount, "
              "rating, campaign, attrs, attr.NAME, or - to ignore the column");
}

Target resolve_column(const std::string& column, const EventImportOptions& options) {
  for (const auto& [from, to] : options.map)
    if (from == column)
      return target_of(to);
  if (column.starts_with("attr.") && valid_attr_key(column.substr(5)))
    return {Slot::attr, column.substr(5)};
  const std::string simple = simplified_column(column);
  for (const auto& [name, slot] : k_names)
    if (name == simple)
      return {slot, {}};
  std::string attr;
  for (char c : column) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    attr.push_back(ok ? c : '_');
  }
  return {Slot::attr, attr.empty() ? "_" : attr};
}

// The attributes of an `attrs` cell: a JSON object (what `crm export events`
// writes). Values that are not strings keep their JSON text.
void read_attrs_json(simdjson::dom::parser& parser, const std::string& text,
                     std::vector<std::pair<std::string, std::string>>& attrs) {
  simdjson::padded_string padded(text);
  simdjson::dom::object object;
  if (parser.parse(padded).get(object) != simdjson::SUCCESS)
    throw Error(Exit::data, "invalid attrs: expected a JSON object of strings");
  for (auto field : object) {
    std::string_view string;
    std::string value = field.value.get(string) == simdjson::SUCCESS
                            ? std::string(string)
                            : simdjson::to_string(field.value);
    attrs.emplace_back(std::string(field.key), std::move(value));
  }
}

std::string too_many_rejects(std::size_t max) {
  return fmt::format("too many rejected rows: more than {} (--max-rejects); nothing was imported",
                     max);
}

class EventImporter {
public:
  EventImporter(Database& db, RecordReader& reader, const EventImportOptions& options,
                const JourneySettings& journey, const WriteContext& ctx, RejectSink& rejects)
      : m_reader(reader), m_options(options), m_journey(journey), m_ctx(ctx), m_rejects(rejects),
        m_db(db), m_by_id(db.sql(), "SELECT id FROM contact WHERE id = ?"),
        m_by_external_id(db.sql(), "SELECT id FROM contact WHERE external_id = ?"),
        m_by_email(db.sql(), "SELECT id FROM contact WHERE email_norm = ? ORDER BY id LIMIT 1") {
    m_pending.reserve(k_rows_per_insert);
  }

  void set_batch(std::int64_t id) { m_summary.batch_id = id; }
  EventImportSummary summary() const {
    EventImportSummary s = m_summary;
    for (const auto& [name, count] : m_unknown)
      s.unknown_touchpoints.emplace_back(name, count);
    return s;
  }

  // Writes up to `limit` rows (0: all); false when the input is done.
  bool run(std::size_t limit, const std::function<void(std::size_t)>& progress) {
    std::size_t n = 0;
    while (limit == 0 || n < limit) {
      m_record = m_queue.next();
      if (m_record == nullptr) {
        flush();
        return false;
      }
      ++n;
      ++m_rows;
      write_row();
      if (progress && (m_rows & 0x3FF) == 0)
        progress(m_rows);
    }
    flush();
    return true;
  }

private:
  void reject(std::string_view reason) {
    ++m_summary.rejected;
    m_rejects.reject(m_reader, *m_record, reason);
    if (m_options.max_rejects && m_summary.rejected > *m_options.max_rejects)
      throw Error(Exit::data, too_many_rejects(*m_options.max_rejects),
                  "the rejected rows are listed above or in the --rejects file");
  }

  void update_targets() {
    const auto& columns = m_reader.columns();
    while (m_targets.size() < columns.size())
      m_targets.push_back(resolve_column(columns[m_targets.size()], m_options));
  }

  // The contact a row references; nullopt (after a reject) if none.
  std::optional<std::int64_t> contact_of(Slot slot, const std::string& ref) {
    if (slot == m_last_slot && ref == m_last_ref)
      return m_last_id;
    SQLite::Statement* query = nullptr;
    std::string key;
    switch (slot) {
    case Slot::contact_id: {
      std::int64_t id = 0;
      auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
      if (ec != std::errc{} || end != ref.data() + ref.size() || id <= 0) {
        reject(fmt::format("invalid contact_id '{}': expected a positive integer", ref));
        return std::nullopt;
      }
      query = &m_by_id;
      query->bind(1, id);
      break;
    }
    case Slot::external_id:
      query = &m_by_external_id;
      query->bind(1, ref);
      break;
    default:
      key = email_match_key(ref);
      query = &m_by_email;
      query->bind(1, key);
      break;
    }
    std::optional<std::int64_t> id;
    if (query->executeStep())
      id = query->getColumn(0).getInt64();
    query->reset();
    if (!id) {
      const char* what = slot == Slot::contact_id    ? "id"
                         : slot == Slot::external_id ? "external_id"
                                                     : "email";
      reject(fmt::format("no contact with {} '{}'", what, ref));
      return std::nullopt;
    }
    m_last_slot = slot;
    m_last_ref = ref;
    m_last_id = *id;
    return id;
  }

  void write_row() {
    if (!m_record->error.empty())
      return reject(m_record->error);
    update_targets();
    m_fields.touchpoint.clear();
    m_fields.channel.reset();
    m_fields.phase.reset();
    m_fields.campaign.reset();
    m_fields.at.reset();
    m_fields.amount.reset();
    m_fields.rating.reset();
    m_fields.attrs.clear();
    const std::string* refs[3] = {nullptr, nullptr, nullptr}; // contact_id, external_id, email
    try {
      for (std::size_t i = 0; i < m_record->values.size() && i < m_targets.size(); ++i) {
        const auto& value = m_record->values[i];
        if (!value || value->empty())
          continue;
        const Target& t = m_targets[i];
        switch (t.slot) {
        case Slot::contact_id:
          refs[0] = refs[0] ? refs[0] : &*value;
          break;
        case Slot::external_id:
          refs[1] = refs[1] ? refs[1] : &*value;
          break;
        case Slot::email:
          refs[2] = refs[2] ? refs[2] : &*value;
          break;
        case Slot::touchpoint:
          m_fields.touchpoint = *value;
          break;
        case Slot::channel:
          m_fields.channel = *value;
          break;
        case Slot::phase:
          m_fields.phase = *value;
          break;
        case Slot::at:
          m_fields.at = *value;
          break;
        case Slot::amount:
          m_fields.amount = *value;
          break;
        case Slot::rating:
          m_fields.rating = *value;
          break;
        case Slot::campaign:
          m_fields.campaign = *value;
          break;
        case Slot::attrs_json:
          read_attrs_json(m_json, *value, m_fields.attrs);
          break;
        case Slot::attr:
          m_fields.attrs.emplace_back(t.attr, *value);
          break;
        case Slot::ignore:
          break;
        }
      }
      if (m_fields.touchpoint.empty())
        return reject("no touchpoint");
      if (!m_fields.at)
        return reject("no time (column at): an imported event needs its time");
    } catch (const Error& e) {
      if (e.code() != Exit::data)
        throw;
      return reject(e.what());
    }
    std::optional<std::int64_t> contact;
    if (refs[0])
      contact = contact_of(Slot::contact_id, *refs[0]);
    else if (refs[1])
      contact = contact_of(Slot::external_id, *refs[1]);
    else if (refs[2])
      contact = contact_of(Slot::email, *refs[2]);
    else
      return reject("no contact: the row needs contact_id, external_id or email");
    if (!contact)
      return;
    KnownTouchpoint known = KnownTouchpoint::yes;
    Event e;
    try {
      e = make_event(*contact, m_fields, m_journey, m_ctx.now, known);
    } catch (const Error& error) {
      if (error.code() != Exit::data && error.code() != Exit::not_found)
        throw;
      return reject(error.what());
    }
    m_pending.push_back(std::move(e));
    m_pending_known.push_back(known == KnownTouchpoint::yes);
    if (m_pending.size() == k_rows_per_insert)
      flush();
  }

  static std::string insert_sql(std::size_t rows, bool returning) {
    // An event stored already (a file imported again) is ignored by the
    // identity index, which is cheaper than a look first. The rows are
    // checked before (make_event), so the identity index is the only
    // constraint IGNORE can meet.
    std::string sql = "INSERT OR IGNORE INTO event (contact_id, touchpoint, channel, phase, at, "
                      "amount, rating, campaign, attrs, batch_id) VALUES ";
    for (std::size_t i = 0; i < rows; ++i)
      sql += i == 0 ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    if (returning)
      sql += " RETURNING touchpoint";
    return sql;
  }

  SQLite::Statement& statement(std::size_t rows, bool returning) {
    auto& slot = m_statements[rows == 1 ? 0 : 1][returning ? 1 : 0];
    if (!slot)
      slot = std::make_unique<SQLite::Statement>(m_db.sql(), insert_sql(rows, returning));
    return *slot;
  }

  // Writes the pending events, many per INSERT: SQLite then reads and
  // writes the AUTOINCREMENT sequence and sets up the statement once for
  // all of them. Events of unknown touchpoints are counted as they are
  // stored (RETURNING), so that a file imported again warns of nothing.
  void flush() {
    const std::size_t rows = m_pending.size() == k_rows_per_insert ? k_rows_per_insert : 1;
    for (std::size_t done = 0; done < m_pending.size(); done += rows) {
      bool unknown = false;
      for (std::size_t i = done; i < done + rows; ++i)
        unknown = unknown || !m_pending_known[i];
      SQLite::Statement& insert = statement(rows, unknown);
      insert.reset();
      for (std::size_t i = 0; i < rows; ++i)
        bind(insert, static_cast<int>(i * 10), m_pending[done + i]);
      std::size_t inserted = 0;
      if (unknown) {
        while (insert.executeStep()) {
          ++inserted;
          const char* touchpoint = insert.getColumn(0).getText();
          for (std::size_t i = done; i < done + rows; ++i)
            if (!m_pending_known[i] && m_pending[i].touchpoint == touchpoint) {
              ++m_unknown[m_pending[i].touchpoint];
              break;
            }
        }
      } else {
        insert.exec();
        inserted = static_cast<std::size_t>(m_db.sql().getChanges());
      }
      m_summary.inserted += inserted;
      m_summary.unchanged += rows - inserted;
    }
    m_pending.clear();
    m_pending_known.clear();
  }

  // Binds one event as the ten parameters after `offset`.
  void bind(SQLite::Statement& insert, int offset, const Event& e) {
    auto text = [&](int index, const std::optional<std::string>& v) {
      if (v)
        insert.bindNoCopy(offset + index, *v);
      else
        insert.bind(offset + index);
    };
    auto number = [&](int index, const std::optional<std::int64_t>& v) {
      if (v)
        insert.bind(offset + index, *v);
      else
        insert.bind(offset + index);
    };
    insert.bind(offset + 1, e.contact_id);
    insert.bindNoCopy(offset + 2, e.touchpoint);
    text(3, e.channel);
    text(4, e.phase);
    insert.bindNoCopy(offset + 5, e.at);
    number(6, e.amount);
    number(7, e.rating);
    text(8, e.campaign);
    insert.bindNoCopy(offset + 9, e.attrs);
    if (m_summary.batch_id > 0)
      insert.bind(offset + 10, m_summary.batch_id);
    else
      insert.bind(offset + 10);
  }

  static constexpr std::size_t k_rows_per_insert = 64;

  RecordReader& m_reader;
  const EventImportOptions& m_options;
  const JourneySettings& m_journey;
  WriteContext m_ctx;
  RejectSink& m_rejects;
  Database& m_db;
  SQLite::Statement m_by_id, m_by_external_id, m_by_email;
  // [one row, many rows][plain, RETURNING], prepared when first needed
  std::unique_ptr<SQLite::Statement> m_statements[2][2];
  std::vector<Event> m_pending;
  std::vector<bool> m_pending_known;
  simdjson::dom::parser m_json;
  std::vector<Target> m_targets;
  // csv and tsv are read on a second thread (their columns are fixed by the
  // header, so the importer may read them meanwhile); other formats in line.
  Prefetcher<InputRecord> m_queue{[this](InputRecord& record) { return m_reader.next(record); },
                                  m_reader.format() == InputFormat::csv ||
                                          m_reader.format() == InputFormat::tsv
                                      ? Prefetcher<InputRecord>::Threading::yes
                                      : Prefetcher<InputRecord>::Threading::no,
                                  512, 8};
  const InputRecord* m_record = nullptr;
  EventFields m_fields;
  Slot m_last_slot = Slot::ignore;
  std::string m_last_ref;
  std::int64_t m_last_id = 0;
  std::map<std::string, std::size_t> m_unknown;
  EventImportSummary m_summary;
  std::size_t m_rows = 0;
};

std::int64_t start_batch(Database& db, const EventImportOptions& options, const WriteContext& ctx) {
  SQLite::Statement insert(db.sql(), "INSERT INTO import_batch (kind, source, started_at) "
                                     "VALUES ('events', ?, ?) RETURNING id");
  insert.bind(1, options.source);
  insert.bind(2, format_time(ctx.now));
  insert.executeStep();
  return insert.getColumn(0).getInt64();
}

void finish_batch(Database& db, const EventImportSummary& s, const WriteContext& ctx) {
  SQLite::Statement update(db.sql(), "UPDATE import_batch SET finished_at = ?, inserted = ?, "
                                     "unchanged = ?, rejected = ? WHERE id = ?");
  update.bind(1, format_time(ctx.now));
  update.bind(2, static_cast<std::int64_t>(s.inserted));
  update.bind(3, static_cast<std::int64_t>(s.unchanged));
  update.bind(4, static_cast<std::int64_t>(s.rejected));
  update.bind(5, s.batch_id);
  update.exec();
}

// The touchpoint index (touchpoint, contact, time) takes rows in nine or so
// places at once: an import into an empty event table drops it for its
// transaction and builds it again before committing, from the table, whose
// rows run by contact, so each touchpoint's run comes to the sort in order
// (10M events: 43 s of CPU instead of 49 s for keeping it up row by row). Inside
// the transaction, so nobody ever sees the table without it. The others
// take rows in order (contact and time) and stay; the identity index finds
// the duplicates.
class DeferredIndexes {
public:
  explicit DeferredIndexes(Database& db) : m_db(db) {
    if (db.sql().execAndGet("SELECT EXISTS (SELECT 1 FROM event)").getInt() != 0)
      return;
    {
      SQLite::Statement find(db.sql(), "SELECT name, sql FROM sqlite_schema WHERE type = 'index' "
                                       "AND tbl_name = 'event' AND name = 'event_by_touchpoint'");
      while (find.executeStep())
        m_dropped.emplace_back(find.getColumn(0).getString(), find.getColumn(1).getString());
    }
    for (const auto& [name, sql] : m_dropped)
      db.sql().exec("DROP INDEX " + name);
  }
  // Builds the indexes again; call it before the transaction commits.
  void restore() {
    for (const auto& [name, sql] : m_dropped)
      m_db.sql().exec(sql);
    m_dropped.clear();
  }

private:
  Database& m_db;
  std::vector<std::pair<std::string, std::string>> m_dropped; // name, CREATE statement
};

} // namespace

EventImportSummary import_events(Database& db, RecordReader& reader,
                                 const EventImportOptions& options, const JourneySettings& journey,
                                 const WriteContext& ctx, RejectSink& rejects,
                                 const std::function<void(std::size_t)>& progress) {
  for (const auto& [from, to] : options.map)
    target_of(to);
  // A larger page cache while importing: the touchpoint and identity indexes
  // take rows out of order, and with SQLite's default 2 MiB their pages spill
  // to the WAL and are read back again and again.
  struct CacheSize {
    SQLite::Database& db;
    int before;
    explicit CacheSize(SQLite::Database& d)
        : db(d), before(d.execAndGet("PRAGMA cache_size").getInt()) {
      db.exec("PRAGMA cache_size = -131072");
    }
    ~CacheSize() {
      try {
        db.exec(fmt::format("PRAGMA cache_size = {}", before));
      } catch (...) {
      }
    }
  };
  try {
    CacheSize cache(db.sql());
    if (options.dry_run == DryRun::yes) {
      // Everything happens, then is rolled back: the counts are exact.
      SQLite::Transaction transaction(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
      DeferredIndexes indexes(db);
      EventImporter importer(db, reader, options, journey, ctx, rejects);
      importer.set_batch(start_batch(db, options, ctx));
      importer.run(0, progress);
      indexes.restore();
      auto summary = importer.summary();
      summary.batch_id = 0;
      return summary;
    }
    EventImporter importer(db, reader, options, journey, ctx, rejects);
    bool more = true;
    bool first = true;
    try {
      while (more) {
        db.write([&] {
          // The batch row belongs to the first transaction: an import that
          // fails there leaves no trace.
          DeferredIndexes indexes(db);
          if (first)
            importer.set_batch(start_batch(db, options, ctx));
          more = importer.run(options.batch, progress);
          indexes.restore();
          finish_batch(db, importer.summary(), ctx);
        });
        first = false;
      }
    } catch (const Error&) {
      // Too many rejects after some batches were committed: those are
      // removed, so that the import changes nothing, as with one transaction.
      const auto summary = importer.summary();
      bool over = options.max_rejects && summary.rejected > *options.max_rejects;
      if (first || !over)
        throw;
      db.write([&] {
        SQLite::Statement drop(db.sql(), "DELETE FROM event WHERE batch_id = ?");
        drop.bind(1, summary.batch_id);
        drop.exec();
        SQLite::Statement batch(db.sql(), "DELETE FROM import_batch WHERE id = ?");
        batch.bind(1, summary.batch_id);
        batch.exec();
      });
      throw Error(Exit::data,
                  fmt::format("{} (its committed batches were removed)",
                              too_many_rejects(*options.max_rejects)),
                  "the rejected rows are listed above or in the --rejects file");
    }
    return importer.summary();
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot import events");
  }
}

} // namespace crm
