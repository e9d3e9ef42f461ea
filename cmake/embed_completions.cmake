# Writes OUTPUT, a header holding the completion scripts as string literals.
file(READ ${SOURCE_DIR}/completions/crm.bash bash)
file(READ ${SOURCE_DIR}/completions/_crm zsh)
file(READ ${SOURCE_DIR}/completions/crm.fish fish)
file(WRITE ${OUTPUT} "#pragma once\n\nnamespace crm::cli {\n\n"
  "inline constexpr const char* k_completion_bash = R\"CRM_EMBED(${bash})CRM_EMBED\";\n"
  "inline constexpr const char* k_completion_zsh = R\"CRM_EMBED(${zsh})CRM_EMBED\";\n"
  "inline constexpr const char* k_completion_fish = R\"CRM_EMBED(${fish})CRM_EMBED\";\n\n"
  "} // namespace crm::cli\n")
