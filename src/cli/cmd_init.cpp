#include "context.hpp"

#include <crm/error.hpp>

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace crm::cli {

namespace {

// Writes the starter config to `path` unless a file is there already.
bool write_starter_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    return false;
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  if (!out)
    throw Error(Exit::cant_create,
                fmt::format("cannot create config '{}': {}", path.string(), std::strerror(errno)));
  out << starter_config();
  out.close();
  if (!out)
    throw Error(Exit::io, fmt::format("cannot write config '{}'", path.string()));
  return true;
}

} // namespace

void register_init(CLI::App& command, Context& ctx) {
  command.callback([&ctx] {
    ctx.action = [&ctx] {
      auto location =
          find_config(ctx.options.config, env("CRM_CONFIG"), env("XDG_CONFIG_HOME"), env("HOME"));
      if (!location.path || !std::filesystem::exists(*location.path)) {
        std::filesystem::path target = location.path.value_or("crm.toml");
        if (write_starter_config(target))
          ctx.summary(fmt::format("created config {}", target.string()));
      }
      auto path = ctx.database_path();
      bool existed = std::filesystem::exists(path);
      Database db(path, ctx.config().busy_timeout_ms(), Create::yes);
      if (existed)
        ctx.summary(fmt::format("database {} is ready (schema version {})", path.string(),
                                db.schema_version()));
      else
        ctx.summary(fmt::format("created database {} (schema version {})", path.string(),
                                db.schema_version()));
      return 0;
    };
  });
}

} // namespace crm::cli
