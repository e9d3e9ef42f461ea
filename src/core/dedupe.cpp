// crm contact dedupe and merge: candidate duplicate groups by email, phone
// and similar names, and merging contacts by the personal-data registry.

#include <crm/dedupe.hpp>
#include <crm/error.hpp>
#include <crm/json.hpp>
#include <crm/personal_data.hpp>

#include "contact_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/core.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <unordered_map>
#include <utility>

namespace crm {

namespace {

// Names this alike (Jaro-Winkler of the folded first and last name) with
// the same postcode or company are candidates.
constexpr double k_name_threshold = 0.92;
// A block (same postcode or company, same first three letters of the last
// name and first letter of the first name) with more contacts than this is
// too common to be evidence; its pairs are not compared.
constexpr std::size_t k_max_block = 100;

std::u32string code_points(std::string_view s) {
  std::u32string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  auto left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0)
      break;
    out.push_back(static_cast<char32_t>(cp));
    p += n;
    left -= n;
  }
  return out;
}

// Union-find over contact ids.
class Groups {
public:
  std::int64_t find(std::int64_t x) {
    auto it = m_parent.find(x);
    if (it == m_parent.end()) {
      m_parent.emplace(x, x);
      return x;
    }
    if (it->second == x)
      return x;
    auto root = find(it->second);
    m_parent[x] = root;
    return root;
  }
  void join(std::int64_t a, std::int64_t b) {
    a = find(a);
    b = find(b);
    if (a != b)
      m_parent[std::max(a, b)] = std::min(a, b);
  }
  const std::unordered_map<std::int64_t, std::int64_t>& members() const { return m_parent; }

private:
  std::unordered_map<std::int64_t, std::int64_t> m_parent;
};

// Receives each link as it is found: links are not kept, since common
// names in one place could make millions of them.
using LinkSink = std::function<void(std::int64_t a, std::int64_t b, const char* rule, double score)>;

std::pair<std::int64_t, std::int64_t> ordered(std::int64_t a, std::int64_t b) {
  return a < b ? std::pair{a, b} : std::pair{b, a};
}

// Links between contacts that share the value of an indexed column.
void same_value_links(Database& db, const char* column, const char* rule, const LinkSink& link) {
  // The column name is one of two constants, never input.
  SQLite::Statement q(db.sql(), fmt::format("SELECT {0}, id FROM contact WHERE {0} IN (SELECT {0} "
                                            "FROM contact WHERE {0} IS NOT NULL GROUP BY {0} "
                                            "HAVING count(*) > 1) ORDER BY {0}, id",
                                            column));
  std::string last;
  std::int64_t first = 0;
  while (q.executeStep()) {
    std::string value = q.getColumn(0).getString();
    std::int64_t id = q.getColumn(1).getInt64();
    if (value == last && first != 0) {
      link(first, id, rule, 1.0);
    } else {
      last = value;
      first = id;
    }
  }
}

// Links between contacts with alike names and the same postcode or company.
// Each contact goes into two blocks (by postcode and by company), kept as
// 64-bit hashes and sorted, so memory stays small at a million contacts;
// pairs are compared within a block only.
void name_links(Database& db, const LinkSink& link) {
  struct Entry {
    std::uint64_t block;
    std::uint32_t person; // index into people
  };
  struct Person {
    std::int64_t id;
    std::uint32_t name_at, name_size; // in names
  };
  std::vector<Entry> entries;
  std::vector<Person> people;
  std::string names;
  SQLite::Statement q(db.sql(), "SELECT id, first_name, last_name, postcode, company FROM contact "
                                "WHERE last_name IS NOT NULL AND (postcode IS NOT NULL OR "
                                "company IS NOT NULL)");
  std::hash<std::string> hash;
  while (q.executeStep()) {
    std::string first = fold_name(q.getColumn(1).isNull() ? "" : q.getColumn(1).getString());
    std::string last = fold_name(q.getColumn(2).getString());
    if (last.empty())
      continue;
    auto prefix = [](const std::string& text, std::size_t n) {
      auto cps = code_points(text);
      std::string out;
      for (std::size_t i = 0; i < cps.size() && i < n; ++i) {
        utf8proc_uint8_t buffer[4];
        auto len = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cps[i]), buffer);
        out.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(len));
      }
      return out;
    };
    std::string name_key = prefix(last, 3) + '\x1f' + prefix(first, 1);
    auto person = static_cast<std::uint32_t>(people.size());
    bool placed = false;
    for (int column : {3, 4}) {
      if (q.getColumn(column).isNull())
        continue;
      std::string place = fold_name(q.getColumn(column).getString());
      if (place.empty())
        continue;
      entries.push_back(
          {hash(std::string(column == 3 ? "p" : "c") + '\x1f' + place + '\x1f' + name_key),
           person});
      placed = true;
    }
    if (!placed)
      continue;
    std::string name = first + ' ' + last;
    people.push_back({q.getColumn(0).getInt64(), static_cast<std::uint32_t>(names.size()),
                      static_cast<std::uint32_t>(name.size())});
    names += name;
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.block != b.block ? a.block < b.block : a.person < b.person;
  });
  auto name_of = [&](const Person& p) {
    return std::string_view(names).substr(p.name_at, p.name_size);
  };
  for (std::size_t start = 0; start < entries.size();) {
    std::size_t end = start;
    while (end < entries.size() && entries[end].block == entries[start].block)
      ++end;
    std::size_t size = end - start;
    if (size >= 2 && size <= k_max_block) {
      for (std::size_t i = start; i < end; ++i)
        for (std::size_t j = i + 1; j < end; ++j) {
          const Person& a = people[entries[i].person];
          const Person& b = people[entries[j].person];
          double score = jaro_winkler(name_of(a), name_of(b));
          if (score >= k_name_threshold)
            link(a.id, b.id, "name", score);
        }
    }
    start = end;
  }
}

