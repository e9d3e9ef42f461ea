#include <crm/consent.hpp>

#include <crm/error.hpp>
#include <crm/import.hpp>
#include <crm/normalize.hpp>
#include <crm/readers.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <SQLiteCpp/SQLiteCpp.h>

#include "prefetch.hpp"

namespace crm {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::size_t> column(const RecordReader& reader, std::string_view name) {
  const auto& columns = reader.columns();
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (lower(columns[i]) == name)
      return i;
  return std::nullopt;
}

std::optional<std::string> value(const InputRecord& record, std::optional<std::size_t> index) {
  if (!index || *index >= record.values.size() || !record.values[*index] ||
      record.values[*index]->empty())
    return std::nullopt;
  return record.values[*index];
}

struct DryRunDone {};

// The SQL that finds a contact by one kind of reference.
std::string lookup_sql(std::string_view kind) {
  if (kind == "email")
    return "SELECT id FROM contact WHERE email_norm = ? LIMIT 2";
  if (kind == "external_id")
    return "SELECT id FROM contact WHERE external_id = ?";
  if (kind == "phone")
    return "SELECT id FROM contact WHERE phone = ? LIMIT 2";
  return "SELECT id FROM contact WHERE id = ?";
}

// A row read, checked and normalised, ready to be written; or the reason it
// is not.
struct ConsentRow {
  InputRecord record;
  std::string reject;
  std::string ref;     // as given, for messages
  std::string key;     // normalised for the lookup
  std::int64_t id = 0; // the key, when it is a contact id
  ConsentChange change;
};

// Reads and checks the rows (on the prefetcher's thread): the columns are
// looked up after the first record, as json and ndjson name them while they
// are read.
class ConsentRows {
public:
  ConsentRows(RecordReader& reader, std::span<const Purpose> purposes, std::string country)
      : m_reader(reader), m_purposes(purposes), m_country(std::move(country)) {}

  // The kind of reference of the input (contact_id, id, email, external_id
  // or phone); known once the first row was read.
  std::string_view ref_kind() const { return m_ref_kind; }

  bool fill(ConsentRow& row) {
    if (!m_reader.next(row.record))
      return false;
    if (!m_columns_known)
      find_columns();
    prepare(row);
    return true;
  }

private:
  void find_columns() {
    static constexpr std::array<std::string_view, 5> k_refs = {"contact_id", "id", "email",
                                                               "external_id", "phone"};
    for (auto name : k_refs)
      if (auto c = column(m_reader, name)) {
        m_ref = c;
        m_ref_kind = name;
        break;
      }
    if (!m_ref)
      throw Error(Exit::data, "consent import: the input names no contact",
                  "give a column contact_id, id, email, external_id or phone");
    m_purpose = column(m_reader, "purpose");
    m_action = column(m_reader, "action");
    for (auto [c, name] : {std::pair{m_purpose, "purpose"}, std::pair{m_action, "action"}})
      if (!c)
        throw Error(Exit::data, fmt::format("consent import: the input has no column '{}'", name));
    m_channel = column(m_reader, "channel");
    m_at = column(m_reader, "at");
    m_source = column(m_reader, "source");
    m_proof = column(m_reader, "proof");
    m_columns_known = true;
  }

  void prepare(ConsentRow& row) {
    row.reject.clear();
    const InputRecord& record = row.record;
    if (!record.error.empty()) {
      row.reject = record.error;
      return;
    }
    auto ref = value(record, m_ref);
    if (!ref) {
      row.reject = "no contact";
      return;
    }
    row.ref = std::move(*ref);
    try {
      normalize_ref(row);
    } catch (const Error& e) {
      if (e.code() != Exit::data)
        throw;
      row.reject = e.what();
      return;
    }
    ConsentChange& change = row.change;
    change.action = value(record, m_action).value_or("");
    if (change.action != "grant" && change.action != "withdraw" && change.action != "object" &&
        change.action != "request" && change.action != "confirm") {
      row.reject = fmt::format("unknown action '{}' (grant, withdraw, object, request, confirm)",
                               change.action);
      return;
    }
    change.purpose = value(record, m_purpose);
    change.channel = value(record, m_channel);
    change.source = value(record, m_source);
    change.proof = value(record, m_proof);
    change.at.reset();
    if (auto at = value(record, m_at)) {
      change.at = parse_time(*at);
      if (!change.at) {
        row.reject = fmt::format("invalid time '{}'", *at);
        return;
      }
    }
    try {
      validate_consent_change(m_purposes, change);
    } catch (const Error& e) {
      row.reject = e.what();
    }
  }

