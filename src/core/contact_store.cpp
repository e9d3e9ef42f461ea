#include "contact_store.hpp"

#include <crm/error.hpp>
#include <crm/json.hpp>
#include <crm/normalize.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <unordered_map>

namespace crm {

namespace {

// The fixed fields in output order; `member` is null for id and the stamps.
const std::array<FieldInfo, 17> k_fields = {{
    {"id", FieldKind::id, nullptr},
    {"external_id", FieldKind::text, &Contact::external_id},
    {"email", FieldKind::email, &Contact::email},
    {"phone", FieldKind::phone, &Contact::phone},
    {"first_name", FieldKind::text, &Contact::first_name},
    {"last_name", FieldKind::text, &Contact::last_name},
    {"company", FieldKind::text, &Contact::company},
    {"street", FieldKind::text, &Contact::street},
    {"postcode", FieldKind::text, &Contact::postcode},
    {"city", FieldKind::text, &Contact::city},
    {"country", FieldKind::country, &Contact::country},
    {"birthdate", FieldKind::date, &Contact::birthdate},
    {"stage", FieldKind::text, &Contact::stage},
    {"owner", FieldKind::text, &Contact::owner},
    {"source", FieldKind::text, &Contact::source},
    {"created_at", FieldKind::stamp, nullptr},
    {"updated_at", FieldKind::stamp, nullptr},
}};

const std::array<std::string_view, 17> k_field_names = [] {
  std::array<std::string_view, 17> names{};
  for (std::size_t i = 0; i < k_fields.size(); ++i)
    names[i] = k_fields[i].name;
  return names;
}();

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

// Binds without a copy: `v` outlives the statement's next step (the caller's
// contact), so SQLite may read it where it is.
void bind_optional(SQLite::Statement& s, int index, const std::optional<std::string>& v) {
  if (v)
    s.bindNoCopy(index, *v);
  else
    s.bind(index);
}

// Binds the 16 writable columns of `c`, from external_id to source, at 1..16.
void bind_fields(SQLite::Statement& s, const Contact& c, const std::string* email_key = nullptr) {
  bind_optional(s, 1, c.external_id);
  bind_optional(s, 2, c.email);
  if (c.email && email_key)
    s.bindNoCopy(3, *email_key);
  else if (c.email)
    s.bind(3, email_match_key(*c.email)); // a temporary: copied
  else
    s.bind(3);
  bind_optional(s, 4, c.phone);
  bind_optional(s, 5, c.first_name);
  bind_optional(s, 6, c.last_name);
  bind_optional(s, 7, c.company);
  bind_optional(s, 8, c.street);
  bind_optional(s, 9, c.postcode);
  bind_optional(s, 10, c.city);
  bind_optional(s, 11, c.country);
  bind_optional(s, 12, c.birthdate);
  bind_optional(s, 13, c.stage);
  bind_optional(s, 14, c.owner);
  bind_optional(s, 15, c.source);
  s.bindNoCopy(16, c.updated_at);
}

std::optional<std::int64_t> first_id(SQLite::Statement& s) {
  std::optional<std::int64_t> id;
  if (s.executeStep())
    id = s.getColumn(0).getInt64();
  s.reset();
  s.clearBindings();
  return id;
}

} // namespace

bool valid_attr_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
  });
}

std::span<const FieldInfo> field_table() { return k_fields; }

std::span<const std::string_view> field_names() { return k_field_names; }

const FieldInfo* field_info(std::string_view name) {
  for (const auto& f : k_fields)
    if (f.name == name)
      return &f;
  return nullptr;
}

