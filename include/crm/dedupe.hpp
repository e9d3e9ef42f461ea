#pragma once

#include <crm/contacts.hpp>
#include <crm/database.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

// Which contact of a duplicate group a merge keeps ([dedupe].survivor).
enum class Survivor { oldest, newest, most_complete };
std::optional<Survivor> parse_survivor(std::string_view name);

// One contact of a group of candidate duplicates, with the strongest link
// that ties it to the others: "email" (same normalised email) and "phone"
// (same E.164 number) score 1; "name" scores the Jaro-Winkler similarity of
// the folded names (first and last) of two contacts with the same postcode
// or company.
struct DuplicateMember {
  std::int64_t id = 0;
  bool keep = false; // the survivor: the others merge into it
  std::string rule;
  double score = 0;
  // What people decide by, as stored when the groups were found.
  std::optional<std::string> first_name, last_name, email, phone, postcode, company;
};

// Members in order: the survivor first, then by id. Groups are ordered by
// the survivor's id.
struct DuplicateGroup {
  std::vector<DuplicateMember> members;
};

// Candidate duplicate groups of the whole database, minus the pairs marked
// "not a duplicate" (each link is a pair; a group is what the links join).
std::vector<DuplicateGroup> find_duplicates(Database& db, Survivor survivor);

// Marks contacts `a` and `b` as not duplicates of each other, for good
// (in the history of both). Error(Exit::not_found) for an unknown contact,
// Error(Exit::usage) if a == b.
void ignore_duplicate(Database& db, std::int64_t a, std::int64_t b, const WriteContext& ctx);

// Merges `duplicates` into `keep` in one transaction: every row that
// belongs to them moves to `keep` (per the personal-data registry), empty
// fields of `keep` are filled from them (in the order given), attributes it
// lacks are added, tags joined; the duplicates are deleted and the merge is
// one "merge" entry in the history of `keep`. Error(Exit::not_found) for an
// unknown contact, Error(Exit::usage) when `keep` is among the duplicates
// or a duplicate repeats, Error(Exit::data) when the merged email or
// external id belongs to another contact.
void merge_contacts(Database& db, std::int64_t keep, std::span<const std::int64_t> duplicates,
                    const WriteContext& ctx);

// Jaro-Winkler similarity (0..1) of two strings, by code point.
double jaro_winkler(std::string_view a, std::string_view b);

// A name (or postcode, company) folded for comparison: case-folded, accents
// stripped, letters and digits kept, every run of anything else one space,
// trimmed.
std::string fold_name(std::string_view name);

} // namespace crm
