#include <crm/tasks.hpp>

#include <crm/error.hpp>
#include <crm/json.hpp>
#include <crm/normalize.hpp>

#include <fmt/format.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>

namespace crm {

namespace {

constexpr std::string_view k_task_columns =
    "t.id, t.contact_id, t.owner, t.due_at, t.text, t.created_at, t.done_at, c.first_name, "
    "c.last_name, c.email, c.phone";

std::optional<std::string> text_or_null(const SQLite::Column& column) {
  if (column.isNull())
    return std::nullopt;
  return column.getString();
}

Task read_task(SQLite::Statement& q) {
  Task t;
  t.id = q.getColumn(0).getInt64();
  t.contact_id = q.getColumn(1).getInt64();
  t.owner = text_or_null(q.getColumn(2));
  t.due_at = q.getColumn(3).getString();
  t.text = q.getColumn(4).getString();
  t.created_at = q.getColumn(5).getString();
  t.done_at = text_or_null(q.getColumn(6));
  t.first_name = text_or_null(q.getColumn(7));
  t.last_name = text_or_null(q.getColumn(8));
  t.email = text_or_null(q.getColumn(9));
  t.phone = text_or_null(q.getColumn(10));
  return t;
}

std::optional<Task> find_task(Database& db, std::int64_t id) {
  SQLite::Statement q(db.sql(), fmt::format("SELECT {} FROM task t JOIN contact c ON "
                                            "c.id = t.contact_id WHERE t.id = ?",
                                            k_task_columns));
  q.bind(1, id);
  if (!q.executeStep())
    return std::nullopt;
  return read_task(q);
}

void add_history(Database& db, std::int64_t contact_id, const WriteContext& ctx,
                 std::string_view action, const std::string& detail) {
  SQLite::Statement h(db.sql(), "INSERT INTO history (contact_id, at, action, source, detail) "
                                "VALUES (?, ?, ?, ?, ?)");
  h.bind(1, contact_id);
  h.bind(2, format_time(ctx.now));
  h.bind(3, std::string(action));
  h.bind(4, ctx.source);
  h.bind(5, detail);
  h.exec();
}

} // namespace

void check_owner(const std::vector<Owner>& owners, std::string_view name) {
  if (std::none_of(owners.begin(), owners.end(), [&](const Owner& o) { return o.name == name; }))
    throw Error(Exit::not_found, fmt::format("no owner '{}'", name),
                owners.empty() ? std::string("owners are defined in the config: [owners.NAME]")
                               : fmt::format("owners: {}", [&] {
                                   std::string names;
                                   for (const auto& o : owners)
                                     names += (names.empty() ? "" : ", ") + o.name;
                                   return names;
                                 }()));
}

TimePoint parse_due(std::string_view text, TimePoint now) {
  if (auto t = parse_time(text))
    return *t;
  if (auto d = parse_duration(text))
    return shift(now, *d, 1);
  throw Error(Exit::usage, fmt::format("invalid due time '{}'", text),
              "give a date (2026-12-01), a timestamp (2026-12-01T09:00:00Z) or a duration "
              "from now (3d, 2w)");
}

Task add_task(Database& db, std::int64_t contact_id, std::string_view text, TimePoint due,
              const std::optional<std::string>& owner, const WriteContext& ctx) {
  std::string body = normalize_text(text, "task");
  if (body.empty())
    throw Error(Exit::data, "invalid task: empty");
  Task task;
  try {
    db.write([&] {
      std::optional<std::string> who = owner;
      if (!who) {
        SQLite::Statement q(db.sql(), "SELECT owner FROM contact WHERE id = ?");
        q.bind(1, contact_id);
        if (q.executeStep())
          who = text_or_null(q.getColumn(0));
      }
      SQLite::Statement insert(db.sql(), "INSERT INTO task (contact_id, owner, due_at, text, "
                                         "created_at) VALUES (?, ?, ?, ?, ?)");
      insert.bind(1, contact_id);
      if (who)
        insert.bind(2, *who);
      else
        insert.bind(2);
      insert.bind(3, format_time(due));
      insert.bind(4, body);
      insert.bind(5, format_time(ctx.now));
      insert.exec();
      std::int64_t id = db.sql().getLastInsertRowid();
      std::string detail = fmt::format("{{\"task\":{},\"text\":", id);
      append_json_string(detail, body);
      detail += ",\"due\":";
      append_json_string(detail, format_time(due));
      detail += ",\"owner\":";
      detail += who ? json_string(*who) : "null";
      detail += '}';
      add_history(db, contact_id, ctx, "task", detail);
      task = *find_task(db, id);
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot add task");
  }
  return task;
}

void list_tasks(Database& db, const TaskQuery& query, TimePoint now,
                const std::function<void(const Task&)>& row) {
  std::string sql = fmt::format(
      "SELECT {} FROM task t JOIN contact c ON c.id = t.contact_id WHERE t.done_at IS NULL",
      k_task_columns);
  std::vector<SqlValue> params;
  if (query.owner) {
    sql += " AND t.owner = ?";
    params.emplace_back(*query.owner);
  }
  std::optional<TimePoint> before = query.due_before;
  if (query.overdue && (!before || now < *before))
    before = now;
  if (before) {
    sql += " AND t.due_at < ?";
    params.emplace_back(format_time(*before));
  }
  sql += " ORDER BY t.due_at, t.id";
  try {
    db.read([&] {
      SQLite::Statement q(db.sql(), sql);
      bind_all(q, params);
      while (q.executeStep())
        row(read_task(q));
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot list tasks");
  }
}

Task complete_task(Database& db, std::int64_t id, const WriteContext& ctx, bool& was_open) {
  Task task;
  try {
    db.write([&] {
      auto found = find_task(db, id);
      if (!found)
        throw Error(Exit::not_found, fmt::format("no task {}", id));
      was_open = !found->done_at;
      if (was_open) {
        SQLite::Statement done(db.sql(), "UPDATE task SET done_at = ? WHERE id = ?");
        done.bind(1, format_time(ctx.now));
        done.bind(2, id);
        done.exec();
        add_history(db, found->contact_id, ctx, "task_done", fmt::format("{{\"task\":{}}}", id));
        found = find_task(db, id);
      }
      task = *found;
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot complete task");
  }
  return task;
}

std::optional<AssignStrategy> parse_assign_strategy(std::string_view text) {
  if (text == "round_robin")
    return AssignStrategy::round_robin;
  if (text == "least_loaded")
    return AssignStrategy::least_loaded;
  return std::nullopt;
}

AssignSummary assign_owners(Database& db, const std::vector<Owner>& owners,
                            const std::optional<SqlFilter>& where, AssignStrategy strategy,
                            const WriteContext& ctx) {
  if (owners.empty())
    throw Error(Exit::config, "no owners to assign to", "define them in the config: [owners.NAME]");
  AssignSummary summary;
  try {
    db.write([&] {
      std::vector<std::int64_t> load(owners.size(), 0), given(owners.size(), 0);
      {
        SQLite::Statement q(db.sql(), "SELECT count(*) FROM contact WHERE owner = ?");
        for (std::size_t i = 0; i < owners.size(); ++i) {
          q.bind(1, owners[i].name);
          q.executeStep();
          load[i] = q.getColumn(0).getInt64();
          q.reset();
        }
      }
      std::vector<std::int64_t> ids;
      {
        std::string sql = "SELECT c.id FROM contact c WHERE c.owner IS NULL";
        if (where)
          sql += " AND (" + where->sql + ")";
        sql += " ORDER BY c.id";
        SQLite::Statement q(db.sql(), sql);
        if (where)
          bind_all(q, where->params);
        while (q.executeStep())
          ids.push_back(q.getColumn(0).getInt64());
      }
      summary.matched = static_cast<std::int64_t>(ids.size());
      // round_robin goes on after the owner who was given the last contact.
      std::size_t next = 0;
      {
        SQLite::Statement q(db.sql(), "SELECT value FROM meta WHERE key = 'assign.last_owner'");
        if (q.executeStep()) {
          std::string last = q.getColumn(0).getString();
          for (std::size_t i = 0; i < owners.size(); ++i)
            if (owners[i].name == last)
              next = (i + 1) % owners.size();
        }
      }
      auto room = [&](std::size_t i) { return load[i] < owners[i].capacity; };
      SQLite::Statement update(db.sql(),
                               "UPDATE contact SET owner = ?, updated_at = ? WHERE id = ?");
      SQLite::Statement history(db.sql(), "INSERT INTO history (contact_id, at, action, source, "
                                          "detail) VALUES (?, ?, 'assign', ?, ?)");
      std::string now = format_time(ctx.now);
      std::optional<std::size_t> last;
      for (auto id : ids) {
        std::optional<std::size_t> pick;
        if (strategy == AssignStrategy::round_robin) {
          for (std::size_t k = 0; k < owners.size() && !pick; ++k)
            if (room((next + k) % owners.size()))
              pick = (next + k) % owners.size();
        } else {
          for (std::size_t i = 0; i < owners.size(); ++i)
            if (room(i) && (!pick || load[i] < load[*pick]))
              pick = i;
        }
        if (!pick)
          break;
        const std::string& name = owners[*pick].name;
        update.bind(1, name);
        update.bind(2, now);
        update.bind(3, id);
        update.exec();
        update.reset();
        history.bind(1, id);
        history.bind(2, now);
        history.bind(3, ctx.source);
        history.bind(4, "{\"owner\":[null," + json_string(name) + "]}");
        history.exec();
        history.reset();
        ++load[*pick];
        ++given[*pick];
        summary.ids.push_back(id);
        last = pick;
        next = (*pick + 1) % owners.size();
      }
      if (last) {
        SQLite::Statement remember(db.sql(), "INSERT INTO meta (key, value) VALUES "
                                             "('assign.last_owner', ?) ON CONFLICT (key) DO "
                                             "UPDATE SET value = excluded.value");
        remember.bind(1, owners[*last].name);
        remember.exec();
      }
      summary.unassigned = summary.matched - static_cast<std::int64_t>(summary.ids.size());
      for (std::size_t i = 0; i < owners.size(); ++i)
        summary.per_owner.emplace_back(owners[i].name, given[i]);
    });
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot assign contacts");
  }
  return summary;
}

} // namespace crm
