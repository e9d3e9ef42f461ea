#include <crm/error.hpp>
#include <crm/export.hpp>

#include <SQLiteCpp/Statement.h>
#include <fmt/core.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace crm {

namespace {

// A column of one export, with what it needs bound (an attribute's key).
struct Resolved {
  std::string name;
  std::string sql;
  ColumnType type = ColumnType::text;
  std::optional<std::string> bound;
};

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"')
      out += '"';
    out += ch;
  }
  return out + "\"";
}

// The table's own columns, for kinds whose shape is not fixed here.
std::vector<Resolved> table_columns(Database& db, std::string_view table) {
  std::vector<Resolved> columns;
  SQLite::Statement s(db.sql(), "SELECT name, type FROM pragma_table_info(?)");
  s.bind(1, std::string(table));
  while (s.executeStep()) {
    Resolved r;
    r.name = s.getColumn(0).getString();
    r.sql = "x." + quote_identifier(r.name);
    std::string type = s.getColumn(1).getString();
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    if (type.find("INT") != std::string::npos)
      r.type = ColumnType::integer;
    else if (type.find("REAL") != std::string::npos || type.find("FLOA") != std::string::npos)
      r.type = ColumnType::real;
    columns.push_back(std::move(r));
  }
  return columns;
}

std::vector<Resolved> kind_columns(Database& db, const ExportKind& kind) {
  if (kind.columns.empty())
    return table_columns(db, kind.table);
  std::vector<Resolved> columns;
  for (const auto& c : kind.columns)
    columns.push_back({std::string(c.name), std::string(c.sql), c.type, std::nullopt});
  return columns;
}

Resolved attr_column(std::string key) {
  Resolved r;
  r.name = "attr." + key;
  r.sql = "(SELECT a.value FROM contact_attr a WHERE a.contact_id = c.id AND a.key = ?)";
  r.bound = std::move(key);
  return r;
}

std::vector<Resolved> chosen_columns(Database& db, const ExportKind& kind,
                                     const std::vector<std::string>& fields) {
  auto all = kind_columns(db, kind);
  if (fields.empty())
    return all;
  std::vector<Resolved> chosen;
  for (const auto& name : fields) {
    if (kind.contacts && name == "attr.*") {
      for (auto& key : attribute_keys(db))
        chosen.push_back(attr_column(std::move(key)));
      continue;
    }
    if (kind.contacts && name.starts_with("attr.") && name.size() > 5) {
      chosen.push_back(attr_column(name.substr(5)));
      continue;
    }
    auto it =
        std::find_if(all.begin(), all.end(), [&](const Resolved& r) { return r.name == name; });
    if (it == all.end())
      throw Error(Exit::usage, fmt::format("unknown field '{}' for {}", name, kind.name),
                  fmt::format("'crm export {} --fields help' lists them", kind.name));
    chosen.push_back(*it);
  }
  return chosen;
}

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

void bind_value(sqlite3_stmt* s, int index, const SqlValue& value) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>)
          sqlite3_bind_null(s, index);
        else if constexpr (std::is_same_v<V, std::int64_t>)
          sqlite3_bind_int64(s, index, v);
        else if constexpr (std::is_same_v<V, double>)
          sqlite3_bind_double(s, index, v);
        else
          sqlite3_bind_text(s, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      },
      value);
}

[[noreturn]] void throw_step_error(sqlite3* handle, int rc, std::string_view kind) {
  int primary = rc & 0xff;
  Exit code = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? Exit::temp_fail : Exit::io;
  throw Error(code, fmt::format("cannot export {}: {}", kind, sqlite3_errmsg(handle)));
}

// Sets `cell` to a text, reusing the string it holds.
void set_text(Cell& cell, const char* data, std::size_t size) {
  if (auto* s = std::get_if<std::string>(&cell))
    s->assign(data, size);
  else
    cell.emplace<std::string>(data, size);
}

