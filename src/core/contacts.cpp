#include <crm/contacts.hpp>
#include <crm/error.hpp>
#include <crm/json.hpp>
#include <crm/normalize.hpp>
#include <crm/personal_data.hpp>

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

enum class Kind { id, text, email, phone, country, date, stamp };

struct FieldInfo {
  std::string_view name;
  Kind kind;
  std::optional<std::string> Contact::*member;
};

// The fixed fields in output order; `member` is null for id and the stamps.
const std::array<FieldInfo, 17> k_fields = {{
    {"id", Kind::id, nullptr},
    {"external_id", Kind::text, &Contact::external_id},
    {"email", Kind::email, &Contact::email},
    {"phone", Kind::phone, &Contact::phone},
    {"first_name", Kind::text, &Contact::first_name},
    {"last_name", Kind::text, &Contact::last_name},
    {"company", Kind::text, &Contact::company},
    {"street", Kind::text, &Contact::street},
    {"postcode", Kind::text, &Contact::postcode},
    {"city", Kind::text, &Contact::city},
    {"country", Kind::country, &Contact::country},
    {"birthdate", Kind::date, &Contact::birthdate},
    {"stage", Kind::text, &Contact::stage},
    {"owner", Kind::text, &Contact::owner},
    {"source", Kind::text, &Contact::source},
    {"created_at", Kind::stamp, nullptr},
    {"updated_at", Kind::stamp, nullptr},
}};

const std::array<std::string_view, 17> k_field_names = [] {
  std::array<std::string_view, 17> names{};
  for (std::size_t i = 0; i < k_fields.size(); ++i)
    names[i] = k_fields[i].name;
  return names;
}();

const FieldInfo* field_info(std::string_view name) {
  for (const auto& f : k_fields)
    if (f.name == name)
      return &f;
  return nullptr;
}

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
    c.*(k_fields[i].member) = optional_text(s.getColumn(static_cast<int>(i)));
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

bool valid_attr_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
  });
}

std::string normalize_tag(std::string_view tag) {
  std::string t = normalize_text(tag, "tag");
  if (t.empty())
    throw Error(Exit::data, "invalid tag '': empty");
  if (t.find_first_of("\t\r\n") != std::string::npos)
    throw Error(Exit::data, "invalid tag: contains a tab or line break");
  if (t.find(';') != std::string::npos)
    throw Error(Exit::data, fmt::format("invalid tag '{}': contains ';'", t),
                "';' separates tags in text output");
  return t;
}