struct Candidate {
  std::int64_t id;
  std::string created_at;
  int filled;
  DuplicateMember member; // the display fields
};

// What the survivor rules need of a contact: its creation time, and how
// many fields, attributes and tags it has set.
class Candidates {
public:
  explicit Candidates(Database& db)
      : m_query(db.sql(), candidate_sql()) {}
  Candidate operator()(std::int64_t id) {
    m_query.bind(1, id);
    if (!m_query.executeStep())
      throw Error(Exit::internal, fmt::format("contact {} vanished while deduplicating", id));
    Candidate c{id, m_query.getColumn(0).getString(), m_query.getColumn(1).getInt(), {}};
    auto text = [&](int i) {
      return m_query.getColumn(i).isNull() ? std::nullopt
                                           : std::optional(m_query.getColumn(i).getString());
    };
    c.member.id = id;
    c.member.first_name = text(2);
    c.member.last_name = text(3);
    c.member.email = text(4);
    c.member.phone = text(5);
    c.member.postcode = text(6);
    c.member.company = text(7);
    m_query.reset();
    return c;
  }

private:
  static std::string candidate_sql() {
    std::string filled;
    for (const auto& f : field_table())
      if (f.member != nullptr)
        filled += fmt::format("({} IS NOT NULL) + ", f.name);
    return fmt::format("SELECT created_at, {}(SELECT count(*) FROM contact_attr WHERE contact_id "
                       "= c.id) + (SELECT count(*) FROM contact_tag WHERE contact_id = c.id), "
                       "first_name, last_name, email, phone, postcode, company "
                       "FROM contact c WHERE id = ?",
                       filled);
  }
  SQLite::Statement m_query;
};

std::int64_t pick_survivor(std::vector<Candidate> members, Survivor survivor) {
  auto older = [](const Candidate& a, const Candidate& b) {
    return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
  };
  switch (survivor) {
  case Survivor::oldest:
    return std::min_element(members.begin(), members.end(), older)->id;
  case Survivor::newest:
    return std::max_element(members.begin(), members.end(), older)->id;
  case Survivor::most_complete:
    return std::min_element(members.begin(), members.end(),
                            [&](const Candidate& a, const Candidate& b) {
                              if (a.filled != b.filled)
                                return a.filled > b.filled;
                              return older(a, b);
                            })
        ->id;
  }
  return members.front().id;
}

void require_contact(Database& db, std::int64_t id) {
  SQLite::Statement q(db.sql(), "SELECT 1 FROM contact WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep())
    throw Error(Exit::not_found, fmt::format("no contact {}", id));
}

} // namespace

std::optional<Survivor> parse_survivor(std::string_view name) {
  if (name == "oldest")
    return Survivor::oldest;
  if (name == "newest")
    return Survivor::newest;
  if (name == "most_complete")
    return Survivor::most_complete;
  return std::nullopt;
}

