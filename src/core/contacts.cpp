#include <crm/contacts.hpp>
#include <crm/erase.hpp>
#include <crm/error.hpp>
#include <crm/json.hpp>
#include <crm/normalize.hpp>
#include <crm/personal_data.hpp>

#include "contact_store.hpp"
#include "fts_rank.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <istream>
#include <map>

namespace crm {

namespace {

constexpr std::string_view k_select_columns =
    "c.id, c.external_id, c.email, c.phone, c.first_name, c.last_name, c.company, c.street, "
    "c.postcode, c.city, c.country, c.birthdate, c.stage, c.owner, c.source, c.created_at, "
    "c.updated_at, (SELECT group_concat(t.tag, char(31)) FROM contact_tag t WHERE t.contact_id "
    "= c.id)";
constexpr std::string_view k_attr_column =
    ", (SELECT group_concat(a.key || char(31) || a.value, char(30)) FROM contact_attr a WHERE "
    "a.contact_id = c.id)";

std::optional<std::string> optional_text(const SQLite::Column& column) {
  if (column.isNull())
    return std::nullopt;
  return column.getString();
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return parts;
}

// Reads a row selected with k_select_columns (and k_attr_column if asked).
void read_contact(SQLite::Statement& s, bool with_attrs, Contact& c) {
  c.id = s.getColumn(0).getInt64();
  for (std::size_t i = 1; i < 15; ++i)
    c.*(field_table()[i].member) = optional_text(s.getColumn(static_cast<int>(i)));
  c.created_at = s.getColumn(15).getString();
  c.updated_at = s.getColumn(16).getString();
  c.tags.clear();
  if (!s.getColumn(17).isNull())
    c.tags = split(s.getColumn(17).getString(), '\x1f');
  c.attrs.clear();
  if (with_attrs && !s.getColumn(18).isNull()) {
    for (auto& pair : split(s.getColumn(18).getString(), '\x1e')) {
      auto cut = pair.find('\x1f');
      c.attrs.emplace_back(pair.substr(0, cut), pair.substr(cut + 1));
    }
    std::sort(c.attrs.begin(), c.attrs.end());
  }
}

std::string_view action_for(const ContactChanges& changes) {
  bool only_tags = changes.fields.empty() && changes.attrs.empty();
  if (only_tags && changes.remove_tags.empty())
    return "tag";
  if (only_tags && changes.add_tags.empty())
    return "untag";
  return "update";
}

} // namespace

std::span<const std::string_view> contact_fields() { return field_names(); }

std::optional<std::string> contact_field(const Contact& c, std::string_view name) {
  if (name == "id")
    return std::to_string(c.id);
  if (name == "created_at")
    return c.created_at;
  if (name == "updated_at")
    return c.updated_at;
  const FieldInfo* info = field_info(name);
  if (info == nullptr || info->member == nullptr)
    return std::nullopt;
  return c.*(info->member);
}

namespace {

// Refuses an email or phone that belongs to an erased person (SPEC.md
// section 7), unless the write allows it; `before` is null for a new contact.
void check_not_erased(Database& db, const Contact* before, const Contact& after,
                      const WriteContext& ctx) {
  if (ctx.allow_erased)
    return;
  std::optional<std::string> email, phone;
  if (after.email && (!before || before->email != after.email))
    email = email_match_key(*after.email);
  if (after.phone && (!before || before->phone != after.phone))
    phone = after.phone;
  if (!email && !phone)
    return;
  Suppression suppression(db);
  if (suppression.erased(email, std::nullopt))
    throw Error(Exit::data, fmt::format("email '{}': {}", *after.email, Suppression::reason),
                "this person was erased; --allow-erased lets them in again");
  if (suppression.erased(std::nullopt, phone))
    throw Error(Exit::data, fmt::format("phone '{}': {}", *after.phone, Suppression::reason),
                "this person was erased; --allow-erased lets them in again");
}

} // namespace

std::int64_t add_contact(Database& db, const ContactChanges& changes, const WriteContext& ctx) {
  Contact c;
  bool stage_set = false;
  apply_changes(c, changes, ctx.default_country, stage_set);
  c.created_at = c.updated_at = format_time(ctx.now);
  try {
    db.write([&] {
      ContactWriter writer(db);
      writer.check_unique(c);
      check_not_erased(db, nullptr, c, ctx);
      writer.insert(c, stage_set && c.stage);
      Contact none;
      writer.history(c.id, ctx, "add", change_detail(none, c));
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot add contact");
  }
  return c.id;
}

std::size_t update_contacts(Database& db, std::span<const std::int64_t> ids,
                            const ContactChanges& changes, const WriteContext& ctx) {
  std::size_t changed = 0;
  try {
    db.write([&] {
      ContactWriter writer(db);
      for (auto id : ids) {
        auto before = find_contact(db, id);
        if (!before)
          throw Error(Exit::not_found, fmt::format("no contact {}", id));
        Contact after = *before;
        bool stage_set = false;
        apply_changes(after, changes, ctx.default_country, stage_set);
        std::string detail = change_detail(*before, after);
        if (detail.empty())
          continue;
        writer.check_unique(after);
        check_not_erased(db, &*before, after, ctx);
        after.updated_at = format_time(ctx.now);
        writer.update(*before, after, stage_set);
        writer.history(id, ctx, action_for(changes), detail);
        ++changed;
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot update contact");
  }
  return changed;
}

void add_note(Database& db, std::span<const std::int64_t> ids, std::string_view text,
              const WriteContext& ctx) {
  std::string body = normalize_text(text, "note");
  if (body.empty())
    throw Error(Exit::data, "invalid note: empty");
  try {
    db.write([&] {
      ContactWriter writer(db);
      for (auto id : ids) {
        SQLite::Statement insert(
            db.sql(), "INSERT INTO note (contact_id, body, created_at) VALUES (?, ?, ?)");
        insert.bind(1, static_cast<std::int64_t>(id));
        insert.bind(2, body);
        insert.bind(3, format_time(ctx.now));
        insert.exec();
        std::string detail = "{\"note\":";
        append_json_string(detail, body);
        detail += '}';
        writer.history(id, ctx, "note", detail);
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot add note");
  }
}

void delete_contacts(Database& db, std::span<const std::int64_t> ids, Force force) {
  try {
    db.write([&] {
      for (auto id : ids) {
        if (force == Force::no) {
          for (const auto& table : personal_tables()) {
            if (table.blocks_delete == BlocksDelete::no)
              continue;
            // Table and column names come from the registry, never from input.
            SQLite::Statement count(db.sql(), fmt::format("SELECT count(*) FROM {} WHERE {} = ?",
                                                          table.table, table.contact_column));
            count.bind(1, static_cast<std::int64_t>(id));
            count.executeStep();
            if (auto n = count.getColumn(0).getInt64(); n > 0)
              throw Error(Exit::data,
                          fmt::format("cannot delete contact {}: it has history ({} rows in {})",
                                      id, n, table.table),
                          "use --force to delete it with its history, or 'crm contact erase' "
                          "for a GDPR erasure");
          }
        }
        remove_personal_rows(db, id);
        SQLite::Statement del(db.sql(), "DELETE FROM contact WHERE id = ?");
        del.bind(1, static_cast<std::int64_t>(id));
        if (del.exec() == 0)
          throw Error(Exit::not_found, fmt::format("no contact {}", id));
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot delete contact");
  }
}

ContactLookup::ContactLookup(Database& db)
    : m_query(db.sql(), fmt::format("SELECT {}{} FROM contact c WHERE c.id = ?", k_select_columns,
                                    k_attr_column)) {}

std::optional<Contact> ContactLookup::find(std::int64_t id) {
  try {
    m_query.bind(1, static_cast<std::int64_t>(id));
    std::optional<Contact> found;
    if (m_query.executeStep()) {
      found.emplace();
      read_contact(m_query, true, *found);
    }
    m_query.reset();
    return found;
  } catch (const std::exception& e) {
    m_query.tryReset();
    throw_sqlite_error(e, "cannot read contact");
  }
}

std::optional<Contact> find_contact(Database& db, std::int64_t id) {
  std::optional<ContactLookup> lookup;
  try {
    lookup.emplace(db);
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot read contact");
  }
  return lookup->find(id);
}

std::optional<std::int64_t> resolve_ref(Database& db, std::string_view ref,
                                        std::string_view default_country) {
  auto one = [&](std::string_view sql, const std::string& value,
                 std::string_view what) -> std::optional<std::int64_t> {
    SQLite::Statement q(db.sql(), std::string(sql));
    q.bind(1, value);
    std::vector<std::int64_t> ids;
    while (q.executeStep() && ids.size() < 5)
      ids.push_back(q.getColumn(0).getInt64());
    if (ids.empty())
      return std::nullopt;
    if (ids.size() > 1) {
      std::string list;
      for (auto id : ids)
        list += fmt::format("{}{}", list.empty() ? "" : ", ", id);
      throw Error(
          Exit::data,
          fmt::format("{} '{}' matches several contacts ({})", what, std::string(ref), list),
          "name the contact by its id");
    }
    return ids.front();
  };
  try {
    if (!ref.empty() &&
        std::all_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      if (ref.size() > 18)
        return std::nullopt;
      SQLite::Statement q(db.sql(), "SELECT id FROM contact WHERE id = ?");
      q.bind(1, static_cast<std::int64_t>(std::stoll(std::string(ref))));
      if (q.executeStep())
        return q.getColumn(0).getInt64();
      return std::nullopt;
    }
    if (ref.starts_with("ext:"))
      return one("SELECT id FROM contact WHERE external_id = ?",
                 normalize_text(ref.substr(4), "external id"), "external id");
    if (ref.starts_with("tel:"))
      return one("SELECT id FROM contact WHERE phone = ?",
                 normalize_phone(ref.substr(4), default_country), "phone");
    if (ref.find('@') != std::string_view::npos)
      return one("SELECT id FROM contact WHERE email_norm = ?",
                 email_match_key(normalize_text(ref, "email")), "email");
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot find contact");
  }
  throw Error(Exit::data, fmt::format("invalid contact reference '{}'", std::string(ref)),
              "use an id (42), an email, ext:EXTERNAL_ID or tel:PHONE");
}

std::vector<std::string> read_refs(std::istream& in) {
  std::vector<std::string> refs;
  std::string line;
  std::string kind; // from the header: id, email or external_id
  bool first = true;
  std::size_t number = 0;
  simdjson::dom::parser parser;
  auto as_ref = [](std::string_view kind_name, std::string value) {
    if (kind_name == "external_id")
      return "ext:" + value;
    return value;
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (first && line.starts_with("\xEF\xBB\xBF"))
      line.erase(0, 3);
    std::string_view text = line;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
      text.remove_prefix(1);
    if (text.empty())
      continue;
    if (text.front() == '{') {
      simdjson::padded_string padded(text);
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object())
        throw Error(Exit::data, fmt::format("stdin:{}: not a JSON object", number));
      bool found = false;
      for (std::string_view key : {"id", "contact_id", "email", "external_id"}) {
        simdjson::dom::element value;
        if (doc[key].get(value) != simdjson::SUCCESS || value.is_null())
          continue;
        std::string text_value;
        if (value.is_int64())
          text_value = std::to_string(value.get_int64().value());
        else if (value.is_uint64())
          text_value = std::to_string(value.get_uint64().value());
        else if (value.is_string())
          text_value = std::string(value.get_string().value());
        else
          throw Error(Exit::data,
                      fmt::format("stdin:{}: '{}' is neither a number nor a string", number, key));
        refs.push_back(as_ref(key, std::move(text_value)));
        found = true;
        break;
      }
      if (!found)
        throw Error(Exit::data,
                    fmt::format("stdin:{}: the object has no id, contact_id, email or external_id",
                                number));
      first = false;
      continue;
    }
    std::string cell;
    if (text.front() == '"') {
      std::size_t i = 1;
      for (; i < text.size(); ++i) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell += '"';
            ++i;
            continue;
          }
          break;
        }
        cell += text[i];
      }
    } else {
      auto end = text.find_first_of("\t,;");
      cell = std::string(text.substr(0, end));
      while (!cell.empty() && cell.back() == ' ')
        cell.pop_back();
    }
    if (first) {
      first = false;
      std::string lower;
      for (char c : cell)
        lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      if (lower == "id" || lower == "contact_id" || lower == "email" || lower == "external_id") {
        kind = lower;
        continue;
      }
    }
    if (cell.empty())
      throw Error(Exit::data, fmt::format("stdin:{}: empty reference", number));
    refs.push_back(as_ref(kind, std::move(cell)));
  }
  return refs;
}

std::vector<SortKey> parse_sort(std::string_view spec) {
  std::vector<SortKey> keys;
  for (auto& part : split(spec, ',')) {
    SortKey key;
    std::string_view name = part;
    if (name.starts_with('-')) {
      key.descending = true;
      name.remove_prefix(1);
    } else if (name.starts_with('+')) {
      name.remove_prefix(1);
    }
    bool attr = name.starts_with("attr.") && valid_attr_key(name.substr(5));
    if (!attr && (field_info(name) == nullptr))
      throw Error(Exit::usage, fmt::format("cannot sort by '{}': no such field", std::string(name)),
                  "sort by a contact field or attr.NAME; --fields help lists them");
    key.field = std::string(name);
    keys.push_back(std::move(key));
  }
  return keys;
}

void list_contacts(Database& db, const ListQuery& query,
                   const std::function<void(const Contact&)>& row) {
  std::string sql = fmt::format("SELECT {}{} FROM contact c", k_select_columns,
                                query.with_attrs ? k_attr_column : "");
  std::vector<SqlValue> params;
  if (query.where) {
    sql += " WHERE " + query.where->sql;
    params = query.where->params;
  }
  sql += " ORDER BY ";
  for (const auto& key : query.sort) {
    if (key.field.starts_with("attr.")) {
      sql += "(SELECT a.value FROM contact_attr a WHERE a.contact_id = c.id AND a.key = ?)";
      params.emplace_back(key.field.substr(5));
    } else {
      // Only names from the fixed field table reach here (parse_sort).
      const FieldInfo* info = field_info(key.field);
      assert(info != nullptr);
      sql += info->kind == FieldKind::email ? std::string("c.email_norm")
                                            : fmt::format("c.{}", info->name);
    }
    sql += key.descending ? " DESC, " : ", ";
  }
  sql += "c.id";
  if (query.limit) {
    sql += " LIMIT ?";
    params.emplace_back(*query.limit);
  }
  try {
    db.read([&] {
      SQLite::Statement q(db.sql(), sql);
      bind_all(q, params);
      Contact c;
      while (q.executeStep()) {
        read_contact(q, query.with_attrs, c);
        row(c);
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot list contacts");
  }
}

std::vector<std::string> attribute_keys(Database& db) {
  std::vector<std::string> keys;
  try {
    SQLite::Statement q(db.sql(), "SELECT DISTINCT key FROM contact_attr ORDER BY key");
    while (q.executeStep())
      keys.push_back(q.getColumn(0).getString());
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot read attribute names");
  }
  return keys;
}

void search_contacts(Database& db, std::string_view text, std::int64_t limit,
                     const std::function<void(const Contact&)>& row) {
  // Each word becomes a quoted prefix term, so no character of the search
  // text is read as FTS5 query syntax.
  std::string match;
  std::string word;
  auto flush = [&] {
    if (word.empty())
      return;
    match += match.empty() ? "\"" : " \"";
    match += word;
    match += "\"*";
    word.clear();
  };
  std::string normalised = normalize_text(text, "search text");
  for (char ch : normalised) {
    auto u = static_cast<unsigned char>(ch);
    bool word_char = u >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= 'A' && ch <= 'Z');
    if (word_char)
      word += ch;
    else
      flush();
  }
  flush();
  if (match.empty())
    throw Error(Exit::usage, "search needs at least one letter or digit");
  // Rank in the index alone, then read the few contacts that are shown.
  std::string sql = fmt::format(
      "SELECT {} FROM (SELECT rowid AS id, crm_rank(contact_fts, 10.0, 5.0, 3.0, 2.0, 1.0) AS "
      "score FROM contact_fts WHERE contact_fts MATCH ? ORDER BY score DESC, rowid{}) m JOIN "
      "contact c ON c.id = m.id ORDER BY m.score DESC, c.id",
      k_select_columns, limit > 0 ? " LIMIT ?" : "");
  try {
    register_fts_rank(db.sql().getHandle());
    db.read([&] {
      SQLite::Statement q(db.sql(), sql);
      q.bind(1, match);
      if (limit > 0)
        q.bind(2, static_cast<std::int64_t>(limit));
      Contact c;
      while (q.executeStep()) {
        read_contact(q, false, c);
        row(c);
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot search contacts");
  }
}

std::vector<HistoryEntry> contact_history(Database& db, std::int64_t id) {
  std::vector<HistoryEntry> entries;
  try {
    // Consent ledger entries are part of the history as they are: the
    // ledger is append-only, so they are read from it, not written twice.
    SQLite::Statement q(
        db.sql(),
        "SELECT id, contact_id, at, action, source, detail FROM ("
        " SELECT id, contact_id, at, action, source, detail, 0 AS kind FROM history"
        " WHERE contact_id = ?1"
        " UNION ALL"
        " SELECT id, contact_id, recorded_at, 'consent.' || action, source,"
        "  json_object('entry', id, 'purpose', purpose, 'channel', channel, 'at', at,"
        "              'proof', proof), 1 FROM consent WHERE contact_id = ?1)"
        " ORDER BY at, kind, id");
    q.bind(1, static_cast<std::int64_t>(id));
    while (q.executeStep())
      entries.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                         q.getColumn(2).getString(), q.getColumn(3).getString(),
                         optional_text(q.getColumn(4)), optional_text(q.getColumn(5))});
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot read history");
  }
  return entries;
}

} // namespace crm
