#pragma once
// Exports for shell pipelines (SPEC.md section 6 "export"): every kind of
// row the database holds, streamed to a RowWriter in constant memory.

#include <crm/clock.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>
#include <crm/output.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

// How a column's SQL value becomes a cell.
enum class ColumnType { text, integer, real, money, tags };

struct ExportColumn {
  std::string_view name; // the output name, snake_case
  std::string_view sql;  // an expression over the kind's FROM clause
  ColumnType type = ColumnType::text;
};

// One exportable set. A kind exists only in a database that has its table;
// a new capability adds its kind by adding an entry to export_kinds().
struct ExportKind {
  std::string_view name;
  std::string_view description;
  std::string_view table; // the table that must exist
  // The FROM clause. Contacts are `c`; other rows are `x`, and `--where`
  // (a filter over the contact a row belongs to) joins `contact c` on
  // `x.contact_id`.
  std::string_view from;
  std::string_view order;       // the id order: "c.id", "x.id"
  std::string_view time_column; // what --from/--to compare; empty: none
  // The columns in output order; empty: the table's own columns as they
  // are (for tables whose shape is not settled yet).
  std::span<const ExportColumn> columns;
  bool contacts = false; // `tags` and `attr.NAME` columns; vcard
};

// Every kind this crm knows, in the order of SPEC.md section 6.
std::span<const ExportKind> export_kinds();

// The kind called `name`; nullopt if there is none.
const ExportKind* find_export_kind(std::string_view name);

// True if the database has a table (or view) called `name`.
bool table_exists(Database& db, std::string_view name);

// Throws Error(Exit::not_found) unless the database has the kind's table
// ("no events in this database yet"), naming the kind.
void require_kind(Database& db, const ExportKind& kind);

struct ExportQuery {
  std::vector<std::string> fields;   // empty: the default columns
  std::optional<SqlFilter> where;    // over the contact `c`
  std::optional<TimePoint> from, to; // time_column in [from, to)
  std::vector<SortKey> sort;         // empty: id order
  std::optional<std::int64_t> limit;
};

// The names --fields accepts for `kind` (for `--fields help`); contacts add
// `attr.NAME` and `attr.*`.
std::vector<std::string> export_field_names(Database& db, const ExportKind& kind);

// Streams the rows of `kind` that match `query` to `writer` (header, rows,
// finish) from one snapshot. Throws Error(Exit::usage) for an unknown field
// or sort key or --from/--to on a kind without a time, Error(Exit::not_found)
// when the kind's table does not exist, and database errors as Error.
void export_rows(Database& db, const ExportKind& kind, const ExportQuery& query, RowWriter& writer);

// A RowWriter of vCard 3.0, one card per contact row; it reads the columns
// by their contact field names (`tags`, `attr.*` become CATEGORIES and
// X-CRM- properties). Lines end in CRLF and are folded at 75 octets.
std::unique_ptr<RowWriter> make_vcard_writer(std::ostream& out);

// An output file that appears whole or not at all: written to a temporary
// file (mode 0600) in the target's folder and renamed onto `path` by
// commit(). Destroyed uncommitted, it removes the temporary file.
class AtomicFile {
public:
  // Throws Error(Exit::cant_create) if the temporary file cannot be made.
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return m_stream; }
  // Flushes, syncs and renames; throws Error(Exit::io) on a write error.
  void commit();

private:
  std::filesystem::path m_path;
  std::filesystem::path m_temp;
  std::ofstream m_stream;
  bool m_committed = false;
};

} // namespace crm
