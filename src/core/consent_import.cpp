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

// Finds contacts by one kind of reference with one prepared statement.
class RefLookup {
public:
  RefLookup(Database& db, std::string_view kind, std::string country)
      : m_kind(kind), m_country(std::move(country)), m_query(db.sql(), sql_for(kind)) {}

  std::optional<std::int64_t> find(const std::string& ref) {
    m_query.reset();
    if (m_kind == "contact_id" || m_kind == "id") {
      std::int64_t id = 0;
      auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
      if (ec != std::errc() || end != ref.data() + ref.size())
        throw Error(Exit::data, fmt::format("invalid contact id '{}'", ref));
      m_query.bind(1, id);
    } else if (m_kind == "email") {
      m_query.bind(1, email_match_key(normalize_email_display(ref)));
    } else if (m_kind == "phone") {
      m_query.bind(1, normalize_phone(ref, m_country));
    } else {
      m_query.bind(1, ref);
    }
    if (!m_query.executeStep())
      return std::nullopt;
    std::int64_t id = m_query.getColumn(0).getInt64();
    if (m_query.executeStep())
      throw Error(Exit::data, fmt::format("{} '{}' matches several contacts", m_kind, ref));
    return id;
  }

private:
  static std::string sql_for(std::string_view kind) {
    if (kind == "email")
      return "SELECT id FROM contact WHERE email_norm = ? LIMIT 2";
    if (kind == "external_id")
      return "SELECT id FROM contact WHERE external_id = ?";
    if (kind == "phone")
      return "SELECT id FROM contact WHERE phone = ? LIMIT 2";
    return "SELECT id FROM contact WHERE id = ?";
  }
  std::string m_kind;
  std::string m_country;
  SQLite::Statement m_query;
};

} // namespace

ConsentImportSummary import_consents(Database& db, RecordReader& reader,
                                     std::span<const Purpose> purposes,
                                     const ConsentImportOptions& options, const WriteContext& ctx,
                                     RejectSink& rejects) {
  ConsentImportSummary summary;
  InputRecord record;
  bool more = reader.next(record);
  // json and ndjson name their columns as they are read, so the columns are
  // looked up after the first record.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> k_refs = {
      {{"contact_id", ""}, {"id", ""}, {"email", ""}, {"external_id", "ext:"}, {"phone", "tel:"}}};
  std::optional<std::size_t> ref_column;
  std::string_view ref_kind;
  for (const auto& [name, prefix] : k_refs)
    if (auto c = column(reader, name)) {
      ref_column = c;
      ref_kind = name;
      break;
    }
  ConsentWriter* writer = nullptr;
  RefLookup* lookup = nullptr;
  if (more && !ref_column)
    throw Error(Exit::data, "consent import: the input names no contact",
                "give a column contact_id, id, email, external_id or phone");
  auto purpose_column = column(reader, "purpose");
  auto action_column = column(reader, "action");
  for (auto [c, name] : {std::pair{purpose_column, "purpose"}, std::pair{action_column, "action"}})
    if (more && !c)
      throw Error(Exit::data, fmt::format("consent import: the input has no column '{}'", name));
  auto channel_column = column(reader, "channel");
  auto at_column = column(reader, "at");
  auto source_column = column(reader, "source");
  auto proof_column = column(reader, "proof");

  auto reject = [&](std::string_view reason) {
    ++summary.rejected;
    rejects.reject(reader, record, reason);
    if (options.max_rejects && summary.rejected > *options.max_rejects)
      throw Error(Exit::data,
                  fmt::format("more than {} rejected rows; nothing of this batch was imported",
                              *options.max_rejects),
                  "the rejected rows are listed above or in the --rejects file");
  };
  auto one_row = [&] {
    if (!record.error.empty())
      return reject(record.error);
    auto ref = value(record, ref_column);
    if (!ref)
      return reject("no contact");
    std::optional<std::int64_t> id;
    try {
      id = lookup->find(*ref);
    } catch (const Error& e) {
      return reject(e.what());
    }
    if (!id)
      return reject(fmt::format("no contact '{}'", *ref));
    ConsentChange change;
    change.action = value(record, action_column).value_or("");
    if (change.action != "grant" && change.action != "withdraw" && change.action != "object" &&
        change.action != "request" && change.action != "confirm")
      return reject(fmt::format("unknown action '{}' (grant, withdraw, object, request, confirm)",
                                change.action));
    change.purpose = value(record, purpose_column);
    change.channel = value(record, channel_column);
    change.source = value(record, source_column);
    change.proof = value(record, proof_column);
    if (auto at = value(record, at_column)) {
      change.at = parse_time(*at);
      if (!change.at)
        return reject(fmt::format("invalid time '{}'", *at));
    }
    try {
      validate_consent_change(purposes, change);
    } catch (const Error& e) {
      return reject(e.what());
    }
    if (writer->append(*id, change, std::nullopt))
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
    while (more) {
      db.write([&] {
        ConsentWriter batch_writer(db, ctx);
        RefLookup batch_lookup(db, ref_kind, ctx.default_country);
        writer = &batch_writer;
        lookup = &batch_lookup;
        std::size_t n = 0;
        while (more && (options.batch == 0 || n < options.batch || options.dry_run)) {
          one_row();
          ++n;
          more = reader.next(record);
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
