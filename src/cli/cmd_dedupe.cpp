#include "context.hpp"

#include <crm/dedupe.hpp>
#include <crm/error.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace crm::cli {

namespace {

const std::vector<std::string> k_columns = {"group", "id",         "keep",      "rule",
                                            "score", "first_name", "last_name", "email",
                                            "phone", "postcode",   "company"};

// The groups, one row per member, with the fields people decide by.
void print_groups(Context& ctx, const std::vector<DuplicateGroup>& groups) {
  auto requested = ctx.fields();
  std::vector<std::size_t> pick;
  if (requested.empty())
    for (std::size_t i = 0; i < k_columns.size(); ++i)
      pick.push_back(i);
  for (const auto& r : requested) {
    auto it = std::find(k_columns.begin(), k_columns.end(), r);
    if (it == k_columns.end())
      throw Error(Exit::usage, fmt::format("unknown field '{}'", r),
                  "'--fields help' lists the fields");
    pick.push_back(static_cast<std::size_t>(it - k_columns.begin()));
  }
  auto writer = ctx.writer();
  std::vector<std::string> names;
  for (auto i : pick)
    names.push_back(k_columns[i]);
  writer->header(names);
  std::vector<Cell> all(k_columns.size()), cells;
  auto text = [](const std::optional<std::string>& v) {
    return v ? Cell(*v) : Cell(std::monostate{});
  };
  std::int64_t number = 0;
  for (const auto& group : groups) {
    ++number;
    for (const auto& m : group.members) {
      all[0] = number;
      all[1] = m.id;
      all[2] = std::string(m.keep ? "yes" : "no");
      all[3] = m.rule;
      all[4] = fmt::format("{:.2f}", m.score);
      all[5] = text(m.first_name);
      all[6] = text(m.last_name);
      all[7] = text(m.email);
      all[8] = text(m.phone);
      all[9] = text(m.postcode);
      all[10] = text(m.company);
      cells.clear();
      for (auto i : pick)
        cells.push_back(all[i]);
      writer->row(cells);
    }
  }
  writer->finish();
}

} // namespace

void register_contact_dedupe(CLI::App& contact, Context& ctx) {
  auto* cmd = contact.add_subcommand("dedupe", "List candidate duplicates; --apply merges them");
  struct Args {
    bool apply = false;
    std::vector<std::string> ignore;
  };
  auto a = std::make_shared<Args>();
  cmd->add_flag("--apply", a->apply, "Merge each group into its survivor ([dedupe].survivor)");
  cmd->add_option("--ignore", a->ignore, "Mark contacts A and B as not duplicates, for good")
      ->expected(2)
      ->type_name("A B");
  cmd->callback([&ctx, a] {
    ctx.action = [&ctx, a] {
      if (ctx.options.fields && *ctx.options.fields == "help") {
        for (const auto& c : k_columns)
          ctx.out() << c << '\n';
        return 0;
      }
      if (!a->ignore.empty()) {
        if (a->apply)
          throw Error(Exit::usage, "--ignore and --apply do not go together");
        auto ids = ctx.resolve(a->ignore);
        ignore_duplicate(ctx.database(), ids[0], ids[1], ctx.write_context());
        ctx.summary(fmt::format("contacts {} and {} are not duplicates", ids[0], ids[1]));
        return 0;
      }
      auto survivor = parse_survivor(ctx.config().dedupe_survivor());
      auto groups = find_duplicates(ctx.database(), survivor.value_or(Survivor::oldest));
      // The groups as they are, before --apply merges them away.
      print_groups(ctx, groups);
      if (a->apply) {
        std::size_t merged = 0;
        auto write = ctx.write_context();
        write.source = "dedupe";
        for (const auto& group : groups) {
          std::vector<std::int64_t> duplicates;
          for (const auto& m : group.members)
            if (!m.keep)
              duplicates.push_back(m.id);
          merge_contacts(ctx.database(), group.members.front().id, duplicates, write);
          merged += duplicates.size();
        }
        ctx.summary(fmt::format("merged {} contacts into {}", merged, groups.size()));
      }
      return 0;
    };
  });
}

void register_contact_merge(CLI::App& contact, Context& ctx) {
  auto* cmd = contact.add_subcommand("merge", "Merge duplicates into the contact to keep");
  auto keep = std::make_shared<std::string>();
  auto duplicates = std::make_shared<std::vector<std::string>>();
  cmd->add_option("keep", *keep, "The contact to keep: id, email, ext:ID, tel:PHONE")->required();
  cmd->add_option("dup", *duplicates, "The duplicates, merged into it and deleted")->required();
  cmd->callback([&ctx, keep, duplicates] {
    ctx.action = [&ctx, keep, duplicates] {
      auto keep_id = ctx.resolve({*keep}).front();
      auto ids = ctx.resolve(*duplicates);
      merge_contacts(ctx.database(), keep_id, ids, ctx.write_context());
      ctx.out() << keep_id << '\n';
      ctx.summary(fmt::format("merged {} into {}", ids.size(), keep_id));
      return 0;
    };
  });
}

} // namespace crm::cli