void set_tags(Cell& cell, const char* data, std::size_t size) {
  auto* list = std::get_if<StringList>(&cell);
  if (list == nullptr)
    list = &cell.emplace<StringList>();
  list->clear();
  std::string_view text(data, size);
  while (true) {
    auto end = text.find('\x1f');
    list->emplace_back(text.substr(0, end));
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  std::sort(list->begin(), list->end());
}

void read_cell(sqlite3_stmt* s, int i, ColumnType type, Cell& cell) {
  int sql_type = sqlite3_column_type(s, i);
  if (sql_type == SQLITE_NULL) {
    if (type == ColumnType::tags) {
      auto* list = std::get_if<StringList>(&cell);
      if (list == nullptr)
        list = &cell.emplace<StringList>();
      list->clear();
    } else {
      cell.emplace<std::monostate>();
    }
    return;
  }
  switch (type) {
  case ColumnType::integer:
    if (sql_type == SQLITE_INTEGER) {
      cell = static_cast<std::int64_t>(sqlite3_column_int64(s, i));
      return;
    }
    break;
  case ColumnType::real:
    if (sql_type == SQLITE_INTEGER || sql_type == SQLITE_FLOAT) {
      cell = sqlite3_column_double(s, i);
      return;
    }
    break;
  case ColumnType::money:
    if (sql_type == SQLITE_INTEGER) {
      cell = Money{sqlite3_column_int64(s, i)};
      return;
    }
    break;
  case ColumnType::tags: {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    set_tags(cell, text, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
    return;
  }
  case ColumnType::text:
    break;
  }
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  set_text(cell, text, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

std::vector<SortKey> check_sort(const std::vector<SortKey>& sort, const std::vector<Resolved>& all,
                                const ExportKind& kind, std::vector<std::string>& order) {
  for (const auto& key : sort) {
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const Resolved& r) { return r.name == key.field; });
    if (it == all.end() || it->type == ColumnType::tags)
      throw Error(Exit::usage, fmt::format("cannot sort {} by '{}'", kind.name, key.field),
                  fmt::format("'crm export {} --fields help' lists the fields", kind.name));
    order.push_back(it->sql + (key.descending ? " DESC" : ""));
  }
  return sort;
}

} // namespace

bool table_exists(Database& db, std::string_view name) {
  SQLite::Statement s(db.sql(),
                      "SELECT 1 FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?");
  s.bind(1, std::string(name));
  return s.executeStep();
}

void require_kind(Database& db, const ExportKind& kind) {
  if (!table_exists(db, kind.table))
    throw Error(
        Exit::not_found,
        fmt::format("no {} in this database yet: it has no table '{}'", kind.name, kind.table),
        "this kind comes with a capability this database was not made with");
}

std::vector<std::string> export_field_names(Database& db, const ExportKind& kind) {
  require_kind(db, kind);
  std::vector<std::string> names;
  for (const auto& c : kind_columns(db, kind))
    names.push_back(c.name);
  if (kind.contacts) {
    names.emplace_back("attr.NAME");
    names.emplace_back("attr.*");
  }
  return names;
}

void export_rows(Database& db, const ExportKind& kind, const ExportQuery& query,
                 RowWriter& writer) {
  require_kind(db, kind);
  db.read([&] {
    auto all = kind_columns(db, kind);
    auto columns = chosen_columns(db, kind, query.fields);
    std::vector<SqlValue> params;
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += i > 0 ? ", " : "";
      sql += columns[i].sql;
      if (columns[i].bound)
        params.emplace_back(*columns[i].bound);
    }
    sql += " FROM ";
    sql += kind.from;
    std::vector<std::string> conditions;
    if (query.where) {
      if (!kind.contacts) {
        bool has_contact = std::any_of(all.begin(), all.end(),
                                       [](const Resolved& r) { return r.name == "contact_id"; });
        if (!has_contact)
          throw Error(Exit::usage,
                      fmt::format("--where filters contacts; {} do not belong to one", kind.name));
        sql += " JOIN contact c ON c.id = x.contact_id";
      }
      conditions.push_back("(" + query.where->sql + ")");
      params.insert(params.end(), query.where->params.begin(), query.where->params.end());
    }
    if (query.from || query.to) {
      bool has_time = !kind.time_column.empty() &&
                      std::any_of(all.begin(), all.end(),
                                  [&](const Resolved& r) { return r.name == kind.time_column; });
      if (!has_time)
        throw Error(Exit::usage, fmt::format("{} have no time for --from/--to", kind.name));
      std::string column = fmt::format("{}.{}", kind.contacts ? "c" : "x", kind.time_column);
      if (query.from) {
        conditions.push_back(column + " >= ?");
        params.emplace_back(format_time(*query.from));
      }
      if (query.to) {
        conditions.push_back(column + " < ?");
        params.emplace_back(format_time(*query.to));
      }
    }
    for (std::size_t i = 0; i < conditions.size(); ++i)
      sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
    std::vector<std::string> order;
    check_sort(query.sort, all, kind, order);
    if (!kind.order.empty())
      order.emplace_back(kind.order);
    for (std::size_t i = 0; i < order.size(); ++i)
      sql += (i == 0 ? " ORDER BY " : ", ") + order[i];
    if (query.limit) {
      sql += " LIMIT ?";
      params.emplace_back(*query.limit);
    }

    sqlite3* handle = db.sql().getHandle();
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(handle, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
    StatementPtr statement(raw);
    if (rc != SQLITE_OK)
      throw_step_error(handle, rc, kind.name);
    for (std::size_t i = 0; i < params.size(); ++i)
      bind_value(raw, static_cast<int>(i + 1), params[i]);

    std::vector<std::string> names;
    for (const auto& c : columns)
      names.push_back(c.name);
    writer.header(names);
    std::vector<Cell> cells(columns.size());
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      for (std::size_t i = 0; i < columns.size(); ++i)
        read_cell(raw, static_cast<int>(i), columns[i].type, cells[i]);
      writer.row(cells);
    }
    if (rc != SQLITE_DONE)
      throw_step_error(handle, rc, kind.name);
    writer.finish();
  });
}