// Applies `changes` to `c`, normalising every value; phone numbers are read
// with the contact's own country as region, else `default_country`.
void apply_changes(Contact& c, const ContactChanges& changes, std::string_view default_country,
                   bool& stage_set) {
  std::optional<std::string> new_phone;
  bool phone_given = false;
  for (const auto& [name, value] : changes.fields) {
    const FieldInfo* info = field_info(name);
    if (info == nullptr)
      throw Error(Exit::data, fmt::format("unknown field '{}'", name),
                  "fields: external_id, email, phone, first_name, last_name, company, street, "
                  "postcode, city, country, birthdate, stage, owner, source");
    if (info->member == nullptr)
      throw Error(Exit::data, fmt::format("field '{}' cannot be set", name));
    std::optional<std::string> normalised;
    if (value && !value->empty()) {
      switch (info->kind) {
      case Kind::email:
        normalised = normalize_email_display(*value);
        break;
      case Kind::phone:
        phone_given = true;
        new_phone = *value;
        continue;
      case Kind::country:
        normalised = normalize_country(*value);
        break;
      case Kind::date:
        normalised = normalize_date(*value, name);
        break;
      default: {
        auto text = normalize_text(*value, name);
        if (!text.empty())
          normalised = std::move(text);
      }
      }
    } else if (info->kind == Kind::phone) {
      phone_given = true;
      new_phone.reset();
      continue;
    }
    if (info->member == &Contact::stage)
      stage_set = true;
    c.*(info->member) = std::move(normalised);
  }
  if (phone_given) {
    if (new_phone)
      c.phone = normalize_phone(*new_phone, c.country ? *c.country : default_country);
    else
      c.phone.reset();
  }
  for (const auto& [key, value] : changes.attrs) {
    if (!valid_attr_key(key))
      throw Error(Exit::data, fmt::format("invalid attribute name '{}'", key),
                  "use letters, digits, '_', '-' and '.'");
    auto it =
        std::lower_bound(c.attrs.begin(), c.attrs.end(), key,
                         [](const auto& pair, const std::string& k) { return pair.first < k; });
    bool present = it != c.attrs.end() && it->first == key;
    std::string text = value ? normalize_text(*value, fmt::format("attribute '{}'", key)) : "";
    if (text.empty()) {
      if (present)
        c.attrs.erase(it);
    } else if (present) {
      it->second = std::move(text);
    } else {
      c.attrs.insert(it, {key, std::move(text)});
    }
  }
  for (const auto& tag : changes.add_tags) {
    auto t = normalize_tag(tag);
    auto it = std::lower_bound(c.tags.begin(), c.tags.end(), t);
    if (it == c.tags.end() || *it != t)
      c.tags.insert(it, std::move(t));
  }
  for (const auto& tag : changes.remove_tags) {
    auto t = normalize_tag(tag);
    auto it = std::lower_bound(c.tags.begin(), c.tags.end(), t);
    if (it != c.tags.end() && *it == t)
      c.tags.erase(it);
  }
}

void append_json_value(std::string& out, const std::optional<std::string>& v) {
  if (v)
    append_json_string(out, *v);
  else
    out += "null";
}

void append_json_list(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
}

std::optional<std::string> attr_value(const Contact& c, const std::string& key) {
  for (const auto& [k, v] : c.attrs)
    if (k == key)
      return v;
  return std::nullopt;
}

// The history detail of a change from `before` to `after` as a JSON object
// {"field": [old, new], "attr.key": [old, new], "tags": {"added": [...],
// "removed": [...]}}; empty if nothing changed.
std::string change_detail(const Contact& before, const Contact& after) {
  std::string out;
  auto add_pair = [&](std::string_view key, const std::optional<std::string>& old_value,
                      const std::optional<std::string>& new_value) {
    out += out.empty() ? "{" : ",";
    append_json_string(out, key);
    out += ":[";
    append_json_value(out, old_value);
    out += ',';
    append_json_value(out, new_value);
    out += ']';
  };
  for (const auto& f : k_fields)
    if (f.member != nullptr && before.*(f.member) != after.*(f.member))
      add_pair(f.name, before.*(f.member), after.*(f.member));
  std::map<std::string, int> keys;
  for (const auto& [k, v] : before.attrs)
    keys[k];
  for (const auto& [k, v] : after.attrs)
    keys[k];
  for (const auto& [k, unused] : keys) {
    auto old_value = attr_value(before, k);
    auto new_value = attr_value(after, k);
    if (old_value != new_value)
      add_pair("attr." + k, old_value, new_value);
  }
  std::vector<std::string> added, removed;
  std::set_difference(after.tags.begin(), after.tags.end(), before.tags.begin(), before.tags.end(),
                      std::back_inserter(added));
  std::set_difference(before.tags.begin(), before.tags.end(), after.tags.begin(), after.tags.end(),
                      std::back_inserter(removed));
  if (!added.empty() || !removed.empty()) {
    out += out.empty() ? "{" : ",";
    out += "\"tags\":{";
    if (!added.empty()) {
      out += "\"added\":";
      append_json_list(out, added);
    }
    if (!removed.empty()) {
      out += added.empty() ? "\"removed\":" : ",\"removed\":";
      append_json_list(out, removed);
    }
    out += '}';
  }
  if (!out.empty())
    out += '}';
  return out;
}

