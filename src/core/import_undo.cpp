// crm contact import --undo BATCH: reverts what one import batch created or
// changed, from its import_change rows (the contacts it touched, and the
// image of each updated one as it was before) and import_created ranges.

#include <crm/error.hpp>
#include <crm/import.hpp>
#include <crm/personal_data.hpp>

#include "contact_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

namespace crm {

namespace {

// The contact of `before` (the snapshot import wrote: set fields, "attrs"
// and "tags") laid over the stored contact's id and time stamps.
Contact restore_image(const Contact& current, const std::string& before) {
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (parser.parse(simdjson::padded_string(before)).get(doc) != simdjson::SUCCESS)
    throw Error(
        Exit::internal,
        fmt::format("contact {}: the undo image is not JSON (this is a bug in crm)", current.id));
  Contact c;
  c.id = current.id;
  c.created_at = current.created_at;
  for (auto [key, value] : doc) {
    if (key == "attrs") {
      simdjson::dom::object attrs;
      if (value.get(attrs) == simdjson::SUCCESS)
        for (auto [k, v] : attrs)
          c.attrs.emplace_back(std::string(k), std::string(v.get_string().value_unsafe()));
    } else if (key == "tags") {
      simdjson::dom::array tags;
      if (value.get(tags) == simdjson::SUCCESS)
        for (auto t : tags)
          c.tags.emplace_back(t.get_string().value_unsafe());
    } else if (const FieldInfo* f = field_info(key); f != nullptr && f->member != nullptr) {
      std::string_view text;
      if (value.get(text) == simdjson::SUCCESS)
        c.*(f->member) = std::string(text);
    }
  }
  std::sort(c.attrs.begin(), c.attrs.end());
  std::sort(c.tags.begin(), c.tags.end());
  c.stage = current.stage;
  return c;
}

} // namespace

UndoSummary undo_import(Database& db, std::int64_t batch, const WriteContext& ctx) {
  UndoSummary summary;
  try {
    db.write([&] {
      SQLite::Statement find(
          db.sql(), "SELECT undone_at FROM import_batch WHERE id = ? AND kind = 'contacts'");
      find.bind(1, batch);
      if (!find.executeStep())
        throw Error(Exit::not_found, fmt::format("no contact import batch {}", batch),
                    "the summary of each import names its batch");
      if (!find.getColumn(0).isNull())
        throw Error(Exit::data, fmt::format("import batch {} was undone already ({})", batch,
                                            find.getColumn(0).getString()));
      std::string batch_source = fmt::format("import batch {}", batch);
      WriteContext undo_ctx = ctx;
      undo_ctx.source = fmt::format("undo of import batch {}", batch);

      // A contact changed after the batch cannot be put back without losing
      // that change: the undo refuses, naming it.
      SQLite::Statement later(
          db.sql(), "SELECT min(id) FROM history WHERE contact_id = ?1 AND id > "
                    "(SELECT max(id) FROM history WHERE contact_id = ?1 AND source = ?2)");
      auto changed_since = [&](std::int64_t id) {
        later.bind(1, id);
        later.bind(2, batch_source);
        later.executeStep();
        bool changed = !later.getColumn(0).isNull();
        later.reset();
        if (changed)
          throw Error(
              Exit::data,
              fmt::format("cannot undo import batch {}: contact {} changed after it", batch, id),
              fmt::format("'crm contact history {}' shows what changed", id));
      };

      ContactWriter writer(db);
      // What it changed, and what it created: import_change rows, and the
      // contacts of its id ranges that are still there (import_created).
      SQLite::Statement changes(
          db.sql(), "SELECT contact_id, action, before FROM import_change WHERE batch_id = ?1 "
                    "UNION ALL SELECT c.id, 'insert', NULL FROM import_created r JOIN contact c "
                    "ON c.id BETWEEN r.first_id AND r.last_id WHERE r.batch_id = ?1 ORDER BY 1");
      changes.bind(1, batch);
      // Read first: undoing deletes import_change rows of created contacts.
      struct Change {
        std::int64_t id;
        std::string action, before;
      };
      std::vector<Change> list;
      while (changes.executeStep())
        list.push_back({changes.getColumn(0).getInt64(), changes.getColumn(1).getString(),
                        changes.getColumn(2).getString()});
      for (const auto& [id, action, before] : list) {
        auto current = find_contact(db, id);
        if (!current) {
          ++summary.gone;
          continue;
        }
        changed_since(id);
        if (action == "insert") {
          for (const auto& table : personal_tables()) {
            if (table.blocks_delete == BlocksDelete::no)
              continue;
            // Table and column names come from the registry, never from input.
            // The consent evidence this batch recorded itself (source
            // "import batch N") goes with it; anything since blocks.
            const bool ledger = table.table == "consent";
            SQLite::Statement count(db.sql(), fmt::format("SELECT count(*) FROM {} WHERE {} = ?{}",
                                                          table.table, table.contact_column,
                                                          ledger ? " AND source IS NOT ?" : ""));
            count.bind(1, id);
            if (ledger)
              count.bind(2, fmt::format("import batch {}", batch));
            count.executeStep();
            if (count.getColumn(0).getInt64() > 0)
              throw Error(Exit::data,
                          fmt::format("cannot undo import batch {}: contact {} has {} since", batch,
                                      id, table.table),
                          "delete it with 'crm contact delete --force' first if it must go");
          }
          remove_personal_rows(db, id);
          SQLite::Statement del(db.sql(), "DELETE FROM contact WHERE id = ?");
          del.bind(1, id);
          del.exec();
          ++summary.deleted;
        } else {
          Contact restored = restore_image(*current, before);
          try {
            writer.check_unique(restored, ContactWriter::Unique::both);
          } catch (const Error& e) {
            throw Error(e.code(), fmt::format("cannot undo import batch {}: {}", batch, e.what()));
          }
          std::string detail = change_detail(*current, restored);
          if (detail.empty())
            continue;
          restored.updated_at = format_time(ctx.now);
          writer.update(*current, restored, false);
          writer.history(id, undo_ctx, "undo", detail);
          ++summary.restored;
        }
      }
      SQLite::Statement done(db.sql(), "UPDATE import_batch SET undone_at = ? WHERE id = ?");
      done.bind(1, format_time(ctx.now));
      done.bind(2, batch);
      done.exec();
    });
  } catch (const std::exception& e) {
    throw_sqlite_error(e, "cannot undo import");
  }
  return summary;
}

} // namespace crm