AtomicFile::AtomicFile(std::filesystem::path path) : m_path(std::move(path)) {
  auto folder = m_path.parent_path();
  std::string pattern = (folder.empty() ? std::filesystem::path(".") : folder) /
                        ("." + m_path.filename().string() + ".XXXXXX");
  int fd = ::mkstemp(pattern.data());
  if (fd < 0)
    throw Error(Exit::cant_create,
                fmt::format("cannot create '{}': {}", m_path.string(), std::strerror(errno)));
  ::fchmod(fd, 0600);
  ::close(fd);
  m_temp = pattern;
  m_stream.open(m_temp, std::ios::binary | std::ios::trunc);
  if (!m_stream) {
    std::error_code ignored;
    std::filesystem::remove(m_temp, ignored);
    throw Error(Exit::cant_create, fmt::format("cannot create '{}'", m_path.string()));
  }
}

AtomicFile::~AtomicFile() {
  if (!m_committed) {
    m_stream.close();
    std::error_code ignored;
    std::filesystem::remove(m_temp, ignored);
  }
}

void AtomicFile::commit() {
  m_stream.flush();
  bool good = static_cast<bool>(m_stream);
  m_stream.close();
  if (!good || m_stream.fail())
    throw Error(Exit::io, fmt::format("cannot write '{}'", m_path.string()));
  int fd = ::open(m_temp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (std::rename(m_temp.c_str(), m_path.c_str()) != 0)
    throw Error(Exit::cant_create,
                fmt::format("cannot create '{}': {}", m_path.string(), std::strerror(errno)));
  m_committed = true;
}

} // namespace crm