void record_history(Database& db, std::int64_t id, const WriteContext& ctx, std::string_view action,
                    const std::string& detail) {
  SQLite::Statement insert(db.sql(), "INSERT INTO history (contact_id, at, action, source, detail) "
                                     "VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, static_cast<std::int64_t>(id));
  insert.bind(2, format_time(ctx.now));
  insert.bind(3, std::string(action));
  insert.bind(4, ctx.source);
  if (detail.empty())
    insert.bind(5);
  else
    insert.bind(5, detail);
  insert.exec();
}

void bind_optional(SQLite::Statement& s, int index, const std::optional<std::string>& v) {
  if (v)
    s.bind(index, *v);
  else
    s.bind(index);
}

// Refuses an email or external id that belongs to another contact.
void check_unique(Database& db, const Contact& c) {
  if (c.email) {
    SQLite::Statement q(db.sql(),
                        "SELECT id FROM contact WHERE email_norm = ? AND id != ? LIMIT 1");
    q.bind(1, email_match_key(*c.email));
    q.bind(2, static_cast<std::int64_t>(c.id));
    if (q.executeStep())
      throw Error(Exit::data,
                  fmt::format("email '{}' already belongs to contact {}", *c.email,
                              q.getColumn(0).getInt64()),
                  fmt::format("change that contact with 'crm contact update {}'",
                              q.getColumn(0).getInt64()));
  }
  if (c.external_id) {
    SQLite::Statement q(db.sql(), "SELECT id FROM contact WHERE external_id = ? AND id != ?");
    q.bind(1, *c.external_id);
    q.bind(2, static_cast<std::int64_t>(c.id));
    if (q.executeStep())
      throw Error(Exit::data, fmt::format("external id '{}' already belongs to contact {}",
                                          *c.external_id, q.getColumn(0).getInt64()));
  }
}

void write_attrs_and_tags(Database& db, const Contact& before, const Contact& after) {
  for (const auto& [k, v] : before.attrs) {
    if (!attr_value(after, k)) {
      SQLite::Statement del(db.sql(), "DELETE FROM contact_attr WHERE contact_id = ? AND key = ?");
      del.bind(1, static_cast<std::int64_t>(after.id));
      del.bind(2, k);
      del.exec();
    }
  }
  for (const auto& [k, v] : after.attrs) {
    if (attr_value(before, k) == v)
      continue;
    SQLite::Statement up(db.sql(),
                         "INSERT INTO contact_attr (contact_id, key, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (contact_id, key) DO UPDATE SET value = excluded.value");
    up.bind(1, static_cast<std::int64_t>(after.id));
    up.bind(2, k);
    up.bind(3, v);
    up.exec();
  }
  for (const auto& t : before.tags) {
    if (!std::binary_search(after.tags.begin(), after.tags.end(), t)) {
      SQLite::Statement del(db.sql(), "DELETE FROM contact_tag WHERE contact_id = ? AND tag = ?");
      del.bind(1, static_cast<std::int64_t>(after.id));
      del.bind(2, t);
      del.exec();
    }
  }
  for (const auto& t : after.tags) {
    if (!std::binary_search(before.tags.begin(), before.tags.end(), t)) {
      SQLite::Statement ins(db.sql(), "INSERT INTO contact_tag (contact_id, tag) VALUES (?, ?)");
      ins.bind(1, static_cast<std::int64_t>(after.id));
      ins.bind(2, t);
      ins.exec();
    }
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

std::span<const std::string_view> contact_fields() { return k_field_names; }

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

std::int64_t add_contact(Database& db, const ContactChanges& changes, const WriteContext& ctx) {
  Contact empty;
  Contact c;
  bool stage_set = false;
  apply_changes(c, changes, ctx.default_country, stage_set);
  c.created_at = c.updated_at = format_time(ctx.now);
  try {
    db.write([&] {
      check_unique(db, c);
      SQLite::Statement insert(
          db.sql(),
          "INSERT INTO contact (external_id, email, email_norm, phone, first_name, last_name, "
          "company, street, postcode, city, country, birthdate, stage, stage_manual, owner, "
          "source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?) RETURNING id");
      bind_optional(insert, 1, c.external_id);
      bind_optional(insert, 2, c.email);
      bind_optional(insert, 3,
                    c.email ? std::optional<std::string>(email_match_key(*c.email)) : std::nullopt);
      bind_optional(insert, 4, c.phone);
      bind_optional(insert, 5, c.first_name);
      bind_optional(insert, 6, c.last_name);
      bind_optional(insert, 7, c.company);
      bind_optional(insert, 8, c.street);
      bind_optional(insert, 9, c.postcode);
      bind_optional(insert, 10, c.city);
      bind_optional(insert, 11, c.country);
      bind_optional(insert, 12, c.birthdate);
      bind_optional(insert, 13, c.stage);
      insert.bind(14, stage_set && c.stage ? 1 : 0);
      bind_optional(insert, 15, c.owner);
      bind_optional(insert, 16, c.source);
      insert.bind(17, c.created_at);
      insert.bind(18, c.updated_at);
      insert.executeStep();
      c.id = insert.getColumn(0).getInt64();
      empty.id = c.id;
      write_attrs_and_tags(db, empty, c);
      record_history(db, c.id, ctx, "add", change_detail(empty, c));
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
        check_unique(db, after);
        after.updated_at = format_time(ctx.now);
        SQLite::Statement update(
            db.sql(), "UPDATE contact SET external_id = ?, email = ?, email_norm = ?, phone = ?, "
                      "first_name = ?, last_name = ?, company = ?, street = ?, postcode = ?, "
                      "city = ?, country = ?, birthdate = ?, stage = ?, owner = ?, source = ?, "
                      "updated_at = ?, stage_manual = CASE WHEN ? THEN 1 ELSE stage_manual END "
                      "WHERE id = ?");
        bind_optional(update, 1, after.external_id);
        bind_optional(update, 2, after.email);
        bind_optional(update, 3,
                      after.email ? std::optional<std::string>(email_match_key(*after.email))
                                  : std::nullopt);
        bind_optional(update, 4, after.phone);
        bind_optional(update, 5, after.first_name);
        bind_optional(update, 6, after.last_name);
        bind_optional(update, 7, after.company);
        bind_optional(update, 8, after.street);
        bind_optional(update, 9, after.postcode);
        bind_optional(update, 10, after.city);
        bind_optional(update, 11, after.country);
        bind_optional(update, 12, after.birthdate);
        bind_optional(update, 13, after.stage);
        bind_optional(update, 14, after.owner);
        bind_optional(update, 15, after.source);
        update.bind(16, after.updated_at);
        update.bind(17, stage_set ? 1 : 0);
        update.bind(18, static_cast<std::int64_t>(id));
        update.exec();
        write_attrs_and_tags(db, *before, after);
        record_history(db, id, ctx, action_for(changes), detail);
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
        record_history(db, id, ctx, "note", detail);
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
        for (const auto& table : personal_tables()) {
          SQLite::Statement del(db.sql(), fmt::format("DELETE FROM {} WHERE {} = ?", table.table,
                                                      table.contact_column));
          del.bind(1, static_cast<std::int64_t>(id));
          del.exec();
        }
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

std::optional<Contact> find_contact(Database& db, std::int64_t id) {
  try {
    SQLite::Statement q(db.sql(), fmt::format("SELECT {}{} FROM contact c WHERE c.id = ?",
                                              k_select_columns, k_attr_column));
    q.bind(1, static_cast<std::int64_t>(id));
    if (!q.executeStep())
      return std::nullopt;
    Contact c;
    read_contact(q, true, c);
    return c;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot read contact");
  }
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
      sql +=
          info->kind == Kind::email ? std::string("c.email_norm") : fmt::format("c.{}", info->name);
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
    SQLite::Statement q(db.sql(), "SELECT id, contact_id, at, action, source, detail FROM history "
                                  "WHERE contact_id = ? ORDER BY id");
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