void merge_attrs(std::vector<std::pair<std::string, std::string>>& attrs,
                 std::vector<std::pair<std::string, std::optional<std::string>>> updates) {
  // By key, the last update of a key last; then only the last one counts.
  std::stable_sort(updates.begin(), updates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(attrs.size() + updates.size());
  auto old = attrs.begin();
  for (auto u = updates.begin(); u != updates.end(); ++u) {
    if (std::next(u) != updates.end() && std::next(u)->first == u->first)
      continue;
    for (; old != attrs.end() && old->first < u->first; ++old)
      out.push_back(std::move(*old));
    if (old != attrs.end() && old->first == u->first)
      ++old;
    if (u->second)
      out.emplace_back(std::move(u->first), std::move(*u->second));
  }
  std::move(old, attrs.end(), std::back_inserter(out));
  attrs = std::move(out);
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
      case FieldKind::email:
        normalised = normalize_email_display(*value);
        break;
      case FieldKind::phone:
        phone_given = true;
        new_phone = *value;
        continue;
      case FieldKind::country:
        normalised = normalize_country(*value);
        break;
      case FieldKind::date:
        normalised = normalize_date(*value, name);
        break;
      default: {
        auto text = normalize_text(*value, name);
        if (!text.empty())
          normalised = std::move(text);
      }
      }
    } else if (info->kind == FieldKind::phone) {
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
  if (!changes.attrs.empty()) {
    // Normalised first, then merged in one pass: a row may carry 100k of them.
    std::vector<std::pair<std::string, std::optional<std::string>>> updates;
    updates.reserve(changes.attrs.size());
    std::string what; // "attribute 'key'", the name in errors: one buffer for all values
    for (const auto& [key, value] : changes.attrs) {
      if (!valid_attr_key(key))
        throw Error(Exit::data, fmt::format("invalid attribute name '{}'", key),
                    "use letters, digits, '_', '-' and '.'");
      std::string text;
      if (value) {
        what.assign("attribute '").append(key).append("'");
        text = normalize_text(*value, what);
      }
      updates.emplace_back(key, text.empty() ? std::nullopt : std::optional(std::move(text)));
    }
    merge_attrs(c.attrs, std::move(updates));
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
  // Each key's value before and after (the first of a repeated key), in key
  // order; one pass over each side, as a contact may carry 100k attributes.
  std::map<std::string, std::pair<std::optional<std::string>, std::optional<std::string>>> values;
  for (const auto& [k, v] : before.attrs)
    if (auto& slot = values[k].first; !slot)
      slot = v;
  for (const auto& [k, v] : after.attrs)
    if (auto& slot = values[k].second; !slot)
      slot = v;
  for (const auto& [k, value] : values)
    if (value.first != value.second)
      add_pair("attr." + k, value.first, value.second);
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

ContactWriter::ContactWriter(Database& db)
    : m_db(db),
      m_insert(db.sql(), "INSERT INTO contact (external_id, email, email_norm, phone, first_name, "
                         "last_name, company, street, postcode, city, country, birthdate, stage, "
                         "owner, source, updated_at, created_at, stage_manual) VALUES (?, ?, ?, ?, "
                         "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      m_update(db.sql(),
               "UPDATE contact SET external_id = ?, email = ?, email_norm = ?, phone = ?, "
               "first_name = ?, last_name = ?, company = ?, street = ?, postcode = ?, "
               "city = ?, country = ?, birthdate = ?, stage = ?, owner = ?, source = ?, "
               "updated_at = ?, stage_manual = CASE WHEN ? THEN 1 ELSE stage_manual END "
               "WHERE id = ?"),
      m_history(db.sql(), "INSERT INTO history (contact_id, at, action, source, detail) VALUES (?, "
                          "?, ?, ?, ?)"),
      m_attr_set(db.sql(), "INSERT INTO contact_attr (contact_id, key, value) VALUES (?, ?, ?) ON "
                           "CONFLICT (contact_id, key) DO UPDATE SET value = excluded.value"),
      m_attr_delete(db.sql(), "DELETE FROM contact_attr WHERE contact_id = ? AND key = ?"),
      m_tag_add(db.sql(), "INSERT INTO contact_tag (contact_id, tag) VALUES (?, ?)"),
      m_tag_delete(db.sql(), "DELETE FROM contact_tag WHERE contact_id = ? AND tag = ?"),
      m_by_email(db.sql(), "SELECT id FROM contact WHERE email_norm = ? AND id != ? ORDER BY id "
                           "LIMIT 1"),
      m_by_external_id(db.sql(), "SELECT id FROM contact WHERE external_id = ? AND id != ?"),
      m_by_phone(db.sql(),
                 "SELECT id FROM contact WHERE phone = ? AND id != ? ORDER BY id LIMIT 1") {}

void ContactWriter::insert(Contact& c, bool stage_manual, const std::string* email_key) {
  bind_fields(m_insert, c, email_key);
  m_insert.bindNoCopy(17, c.created_at);
  m_insert.bind(18, stage_manual ? 1 : 0);
  try {
    m_insert.exec();
  } catch (...) {
    // Ready for the next row: a caller may refuse this one and go on.
    m_insert.tryReset();
    throw;
  }
  c.id = m_db.sql().getLastInsertRowid();
  m_insert.reset();
  Contact none;
  none.id = c.id;
  update_attrs_and_tags(none, c);
}

void ContactWriter::update(const Contact& before, const Contact& after, bool stage_set) {
  bind_fields(m_update, after);
  m_update.bind(17, stage_set ? 1 : 0);
  m_update.bind(18, after.id);
  m_update.exec();
  m_update.reset();
  update_attrs_and_tags(before, after);
}

void ContactWriter::update_attrs_and_tags(const Contact& before, const Contact& after) {
  auto run = [](SQLite::Statement& s) {
    s.exec();
    s.reset();
  };
  if (before.attrs.empty() && before.tags.empty()) {
    // A new contact (or one without any): everything is added, no lookups.
    for (const auto& [k, v] : after.attrs) {
      m_attr_set.bind(1, after.id);
      m_attr_set.bindNoCopy(2, k);
      m_attr_set.bindNoCopy(3, v);
      run(m_attr_set);
    }
    for (const auto& t : after.tags) {
      m_tag_add.bind(1, after.id);
      m_tag_add.bindNoCopy(2, t);
      run(m_tag_add);
    }
    return;
  }
  // Each side's attributes by key (the first of a repeated key): a contact
  // may carry 100k of them.
  auto by_key = [](const Contact& c) {
    std::unordered_map<std::string_view, std::string_view> out;
    out.reserve(c.attrs.size());
    for (const auto& [k, v] : c.attrs)
      out.emplace(k, v);
    return out;
  };
  const auto before_values = by_key(before);
  const auto after_values = by_key(after);
  for (const auto& [k, v] : before.attrs) {
    if (!after_values.contains(k)) {
      m_attr_delete.bind(1, after.id);
      m_attr_delete.bindNoCopy(2, k);
      run(m_attr_delete);
    }
  }
  for (const auto& [k, v] : after.attrs) {
    if (auto it = before_values.find(k); it != before_values.end() && it->second == v)
      continue;
    m_attr_set.bind(1, after.id);
    m_attr_set.bindNoCopy(2, k);
    m_attr_set.bindNoCopy(3, v);
    run(m_attr_set);
  }
  for (const auto& t : before.tags) {
    if (!std::binary_search(after.tags.begin(), after.tags.end(), t)) {
      m_tag_delete.bind(1, after.id);
      m_tag_delete.bindNoCopy(2, t);
      run(m_tag_delete);
    }
  }
  for (const auto& t : after.tags) {
    if (!std::binary_search(before.tags.begin(), before.tags.end(), t)) {
      m_tag_add.bind(1, after.id);
      m_tag_add.bindNoCopy(2, t);
      run(m_tag_add);
    }
  }
}

void ContactWriter::history(std::int64_t id, const WriteContext& ctx, std::string_view action,
                            const std::string& detail) {
  history(id, format_time(ctx.now), ctx.source, action, detail);
}

void ContactWriter::history(std::int64_t id, const std::string& at, const std::string& source,
                            std::string_view action, const std::string& detail) {
  m_history.bind(1, id);
  m_history.bindNoCopy(2, at);
  m_history.bind(3, std::string(action));
  m_history.bindNoCopy(4, source);
  if (detail.empty())
    m_history.bind(5);
  else
    m_history.bindNoCopy(5, detail);
  m_history.exec();
  m_history.reset();
}

std::optional<std::int64_t> ContactWriter::owner_of_email(const std::string& match_key,
                                                          std::int64_t except) {
  m_by_email.bindNoCopy(1, match_key);
  m_by_email.bind(2, except);
  return first_id(m_by_email);
}

std::optional<std::int64_t> ContactWriter::owner_of_external_id(const std::string& id,
                                                                std::int64_t except) {
  m_by_external_id.bindNoCopy(1, id);
  m_by_external_id.bind(2, except);
  return first_id(m_by_external_id);
}

std::optional<std::int64_t> ContactWriter::owner_of_phone(const std::string& e164,
                                                          std::int64_t except) {
  m_by_phone.bindNoCopy(1, e164);
  m_by_phone.bind(2, except);
  return first_id(m_by_phone);
}

void ContactWriter::check_unique(const Contact& c, Unique what) {
  if (c.email && what != Unique::external_id) {
    if (auto owner = owner_of_email(email_match_key(*c.email), c.id))
      throw Error(Exit::data,
                  fmt::format("email '{}' already belongs to contact {}", *c.email, *owner),
                  fmt::format("change that contact with 'crm contact update {}'", *owner));
  }
  if (c.external_id && what != Unique::email) {
    if (auto owner = owner_of_external_id(*c.external_id, c.id))
      throw Error(Exit::data, fmt::format("external id '{}' already belongs to contact {}",
                                          *c.external_id, *owner));
  }
}

} // namespace crm
