#include <crm/subject.hpp>

#include <crm/contacts.hpp>
#include <crm/error.hpp>
#include <crm/export.hpp>
#include <crm/json.hpp>
#include <crm/personal_data.hpp>

#include <fmt/format.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cmath>
#include <set>

namespace crm {

namespace {

void append_value(std::string& out, const SQLite::Column& c) {
  if (c.isNull()) {
    out += "null";
  } else if (c.isInteger()) {
    out += std::to_string(c.getInt64());
  } else if (c.isFloat()) {
    double d = c.getDouble();
    out += std::isfinite(d) ? fmt::format("{}", d) : std::string("null");
  } else if (c.isBlob()) {
    out += json_string(fmt::format("<{} bytes>", c.getBytes()));
  } else {
    append_json_string(out, c.getString());
  }
}

// The rows of `sql` (one bound id, used `binds` times) as a JSON array of
// objects.
void append_rows(std::string& out, Database& db, const std::string& sql, std::int64_t id,
                 int binds) {
  SQLite::Statement q(db.sql(), sql);
  for (int i = 1; i <= binds; ++i)
    q.bind(i, id);
  out += '[';
  bool first_row = true;
  while (q.executeStep()) {
    out += first_row ? "\n    {" : ",\n    {";
    first_row = false;
    for (int i = 0; i < q.getColumnCount(); ++i) {
      if (i > 0)
        out += ',';
      append_json_string(out, q.getColumnName(i));
      out += ':';
      append_value(out, q.getColumn(i));
    }
    out += '}';
  }
  out += first_row ? "]" : "\n  ]";
}

} // namespace

std::string subject_document(Database& db, std::int64_t id, std::span<const Purpose> purposes,
                             TimePoint now) {
  std::string out;
  db.read([&] {
    auto contact = find_contact(db, id);
    if (!contact)
      throw Error(Exit::not_found, fmt::format("no contact {}", id));
    out += "{\n\"generated_at\":" + json_string(format_time(now));
    out += ",\n\"contact\":{";
    out += "\"id\":" + std::to_string(contact->id);
    for (auto name : contact_fields()) {
      if (name == "id")
        continue;
      out += ',';
      append_json_string(out, name);
      out += ':';
      auto v = contact_field(*contact, name);
      out += v ? json_string(*v) : "null";
    }
    out += ",\"tags\":[";
    for (std::size_t i = 0; i < contact->tags.size(); ++i)
      out += (i ? "," : "") + json_string(contact->tags[i]);
    out += "],\"attributes\":{";
    for (std::size_t i = 0; i < contact->attrs.size(); ++i)
      out += (i ? "," : "") + json_string(contact->attrs[i].first) + ":" +
             json_string(contact->attrs[i].second);
    out += "}}";

    std::vector<ConsentEntry> entries;
    if (table_exists(db, "consent"))
      entries = consent_entries(db, id);
    auto states = consent_states(purposes, entries, now);
    out += ",\n\"purposes\":[";
    std::set<std::string> granted;
    for (std::size_t i = 0; i < states.size(); ++i) {
      const auto& s = states[i];
      if (s.allowed())
        granted.insert(s.purpose);
      auto opt = [](const std::optional<std::string>& v) { return v ? json_string(*v) : "null"; };
      out += fmt::format("{}\n  {{\"purpose\":{},\"channel\":{},\"state\":{},\"since\":{},"
                         "\"until\":{},\"source\":{}}}",
                         i ? "," : "", json_string(s.purpose), opt(s.channel), json_string(s.state),
                         opt(s.since), opt(s.until), opt(s.source));
    }
    out += "],\n\"processed_for\":[\"contact management\"";
    for (const auto& p : granted)
      out += "," + json_string(p);
    out += "],\n\"data\":{";
    // Each registered table once; a table with two contact columns (pairs
    // of contacts) gives the rows that name the contact in either.
    std::vector<std::string> tables;
    for (const auto& t : personal_tables()) {
      std::string name(t.table);
      if (std::find(tables.begin(), tables.end(), name) != tables.end())
        continue;
      tables.push_back(name);
      std::string where;
      int binds = 0;
      for (const auto& u : personal_tables())
        if (u.table == t.table) {
          where += fmt::format("{}{} = ?", binds ? " OR " : "", u.contact_column);
          ++binds;
        }
      // Table and column names come from the registry, never from input.
      out += fmt::format("{}\n  {}:", tables.size() > 1 ? "," : "", json_string(name));
      append_rows(out, db, fmt::format("SELECT * FROM {} WHERE {} ORDER BY 1", name, where), id,
                  binds);
    }
    out += "}\n}\n";
  });
  return out;
}

} // namespace crm
