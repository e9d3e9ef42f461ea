#pragma once
// Lead management (SPEC.md section 6 "contact"): owners take contacts
// (`crm contact assign`) and follow them up with tasks (`crm contact task`).

#include <crm/clock.hpp>
#include <crm/config.hpp>
#include <crm/contacts.hpp>
#include <crm/database.hpp>
#include <crm/filter.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

struct Task {
  std::int64_t id = 0;
  std::int64_t contact_id = 0;
  std::optional<std::string> owner;
  std::string due_at; // ISO-8601 UTC
  std::string text;
  std::string created_at;
  std::optional<std::string> done_at;
  // The contact, for a follow-up list people can work from.
  std::optional<std::string> first_name, last_name, email, phone;
};

// Throws Error(Exit::not_found) unless `name` is one of `owners`.
void check_owner(const std::vector<Owner>& owners, std::string_view name);

// Parses a due time: an RFC 3339 timestamp, a date (00:00Z), or a duration
// from `now` ("3d", "2w"). Throws Error(Exit::usage) naming the text.
TimePoint parse_due(std::string_view text, TimePoint now);

// Adds a follow-up for the contact, due at `due`, for `owner` (default:
// the contact's owner, if any); records it in the contact's history.
// Returns the task.
Task add_task(Database& db, std::int64_t contact_id, std::string_view text, TimePoint due,
              const std::optional<std::string>& owner, const WriteContext& ctx);

struct TaskQuery {
  std::optional<std::string> owner;
  std::optional<TimePoint> due_before; // due strictly before
  bool overdue = false;                // due before ctx now
};

// Calls `row` for each open task matching `query`, by due time then id.
void list_tasks(Database& db, const TaskQuery& query, TimePoint now,
                const std::function<void(const Task&)>& row);

// Marks task `id` done and records it in the contact's history. Returns the
// task; false in `was_open` if it had been done already (nothing changes).
// Throws Error(Exit::not_found) for an unknown id.
Task complete_task(Database& db, std::int64_t id, const WriteContext& ctx, bool& was_open);

enum class AssignStrategy { round_robin, least_loaded };
std::optional<AssignStrategy> parse_assign_strategy(std::string_view text);

struct AssignSummary {
  std::int64_t matched = 0;    // contacts without an owner that matched
  std::int64_t unassigned = 0; // left without one: every owner was full
  std::vector<std::pair<std::string, std::int64_t>> per_owner; // in owner order
  std::vector<std::int64_t> ids;                               // assigned, in order
};

// Gives the contacts without an owner that match `where` (a compiled
// filter over `c`; nullopt: all) to `owners`, never beyond an
// owner's capacity, in one transaction, each change recorded in the
// history. round_robin takes the owners in turn, starting after the one
// who was given the last contact of the previous run; least_loaded gives
// each contact to the owner holding the fewest (ties: the first by name).
AssignSummary assign_owners(Database& db, const std::vector<Owner>& owners,
                            const std::optional<SqlFilter>& where, AssignStrategy strategy,
                            const WriteContext& ctx);

} // namespace crm
