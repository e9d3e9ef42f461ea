#include "context.hpp"

#include <crm/error.hpp>
#include <crm/filter.hpp>
#include <crm/normalize.hpp>
#include <crm/tasks.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace crm::cli {

namespace {

const std::vector<std::string> k_task_columns = {"id",        "contact_id", "owner",   "due_at",
                                                 "text",      "created_at", "done_at", "first_name",
                                                 "last_name", "email",      "phone"};

// Prints tasks with --fields; `each` hands them over one at a time.
void print_tasks(Context& ctx,
                 const std::function<void(const std::function<void(const Task&)>&)>& each) {
  auto requested = ctx.fields();
  std::vector<std::size_t> pick;
  if (requested.empty())
    for (std::size_t i = 0; i < k_task_columns.size(); ++i)
      pick.push_back(i);
  for (const auto& r : requested) {
    auto it = std::find(k_task_columns.begin(), k_task_columns.end(), r);
    if (it == k_task_columns.end())
      throw Error(Exit::usage, fmt::format("unknown field '{}'", r),
                  "'--fields help' lists the fields");
    pick.push_back(static_cast<std::size_t>(it - k_task_columns.begin()));
  }
  auto writer = ctx.writer();
  std::vector<std::string> names;
  for (auto i : pick)
    names.push_back(k_task_columns[i]);
  writer->header(names);
  auto text = [](const std::optional<std::string>& v) {
    return v ? Cell(*v) : Cell(std::monostate{});
  };
  std::vector<Cell> all(k_task_columns.size()), cells;
  each([&](const Task& t) {
    all[0] = t.id;
    all[1] = t.contact_id;
    all[2] = text(t.owner);
    all[3] = t.due_at;
    all[4] = t.text;
    all[5] = t.created_at;
    all[6] = text(t.done_at);
    all[7] = text(t.first_name);
    all[8] = text(t.last_name);
    all[9] = text(t.email);
    all[10] = text(t.phone);
    cells.clear();
    for (auto i : pick)
      cells.push_back(all[i]);
    writer->row(cells);
  });
  writer->finish();
}

bool fields_help(Context& ctx) {
  if (!ctx.options.fields || *ctx.options.fields != "help")
    return false;
  for (const auto& c : k_task_columns)
    ctx.out() << c << '\n';
  return true;
}

// One changed task: its id, or the whole record in json and ndjson.
void print_task(Context& ctx, const Task& task) {
  auto format = ctx.format();
  if (format == Format::json || format == Format::ndjson)
    print_tasks(ctx, [&](const auto& row) { row(task); });
  else
    ctx.out() << task.id << '\n';
}

std::int64_t task_id(const std::string& text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw Error(Exit::usage, fmt::format("invalid task id '{}'", text),
                "task ids are the numbers 'crm contact task list' shows");
  return id;
}

} // namespace

void register_contact_task(CLI::App& contact, Context& ctx) {
  auto* task = contact.add_subcommand("task", "Follow-up tasks: add, list, done");
  task->require_subcommand(1);

  auto* add = task->add_subcommand("add", "Add a follow-up for a contact, due at a time");
  struct AddArgs {
    std::string ref, text, due;
    std::optional<std::string> owner;
  };
  auto a = std::make_shared<AddArgs>();
  add->add_option("ref", a->ref, "The contact: id, email, ext:ID, tel:PHONE")->required();
  add->add_option("text", a->text, "What to do")->required();
  add->add_option("--due", a->due, "Due: a date, a timestamp, or a duration from now (3d)")
      ->type_name("T")
      ->required();
  add->add_option("--owner", a->owner, "Who does it (default: the contact's owner)")
      ->type_name("O");
  add->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      if (a->owner)
        check_owner(ctx.config().owners(), *a->owner);
      auto due = parse_due(a->due, ctx.now());
      auto id = ctx.resolve({a->ref}).front();
      auto task = add_task(ctx.database(), id, a->text, due, a->owner, ctx.write_context());
      print_task(ctx, task);
      return 0;
    };
  });

  auto* list = task->add_subcommand("list", "List open tasks, the earliest due first");
  struct ListArgs {
    std::optional<std::string> owner, due_before;
    bool overdue = false;
  };
  auto l = std::make_shared<ListArgs>();
  list->add_option("--owner", l->owner, "Only this owner's tasks")->type_name("O");
  list->add_option("--due-before", l->due_before, "Only tasks due before T")->type_name("T");
  list->add_flag("--overdue", l->overdue, "Only tasks past their due time");
  list->callback([&ctx, l] {
    ctx.action = [&ctx, l] {
      if (fields_help(ctx))
        return 0;
      TaskQuery query;
      if (l->owner) {
        check_owner(ctx.config().owners(), *l->owner);
        query.owner = l->owner;
      }
      if (l->due_before)
        query.due_before = parse_due(*l->due_before, ctx.now());
      query.overdue = l->overdue;
      print_tasks(ctx, [&](const auto& row) { list_tasks(ctx.database(), query, ctx.now(), row); });
      return 0;
    };
  });

  auto* done = task->add_subcommand("done", "Mark a task done");
  auto id = std::make_shared<std::string>();
  done->add_option("id", *id, "The task's id")->required();
  done->callback([&ctx, id] {
    ctx.action = [&ctx, id] {
      bool was_open = true;
      auto t = complete_task(ctx.database(), task_id(*id), ctx.write_context(), was_open);
      if (!was_open)
        ctx.warn(fmt::format("task {} was done already ({})", t.id, t.done_at.value_or("")));
      print_task(ctx, t);
      return 0;
    };
  });
}

void register_contact_assign(CLI::App& contact, Context& ctx) {
  auto* cmd =
      contact.add_subcommand("assign", "Give contacts without an owner to the owners of [owners]");
  struct Args {
    std::string where, strategy = "round_robin";
    bool ids = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--where", a->where, "Only contacts matching this filter")->type_name("EXPR");
  cmd->add_option("--strategy", a->strategy, "round_robin (default) or least_loaded")
      ->type_name("S");
  cmd->add_flag("--ids", a->ids, "Print the ids of the contacts given an owner");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      auto strategy = parse_assign_strategy(a->strategy);
      if (!strategy)
        throw Error(Exit::usage, fmt::format("unknown strategy '{}'", a->strategy),
                    "strategies: round_robin, least_loaded");
      std::optional<SqlFilter> where;
      if (!a->where.empty())
        where = where_filter(ctx, a->where);
      auto write = ctx.write_context();
      write.source = "assign";
      auto s = assign_owners(ctx.database(), ctx.config().owners(), where, *strategy, write);
      if (a->ids)
        for (auto id : s.ids)
          ctx.out() << id << '\n';
      std::string per;
      for (const auto& [name, n] : s.per_owner)
        per += fmt::format("{}{} {}", per.empty() ? "" : ", ", name, n);
      std::string line = fmt::format("assigned {} ({})", s.ids.size(), per);
      if (s.unassigned > 0)
        line += fmt::format(", unassigned {} (every owner is at capacity)", s.unassigned);
      ctx.summary(line);
      return 0;
    };
  });
}

} // namespace crm::cli
