#pragma once
// The data subject's copy (GDPR Art. 15 and 20): `crm export subject REF`.

#include <crm/clock.hpp>
#include <crm/consent.hpp>
#include <crm/database.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace crm {

// One JSON document with everything stored about contact `id`, read in one
// snapshot: `generated_at`, the contact's fields, attributes and tags,
// `purposes` (the state of each configured purpose and channel) and
// `processed_for` (the purposes it is processed for now: those granted,
// plus "contact management" for the record itself), and under `data` the
// rows of every table of the personal-data registry (notes, history,
// events, consent entries with proof, scores with their parts, campaign
// memberships, tasks, ...), each table by its name. Error(not_found) if
// there is no such contact.
std::string subject_document(Database& db, std::int64_t id, std::span<const Purpose> purposes,
                             TimePoint now);

} // namespace crm