std::string fold_name(std::string_view name) {
  utf8proc_uint8_t* folded = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(name.data()),
                        static_cast<utf8proc_ssize_t>(name.size()), &folded,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                       UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK));
  if (n < 0)
    return {};
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(folded, &std::free);
  std::string out;
  bool space = false;
  const utf8proc_uint8_t* p = folded;
  auto left = n;
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    auto len = utf8proc_iterate(p, left, &cp);
    if (len <= 0)
      break;
    auto category = utf8proc_category(cp);
    bool letter = (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
                  (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
    if (letter) {
      if (space && !out.empty())
        out.push_back(' ');
      space = false;
      out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(len));
    } else {
      space = true;
    }
    p += len;
    left -= len;
  }
  return out;
}

double jaro_winkler(std::string_view a_text, std::string_view b_text) {
  auto a = code_points(a_text);
  auto b = code_points(b_text);
  if (a.empty() && b.empty())
    return 1.0;
  if (a.empty() || b.empty())
    return 0.0;
  std::size_t window = std::max(a.size(), b.size()) / 2;
  window = window > 0 ? window - 1 : 0;
  std::vector<bool> a_match(a.size()), b_match(b.size());
  std::size_t matches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::size_t from = i > window ? i - window : 0;
    std::size_t to = std::min(b.size(), i + window + 1);
    for (std::size_t j = from; j < to; ++j)
      if (!b_match[j] && a[i] == b[j]) {
        a_match[i] = b_match[j] = true;
        ++matches;
        break;
      }
  }
  if (matches == 0)
    return 0.0;
  std::size_t transpositions = 0;
  for (std::size_t i = 0, j = 0; i < a.size(); ++i) {
    if (!a_match[i])
      continue;
    while (!b_match[j])
      ++j;
    if (a[i] != b[j])
      ++transpositions;
    ++j;
  }
  double m = static_cast<double>(matches);
  double jaro = (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) +
                 (m - static_cast<double>(transpositions) / 2.0) / m) /
                3.0;
  std::size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix])
    ++prefix;
  return jaro + static_cast<double>(prefix) * 0.1 * (1.0 - jaro);
}

