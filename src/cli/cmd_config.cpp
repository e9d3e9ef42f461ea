#include "context.hpp"

#include <crm/error.hpp>

#include <fmt/core.h>

namespace crm::cli {

void register_config(CLI::App& command, Context& ctx) {
  auto* config = &command;
  config->require_subcommand(1);

  config->add_subcommand("check", "Validate the config: exit 0, or 78 naming file:line:col and key")
      ->callback([&ctx] {
        ctx.action = [&ctx] {
          const auto& c = ctx.config();
          ctx.summary(c.file() ? fmt::format("{}: ok", c.file()->string())
                               : std::string("no config file; built-in defaults"));
          return 0;
        };
      });
  {
    auto* cmd = config->add_subcommand("show", "Print the effective settings");
    auto origin = std::make_shared<bool>(false);
    cmd->add_flag("--origin", *origin, "Also say which file and line (or default) each came from");
    cmd->callback([&ctx, origin] {
      ctx.action = [&ctx, origin] {
        auto writer = ctx.writer();
        std::vector<std::string> names = {"key", "value"};
        if (*origin)
          names.emplace_back("origin");
        writer->header(names);
        std::vector<Cell> cells;
        for (const auto& s : ctx.config().settings()) {
          cells = {s.key, s.value};
          if (*origin)
            cells.emplace_back(s.origin);
          writer->row(cells);
        }
        writer->finish();
        return 0;
      };
    });
  }
}

} // namespace crm::cli
