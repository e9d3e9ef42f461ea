#pragma once

#include "context.hpp"

namespace crm::cli {

// Registers the subcommands of `crm export` from k_export_subcommands.
void register_export(CLI::App& command, Context& ctx);

// Each adds its subcommand(s) to `crm export`.
void register_export_kinds(CLI::App& command, Context& ctx);   // contacts, events, ... tasks
void register_export_report(CLI::App& command, Context& ctx);  // report NAME
void register_export_subject(CLI::App& command, Context& ctx); // subject REF

// Adds `crm db query SQL` to `crm db`.
void register_db_query(CLI::App& db, Context& ctx);

} // namespace crm::cli
