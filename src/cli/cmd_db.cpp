#include "cmd_export.hpp"
#include "context.hpp"

#include <crm/error.hpp>

#include <fmt/core.h>

namespace crm::cli {

namespace {

void print_pairs(Context& ctx, const std::vector<std::pair<std::string, Cell>>& pairs) {
  auto writer = ctx.writer();
  std::vector<std::string> names = {"key", "value"};
  writer->header(names);
  std::vector<Cell> cells(2);
  for (const auto& [k, v] : pairs) {
    cells[0] = k;
    cells[1] = v;
    writer->row(cells);
  }
  writer->finish();
}

} // namespace

void register_db(CLI::App& command, Context& ctx) {
  auto* db = &command;
  db->require_subcommand(1);

  db->add_subcommand("migrate", "Bring the database to this crm's schema")->callback([&ctx] {
    ctx.action = [&ctx] {
      // Opening migrates; report what the file was at before.
      auto& database = ctx.database();
      ctx.summary(fmt::format("schema version {} (this crm knows up to {})",
                              database.schema_version(), Database::latest_schema_version()));
      return 0;
    };
  });
  db->add_subcommand("check", "Check integrity; problems are printed, exit 1")->callback([&ctx] {
    ctx.action = [&ctx] {
      auto problems = check_database(ctx.database());
      for (const auto& p : problems)
        ctx.out() << p << '\n';
      if (problems.empty())
        ctx.summary("database ok");
      return problems.empty() ? 0 : 1;
    };
  });
  {
    auto* cmd = db->add_subcommand("backup", "Write a consistent copy, safe while others write");
    auto file = std::make_shared<std::string>();
    cmd->add_option("file", *file, "The backup file (must not exist)")->required();
    cmd->callback([&ctx, file] {
      ctx.action = [&ctx, file] {
        backup_database(ctx.database(), *file);
        ctx.summary(fmt::format("backup written to {}", *file));
        return 0;
      };
    });
  }
  db->add_subcommand("vacuum", "Rebuild the file, dropping free pages")->callback([&ctx] {
    ctx.action = [&ctx] {
      vacuum_database(ctx.database());
      return 0;
    };
  });
  db->add_subcommand("stats", "Show sizes and row counts")->callback([&ctx] {
    ctx.action = [&ctx] {
      auto stats = database_stats(ctx.database());
      std::vector<std::pair<std::string, Cell>> pairs = {
          {"path", stats.path},
          {"schema_version", std::int64_t{stats.schema_version}},
          {"page_size", stats.page_size},
          {"page_count", stats.page_count},
          {"freelist_count", stats.freelist_count},
          {"file_bytes", stats.file_bytes},
      };
      for (const auto& t : stats.tables)
        pairs.emplace_back("rows." + t.name, t.rows);
      print_pairs(ctx, pairs);
      return 0;
    };
  });
  db->add_subcommand("schema", "Show the tables and views (see crm-schema(5))")->callback([&ctx] {
    ctx.action = [&ctx] {
      auto objects = database_schema(ctx.database());
      // On a terminal (table format) the CREATE statements, as sqlite3's
      // .schema prints them; in the other formats one row per object.
      if (ctx.format() == Format::table) {
        for (const auto& o : objects)
          ctx.out() << o.sql << ";\n";
        return 0;
      }
      auto writer = ctx.writer();
      std::vector<std::string> names = {"type", "name", "sql"};
      writer->header(names);
      std::vector<Cell> cells(3);
      for (const auto& o : objects) {
        cells[0] = o.type;
        cells[1] = o.name;
        cells[2] = o.sql;
        writer->row(cells);
      }
      writer->finish();
      return 0;
    };
  });
  register_db_query(*db, ctx);
}

} // namespace crm::cli
