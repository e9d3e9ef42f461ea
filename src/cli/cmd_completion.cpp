#include "context.hpp"

#include <crm/completion.hpp>
#include <crm/error.hpp>

#include <fmt/core.h>

#include "completions.hpp"

namespace crm::cli {

void register_completion(CLI::App& command, Context& ctx) {
  auto* cmd = &command;
  auto shell = std::make_shared<std::string>();
  cmd->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->callback([&ctx, shell] {
    ctx.action = [&ctx, shell] {
      if (*shell == "bash")
        ctx.out() << k_completion_bash;
      else if (*shell == "zsh")
        ctx.out() << k_completion_zsh;
      else
        ctx.out() << k_completion_fish;
      return 0;
    };
  });
}

void register_complete(CLI::App& command, Context& ctx) {
  auto* cmd = &command;
  auto kind = std::make_shared<std::string>();
  cmd->add_option("kind", *kind,
                  "purposes, channels, campaigns, models, reports, profiles, "
                  "touchpoints, phases or owners")
      ->required();
  cmd->callback([&ctx, kind] {
    ctx.action = [&ctx, kind] {
      for (const auto& word : completion_words(ctx.config(), *kind))
        ctx.out() << word << '\n';
      return 0;
    };
  });
}

} // namespace crm::cli