std::vector<DuplicateGroup> find_duplicates(Database& db, Survivor survivor) {
  std::vector<DuplicateGroup> out;
  try {
    db.read([&] {
      std::set<std::pair<std::int64_t, std::int64_t>> ignored;
      SQLite::Statement q(db.sql(), "SELECT contact_a, contact_b FROM dedupe_ignore");
      while (q.executeStep())
        ignored.emplace(q.getColumn(0).getInt64(), q.getColumn(1).getInt64());
      Groups groups;
      // The strongest link of each contact: email and phone before name.
      std::unordered_map<std::int64_t, std::pair<const char*, double>> best;
      auto strength = [](const char* rule, double score) {
        return std::string_view(rule) == "name" ? score : 2.0;
      };
      LinkSink link = [&](std::int64_t a, std::int64_t b, const char* rule, double score) {
        if (!ignored.empty() && ignored.count(ordered(a, b)))
          return;
        groups.join(a, b);
        for (auto id : {a, b}) {
          auto it = best.find(id);
          if (it == best.end())
            best.emplace(id, std::pair{rule, score});
          else if (strength(rule, score) > strength(it->second.first, it->second.second))
            it->second = {rule, score};
        }
      };
      same_value_links(db, "email_norm", "email", link);
      same_value_links(db, "phone", "phone", link);
      name_links(db, link);
      Candidates candidate_of(db);
      std::map<std::int64_t, std::vector<std::int64_t>> by_root;
      for (const auto& [id, parent] : groups.members())
        by_root[groups.find(id)].push_back(id);
      for (auto& [root, ids] : by_root) {
        std::sort(ids.begin(), ids.end());
        std::vector<Candidate> candidates;
        for (auto id : ids)
          candidates.push_back(candidate_of(id));
        auto keep = pick_survivor(candidates, survivor);
        DuplicateGroup group;
        for (bool survivor_first : {true, false})
          for (auto& c : candidates) {
            if ((c.id == keep) != survivor_first)
              continue;
            DuplicateMember m = std::move(c.member);
            m.keep = c.id == keep;
            m.rule = best[c.id].first;
            m.score = best[c.id].second;
            group.members.push_back(std::move(m));
          }
        out.push_back(std::move(group));
      }
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot find duplicates");
  }
  std::sort(out.begin(), out.end(), [](const DuplicateGroup& a, const DuplicateGroup& b) {
    return a.members.front().id < b.members.front().id;
  });
  return out;
}

void ignore_duplicate(Database& db, std::int64_t a, std::int64_t b, const WriteContext& ctx) {
  if (a == b)
    throw Error(Exit::usage, fmt::format("--ignore: {} and {} are the same contact", a, b));
  try {
    db.write([&] {
      require_contact(db, a);
      require_contact(db, b);
      auto [low, high] = ordered(a, b);
      SQLite::Statement insert(db.sql(), "INSERT OR IGNORE INTO dedupe_ignore (contact_a, "
                                         "contact_b, at) VALUES (?, ?, ?)");
      insert.bind(1, low);
      insert.bind(2, high);
      insert.bind(3, format_time(ctx.now));
      if (insert.exec() == 0)
        return;
      ContactWriter writer(db);
      for (auto [self, other] : {std::pair{low, high}, std::pair{high, low}})
        writer.history(self, ctx, "not-duplicate", fmt::format(R"({{"contact":{}}})", other));
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot mark contacts as not duplicates");
  }
}

void merge_contacts(Database& db, std::int64_t keep, std::span<const std::int64_t> duplicates,
                    const WriteContext& ctx) {
  std::set<std::int64_t> seen;
  for (auto id : duplicates) {
    if (id == keep)
      throw Error(Exit::usage, fmt::format("cannot merge contact {} into itself", keep));
    if (!seen.insert(id).second)
      throw Error(Exit::usage, fmt::format("contact {} is named twice", id));
  }
  if (duplicates.empty())
    throw Error(Exit::usage, "merge: name at least one duplicate after the contact to keep");
  try {
    db.write([&] {
      auto before = find_contact(db, keep);
      if (!before)
        throw Error(Exit::not_found, fmt::format("no contact {}", keep));
      Contact merged = *before;
      for (auto id : duplicates) {
        auto dup = find_contact(db, id);
        if (!dup)
          throw Error(Exit::not_found, fmt::format("no contact {}", id));
        for (const auto& f : field_table())
          if (f.member != nullptr && !(merged.*(f.member)) && (*dup).*(f.member))
            merged.*(f.member) = (*dup).*(f.member);
        for (const auto& attr : dup->attrs) {
          auto it = std::lower_bound(
              merged.attrs.begin(), merged.attrs.end(), attr.first,
              [](const auto& pair, const std::string& key) { return pair.first < key; });
          if (it == merged.attrs.end() || it->first != attr.first)
            merged.attrs.insert(it, attr);
        }
        for (const auto& tag : dup->tags) {
          auto it = std::lower_bound(merged.tags.begin(), merged.tags.end(), tag);
          if (it == merged.tags.end() || *it != tag)
            merged.tags.insert(it, tag);
        }
        // Table and column names come from the registry, never from input.
        for (const auto& t : personal_tables()) {
          if (t.on_merge == OnMerge::move) {
            SQLite::Statement move(db.sql(), fmt::format("UPDATE OR IGNORE {0} SET {1} = ? WHERE "
                                                         "{1} = ?",
                                                         t.table, t.contact_column));
            move.bind(1, keep);
            move.bind(2, id);
            move.exec();
          }
          if (t.on_merge == OnMerge::custom) {
            if (t.merge != nullptr)
              t.merge(db, keep, id, ctx);
            continue;
          }
          // What could not move (it would repeat a row of `keep`), and what
          // is dropped (attributes and tags were merged above as fields).
          SQLite::Statement drop(
              db.sql(), fmt::format("DELETE FROM {} WHERE {} = ?", t.table, t.contact_column));
          drop.bind(1, id);
          drop.exec();
        }
        SQLite::Statement del(db.sql(), "DELETE FROM contact WHERE id = ?");
        del.bind(1, id);
        del.exec();
      }
      ContactWriter writer(db);
      writer.check_unique(merged, ContactWriter::Unique::both);
      std::string changes = change_detail(*before, merged);
      if (!changes.empty()) {
        merged.updated_at = format_time(ctx.now);
        writer.update(*before, merged, false);
      }
      std::string detail = "{\"merged\":[";
      for (std::size_t i = 0; i < duplicates.size(); ++i)
        detail += fmt::format("{}{}", i > 0 ? "," : "", duplicates[i]);
      detail += "]";
      if (changes.size() > 2)
        detail += "," + changes.substr(1);
      else
        detail += "}";
      // Notes moved by UPDATE join the kept contact's index row by the
      // triggers of migration 12.
      writer.history(keep, ctx, "merge", detail);
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot merge contacts");
  }
}

} // namespace crm
