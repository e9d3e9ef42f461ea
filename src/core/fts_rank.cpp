#include "fts_rank.hpp"

#include <crm/error.hpp>

#include <sqlite3.h>

#include <algorithm>

namespace crm {

namespace {

void crm_rank(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc,
              sqlite3_value** argv) {
  double score = 0;
  int phrases = api->xPhraseCount(fts);
  for (int p = 0; p < phrases; ++p) {
    Fts5PhraseIter iter;
    int column = -1;
    double best = 0;
    int columns = 0;
    if (api->xPhraseFirstColumn(fts, p, &iter, &column) != SQLITE_OK)
      break;
    for (; column >= 0; api->xPhraseNextColumn(fts, &iter, &column)) {
      double weight = column < argc ? sqlite3_value_double(argv[column]) : 1.0;
      best = std::max(best, weight);
      ++columns;
    }
    score += best + 0.01 * std::max(0, columns - 1);
  }
  sqlite3_result_double(ctx, score);
}

} // namespace

void register_fts_rank(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &statement, nullptr) != SQLITE_OK)
    throw Error(Exit::internal, "this SQLite has no FTS5 (crm needs it for search)");
  sqlite3_bind_pointer(statement, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(statement);
  sqlite3_finalize(statement);
  if (api == nullptr)
    throw Error(Exit::internal, "this SQLite has no FTS5 (crm needs it for search)");
  if (api->xCreateFunction(api, "crm_rank", nullptr, &crm_rank, nullptr) != SQLITE_OK)
    throw Error(Exit::internal, "cannot register the search ranking function");
}

} // namespace crm