  void normalize_ref(ConsentRow& row) const {
    if (m_ref_kind == "contact_id" || m_ref_kind == "id") {
      auto [end, ec] = std::from_chars(row.ref.data(), row.ref.data() + row.ref.size(), row.id);
      if (ec != std::errc() || end != row.ref.data() + row.ref.size())
        throw Error(Exit::data, fmt::format("invalid contact id '{}'", row.ref));
    } else if (m_ref_kind == "email") {
      row.key = email_match_key(normalize_email_display(row.ref));
    } else if (m_ref_kind == "phone") {
      row.key = normalize_phone(row.ref, m_country);
    } else {
      row.key = row.ref;
    }
  }

  RecordReader& m_reader;
  std::span<const Purpose> m_purposes;
  std::string m_country;
  bool m_columns_known = false;
  std::string_view m_ref_kind;
  std::optional<std::size_t> m_ref, m_purpose, m_action, m_channel, m_at, m_source, m_proof;
};

} // namespace

ConsentImportSummary import_consents(Database& db, RecordReader& reader,
                                     std::span<const Purpose> purposes,
                                     const ConsentImportOptions& options, const WriteContext& ctx,
                                     RejectSink& rejects) {
  ConsentImportSummary summary;
  ConsentRows rows(reader, purposes, ctx.default_country);
  // json is read whole and vCard is no consent format: only the delimited
  // formats are worth a second thread.
  const bool threaded = reader.format() == InputFormat::csv || reader.format() == InputFormat::tsv;
  Prefetcher<ConsentRow> source([&](ConsentRow& row) { return rows.fill(row); },
                                threaded ? Prefetcher<ConsentRow>::Threading::yes
                                         : Prefetcher<ConsentRow>::Threading::no);
  ConsentRow* row = source.next();
  if (!row)
    return summary;

  auto reject = [&](std::string_view reason) {
    ++summary.rejected;
    rejects.reject(reader, row->record, reason);
    if (options.max_rejects && summary.rejected > *options.max_rejects)
      throw Error(Exit::data,
                  fmt::format("more than {} rejected rows; nothing of this batch was imported",
                              *options.max_rejects),
                  "the rejected rows are listed above or in the --rejects file");
  };
  const std::string_view kind = rows.ref_kind();
  const bool by_id = kind == "contact_id" || kind == "id";
  ConsentWriter* writer = nullptr;
  SQLite::Statement* lookup = nullptr;
  auto one_row = [&] {
    if (!row->reject.empty())
      return reject(row->reject);
    lookup->reset();
    if (by_id)
      lookup->bind(1, row->id);
    else
      lookup->bind(1, row->key);
    if (!lookup->executeStep())
      return reject(fmt::format("no contact '{}'", row->ref));
    const std::int64_t id = lookup->getColumn(0).getInt64();
    if (lookup->executeStep())
      return reject(fmt::format("{} '{}' matches several contacts", kind, row->ref));
    if (writer->add(id, row->change))
      ++summary.added;
    else
      ++summary.unchanged;
  };

  // A page cache of 16 MiB while importing: ledger and index pages stay
  // in memory; a much larger one costs more in page faults than it saves.
  const int cache_before = db.sql().execAndGet("PRAGMA cache_size").getInt();
  db.sql().exec("PRAGMA cache_size = -16384");
  struct RestoreCache {
    Database& db;
    int before;
    ~RestoreCache() {
      try {
        db.sql().exec(fmt::format("PRAGMA cache_size = {}", before));
      } catch (...) {
      }
    }
  } restore{db, cache_before};
  try {
    while (row) {
      db.write([&] {
        ConsentWriter batch_writer(db, ctx);
        SQLite::Statement batch_lookup(db.sql(), lookup_sql(kind));
        writer = &batch_writer;
        lookup = &batch_lookup;
        std::size_t n = 0;
        while (row && (options.batch == 0 || n < options.batch || options.dry_run)) {
          one_row();
          ++n;
          row = source.next();
        }
        batch_writer.finish();
        if (options.dry_run)
          throw DryRunDone{};
      });
    }
  } catch (const DryRunDone&) {
    // Everything was checked and counted; the transaction rolled back.
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot import consents");
  }
  return summary;
}

} // namespace crm
