#pragma once

struct sqlite3;

namespace crm {

// Registers the FTS5 auxiliary function crm_rank(contact_fts, w0, w1, ...):
// for each query term, the weight of the heaviest column it occurs in, plus
// a hundredth per further column, summed over the terms. Unlike bm25 it
// reads no document sizes, so ranking 40,000 matches of a common name takes
// a few milliseconds instead of 60. Idempotent per connection.
void register_fts_rank(sqlite3* db);

} // namespace crm
