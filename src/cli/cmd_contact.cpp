#include "context.hpp"

#include <crm/consent.hpp>
#include <crm/erase.hpp>
#include <crm/error.hpp>
#include <crm/filter.hpp>
#include <crm/normalize.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <iostream>
#include <set>

namespace crm::cli {

namespace {

// One output column of a contact row.
struct Column {
  enum class Kind { field, tags, attr } kind;
  std::string name; // the column name: a field, "tags" or "attr.KEY"
};

std::vector<Column> default_columns() {
  std::vector<Column> columns;
  for (auto f : contact_fields())
    columns.push_back({Column::Kind::field, std::string(f)});
  columns.push_back({Column::Kind::tags, "tags"});
  return columns;
}

// The columns of --fields (or the defaults, plus every attribute of
// `all_attrs` when `with_attrs`); `attr.*` expands to `attr_keys()`.
std::vector<Column> contact_columns(Context& ctx,
                                    const std::function<std::vector<std::string>()>& attr_keys,
                                    bool with_attrs) {
  auto requested = ctx.fields();
  std::vector<Column> columns;
  if (requested.empty()) {
    columns = default_columns();
    if (with_attrs)
      for (auto& k : attr_keys())
        columns.push_back({Column::Kind::attr, "attr." + k});
    return columns;
  }
  auto fields = contact_fields();
  for (const auto& name : requested) {
    if (name == "tags") {
      columns.push_back({Column::Kind::tags, name});
    } else if (name == "attr.*") {
      for (auto& k : attr_keys())
        columns.push_back({Column::Kind::attr, "attr." + k});
    } else if (name.starts_with("attr.") && name.size() > 5) {
      columns.push_back({Column::Kind::attr, name});
    } else if (std::find(fields.begin(), fields.end(), name) != fields.end()) {
      columns.push_back({Column::Kind::field, name});
    } else {
      throw Error(Exit::usage, fmt::format("unknown field '{}'", name),
                  "'--fields help' lists the fields");
    }
  }
  return columns;
}

bool needs_attrs(const std::vector<Column>& columns) {
  return std::any_of(columns.begin(), columns.end(),
                     [](const Column& c) { return c.kind == Column::Kind::attr; });
}

std::vector<std::string> column_names(const std::vector<Column>& columns) {
  std::vector<std::string> names;
  for (const auto& c : columns)
    names.push_back(c.name);
  return names;
}

void contact_cells(const Contact& c, const std::vector<Column>& columns, std::vector<Cell>& cells) {
  cells.clear();
  for (const auto& col : columns) {
    switch (col.kind) {
    case Column::Kind::field:
      if (col.name == "id") {
        cells.emplace_back(c.id);
      } else if (auto v = contact_field(c, col.name)) {
        cells.emplace_back(std::move(*v));
      } else {
        cells.emplace_back(std::monostate{});
      }
      break;
    case Column::Kind::tags:
      cells.emplace_back(c.tags);
      break;
    case Column::Kind::attr: {
      std::string_view key = std::string_view(col.name).substr(5);
      auto it = std::find_if(c.attrs.begin(), c.attrs.end(),
                             [&](const auto& pair) { return pair.first == key; });
      if (it == c.attrs.end())
        cells.emplace_back(std::monostate{});
      else
        cells.emplace_back(it->second);
      break;
    }
    }
  }
}

bool fields_help(Context& ctx) {
  if (!ctx.options.fields || *ctx.options.fields != "help")
    return false;
  auto& out = ctx.out();
  for (auto f : contact_fields())
    out << f << '\n';
  out << "tags\nattr.NAME\nattr.*\n";
  return true;
}

// Prints contacts produced by `produce` with the columns of --fields.
void print_contacts(
    Context& ctx, const std::vector<Column>& columns,
    const std::function<void(const std::function<void(const Contact&)>&)>& produce) {
  auto writer = ctx.writer();
  auto names = column_names(columns);
  writer->header(names);
  std::vector<Cell> cells;
  produce([&](const Contact& c) {
    contact_cells(c, columns, cells);
    writer->row(cells);
  });
  writer->finish();
}

// What a single-record mutation prints: the id in text formats, the whole
// record in json and ndjson.
void print_changed(Context& ctx, const std::vector<std::int64_t>& ids, bool bulk, bool print_ids) {
  auto format = ctx.format();
  if (bulk && !print_ids)
    return;
  if (format == Format::json || format == Format::ndjson) {
    std::vector<Contact> contacts;
    std::set<std::string> keys;
    for (auto id : ids)
      if (auto c = find_contact(ctx.database(), id)) {
        for (const auto& [k, v] : c->attrs)
          keys.insert(k);
        contacts.push_back(std::move(*c));
      }
    auto columns = default_columns();
    for (const auto& k : keys)
      columns.push_back({Column::Kind::attr, "attr." + k});
    print_contacts(ctx, columns, [&](const auto& row) {
      for (const auto& c : contacts)
        row(c);
    });
    return;
  }
  for (auto id : ids)
    ctx.out() << id << '\n';
}

// The options shared by add and update that set fields.
struct FieldOptions {
  std::vector<std::pair<std::string, std::optional<std::string>>> values;
  std::vector<std::string> attrs;
  std::vector<std::string> tags;
  std::vector<std::string> unset;
  std::map<std::string, std::string> storage;
};

void add_field_options(CLI::App* cmd, FieldOptions& f) {
  static const std::vector<std::pair<std::string, std::string>> k_options = {
      {"external-id", "external_id"},
      {"email", "email"},
      {"phone", "phone"},
      {"first-name", "first_name"},
      {"last-name", "last_name"},
      {"company", "company"},
      {"street", "street"},
      {"postcode", "postcode"},
      {"city", "city"},
      {"country", "country"},
      {"birthdate", "birthdate"},
      {"stage", "stage"},
      {"owner", "owner"},
      {"source", "source"}};
  for (const auto& [option, field] : k_options) {
    std::string field_name = field;
    cmd->add_option_function<std::string>(
           "--" + option,
           [&f, field_name](const std::string& value) { f.values.emplace_back(field_name, value); },
           fmt::format("Set {}", field_name))
        ->type_name("VALUE");
  }
  cmd->add_option("--attr", f.attrs, "Set a custom attribute (key=value; key= removes it)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--tag", f.tags, "Add a tag")->type_name("TAG");
}

ContactChanges to_changes(const FieldOptions& f) {
  ContactChanges changes;
  changes.fields = f.values;
  for (const auto& a : f.attrs) {
    auto eq = a.find('=');
    if (eq == std::string::npos)
      throw Error(Exit::usage, fmt::format("--attr '{}': expected KEY=VALUE", a));
    changes.attrs.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  for (const auto& u : f.unset) {
    if (u.starts_with("attr."))
      changes.attrs.emplace_back(u.substr(5), std::nullopt);
    else
      changes.fields.emplace_back(u, std::nullopt);
  }
  changes.add_tags = f.tags;
  return changes;
}

} // namespace

SqlFilter where_filter(Context& ctx, const std::string& expression) {
  FilterOptions options;
  options.now = ctx.now();
  options.default_country = ctx.config().default_country();
  options.normalize_phone = [](std::string_view v, std::string_view region) {
    return normalize_phone(v, region);
  };
  options.consent = [purposes = consent_purposes(ctx.config()), now = options.now](
                        const std::string& purpose, const std::optional<std::string>& channel) {
    ConsentChange probe; // checks purpose and channel as a change would
    probe.action = "withdraw";
    probe.purpose = purpose;
    probe.channel = channel;
    validate_consent_change(purposes, probe);
    return consent_allowed_sql(find_purpose(purposes, purpose), channel, now);
  };
  return compile_contact_filter(expression, options);
}

void register_contact(CLI::App& command, Context& ctx) {
  auto* contact = &command;
  contact->require_subcommand(1);
  // Setting up options costs time at every start, so when the command line
  // names one subcommand only that one is set up.
  static constexpr std::string_view k_subcommands[] = {
      "add",  "import",  "show",   "list",   "search", "update", "delete", "tag",  "untag",
      "note", "history", "exists", "dedupe", "merge",  "task",   "assign", "erase"};
  auto named = ctx.subcommand;
  bool known = named && std::find(std::begin(k_subcommands), std::end(k_subcommands), *named) !=
                            std::end(k_subcommands);
  auto wants = [&](std::string_view name) { return !known || *named == name; };

  if (wants("add")) {
    auto* cmd = contact->add_subcommand("add", "Add a contact");
    auto f = std::make_shared<FieldOptions>();
    add_field_options(cmd, *f);
    cmd->add_flag("--allow-erased", ctx.allow_erased,
                  "Accept an email or phone of an erased person");
    cmd->callback([&ctx, f] {
      ctx.action = [&ctx, f] {
        auto changes = to_changes(*f);
        auto id = add_contact(ctx.database(), changes, ctx.write_context());
        print_changed(ctx, {id}, false, false);
        return 0;
      };
    });
  }
  if (wants("import"))
    register_contact_import(*contact, ctx);
  if (wants("show")) {
    auto* cmd = contact->add_subcommand("show", "Show contacts with all their attributes");
    auto refs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("ref", *refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->callback([&ctx, refs] {
      ctx.action = [&ctx, refs] {
        if (fields_help(ctx))
          return 0;
        auto ids = ctx.resolve(*refs);
        std::vector<Contact> contacts;
        for (auto id : ids)
          if (auto c = find_contact(ctx.database(), id))
            contacts.push_back(std::move(*c));
        auto keys = [&] {
          std::set<std::string> set;
          for (const auto& c : contacts)
            for (const auto& [k, v] : c.attrs)
              set.insert(k);
          return std::vector<std::string>(set.begin(), set.end());
        };
        auto columns = contact_columns(ctx, keys, true);
        print_contacts(ctx, columns, [&](const auto& row) {
          for (const auto& c : contacts)
            row(c);
        });
        return 0;
      };
    });
  }
  if (wants("list")) {
    auto* cmd = contact->add_subcommand("list", "List contacts");
    auto where = std::make_shared<std::string>();
    auto sort = std::make_shared<std::string>();
    auto limit = std::make_shared<std::optional<std::int64_t>>();
    cmd->add_option("--where", *where, "Filter expression (see crm(1) FILTERS)")->type_name("EXPR");
    cmd->add_option("--sort", *sort, "Sort by FIELD[,-FIELD] (- descending)")->type_name("FIELDS");
    cmd->add_option("--limit", *limit, "At most N rows")
        ->type_name("N")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([&ctx, where, sort, limit] {
      ctx.action = [&ctx, where, sort, limit] {
        if (fields_help(ctx))
          return 0;
        ListQuery query;
        if (!where->empty())
          query.where = where_filter(ctx, *where);
        if (!sort->empty())
          query.sort = parse_sort(*sort);
        query.limit = *limit;
        auto& db = ctx.database();
        auto columns = contact_columns(
            ctx, [&] { return attribute_keys(db); }, false);
        query.with_attrs = needs_attrs(columns);
        print_contacts(ctx, columns, [&](const auto& row) { list_contacts(db, query, row); });
        return 0;
      };
    });
  }
  if (wants("search")) {
    auto* cmd =
        contact->add_subcommand("search", "Find contacts by name, email, company, city, notes");
    auto text = std::make_shared<std::vector<std::string>>();
    auto limit = std::make_shared<std::int64_t>(20);
    cmd->add_option("text", *text, "Words to find (prefixes, any case, with or without accents)")
        ->required();
    cmd->add_option("--limit", *limit, "At most N results (0 = all; default 20)")
        ->type_name("N")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([&ctx, text, limit] {
      ctx.action = [&ctx, text, limit] {
        if (fields_help(ctx))
          return 0;
        std::string joined;
        for (const auto& t : *text)
          joined += (joined.empty() ? "" : " ") + t;
        auto& db = ctx.database();
        auto columns = contact_columns(
            ctx, [] { return std::vector<std::string>{}; }, false);
        if (needs_attrs(columns))
          throw Error(Exit::usage, "search shows no attributes", "use 'crm contact show' for them");
        print_contacts(ctx, columns,
                       [&](const auto& row) { search_contacts(db, joined, *limit, row); });
        return 0;
      };
    });
  }
  if (wants("update")) {
    auto* cmd = contact->add_subcommand("update", "Change contacts");
    auto refs = std::make_shared<std::vector<std::string>>();
    auto f = std::make_shared<FieldOptions>();
    auto ids_flag = std::make_shared<bool>(false);
    cmd->add_option("ref", *refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required()
        ->expected(1);
    add_field_options(cmd, *f);
    cmd->add_flag("--allow-erased", ctx.allow_erased,
                  "Accept an email or phone of an erased person");
    cmd->add_option("--unset", f->unset, "Clear a field or attr.NAME")->type_name("FIELD");
    cmd->add_flag("--ids", *ids_flag, "With - : print the ids of the contacts");
    cmd->callback([&ctx, refs, f, ids_flag] {
      ctx.action = [&ctx, refs, f, ids_flag] {
        auto changes = to_changes(*f);
        if (changes.empty())
          throw Error(Exit::usage, "nothing to change",
                      "give fields to set, like --email or --attr key=value");
        auto ids = ctx.resolve(*refs);
        auto changed = update_contacts(ctx.database(), ids, changes, ctx.write_context());
        bool bulk = Context::from_stdin(*refs);
        print_changed(ctx, ids, bulk, *ids_flag);
        if (bulk)
          ctx.summary(fmt::format("updated {}, unchanged {}", changed, ids.size() - changed));
        return 0;
      };
    });
  }
  if (wants("erase")) {
    auto* cmd = contact->add_subcommand(
        "erase", "Erase a person everywhere (GDPR Art. 17), keeping only a tombstone");
    auto refs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("ref", *refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->callback([&ctx, refs] {
      ctx.action = [&ctx, refs] {
        auto ids = ctx.resolve(*refs);
        erase_contacts(ctx.database(), ids, ctx.write_context());
        for (auto id : ids)
          ctx.out() << id << '\n';
        ctx.summary(fmt::format("erased {} contact{}; a tombstone keeps their email and phone "
                                "out of later imports",
                                ids.size(), ids.size() == 1 ? "" : "s"));
        return 0;
      };
    });
  }
  if (wants("purge")) {
    auto* cmd = contact->add_subcommand(
        "purge", "List (or with --apply erase) the contacts the [retention] rule selects");
    auto apply = std::make_shared<bool>(false);
    cmd->add_flag("--apply", *apply, "Erase them, as 'crm contact erase' does");
    cmd->callback([&ctx, apply] {
      ctx.action = [&ctx, apply] {
        auto [inactive_for, text] = retention_rule(ctx.config());
        auto purposes = consent_purposes(ctx.config());
        auto ids = retention_candidates(ctx.database(), purposes, inactive_for, ctx.now());
        if (*apply && !ids.empty())
          erase_contacts(ctx.database(), ids, ctx.write_context());
        for (auto id : ids)
          ctx.out() << id << '\n';
        ctx.summary(*apply ? fmt::format("erased {} contact{} inactive for {}", ids.size(),
                                         ids.size() == 1 ? "" : "s", text)
                           : fmt::format("{} contact{} inactive for {}; --apply erases them",
                                         ids.size(), ids.size() == 1 ? "" : "s", text));
        return 0;
      };
    });
  }
  if (wants("delete")) {
    auto* cmd = contact->add_subcommand("delete", "Delete contacts that have no history");
    auto refs = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    auto ids_flag = std::make_shared<bool>(false);
    cmd->add_option("ref", *refs, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->add_flag("--force", *force, "Delete also contacts with events, consents or memberships");
    cmd->add_flag("--ids", *ids_flag, "With - : print the ids of the contacts");
    cmd->callback([&ctx, refs, force, ids_flag] {
      ctx.action = [&ctx, refs, force, ids_flag] {
        auto ids = ctx.resolve(*refs);
        bool bulk = Context::from_stdin(*refs);
        auto format = ctx.format();
        if (format == Format::json || format == Format::ndjson) {
          // The records as they were, since afterwards they are gone.
          std::vector<Contact> gone;
          for (auto id : ids)
            if (auto c = find_contact(ctx.database(), id))
              gone.push_back(std::move(*c));
          delete_contacts(ctx.database(), ids, *force ? Force::yes : Force::no);
          if (!bulk || *ids_flag)
            print_contacts(ctx, default_columns(), [&](const auto& row) {
              for (const auto& c : gone)
                row(c);
            });
        } else {
          delete_contacts(ctx.database(), ids, *force ? Force::yes : Force::no);
          if (!bulk || *ids_flag)
            for (auto id : ids)
              ctx.out() << id << '\n';
        }
        if (bulk)
          ctx.summary(fmt::format("deleted {}", ids.size()));
        return 0;
      };
    });
  }
  for (bool add : {true, false}) {
    if (!wants(add ? "tag" : "untag"))
      continue;
    auto* cmd = contact->add_subcommand(add ? "tag" : "untag",
                                        add ? "Add tags to contacts" : "Remove tags from contacts");
    auto ref = std::make_shared<std::string>();
    auto tags = std::make_shared<std::vector<std::string>>();
    auto ids_flag = std::make_shared<bool>(false);
    cmd->add_option("ref", *ref, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->add_option("tag", *tags, "Tags")->required();
    cmd->add_flag("--ids", *ids_flag, "With - : print the ids of the contacts");
    cmd->callback([&ctx, add, ref, tags, ids_flag] {
      ctx.action = [&ctx, add, ref, tags, ids_flag] {
        ContactChanges changes;
        (add ? changes.add_tags : changes.remove_tags) = *tags;
        std::vector<std::string> refs{*ref};
        auto ids = ctx.resolve(refs);
        auto changed = update_contacts(ctx.database(), ids, changes, ctx.write_context());
        bool bulk = Context::from_stdin(refs);
        print_changed(ctx, ids, bulk, *ids_flag);
        if (bulk)
          ctx.summary(fmt::format("{} {}, unchanged {}", add ? "tagged" : "untagged", changed,
                                  ids.size() - changed));
        return 0;
      };
    });
  }
  if (wants("note")) {
    auto* cmd = contact->add_subcommand("note", "Add a note to contacts");
    auto ref = std::make_shared<std::string>();
    auto text = std::make_shared<std::string>();
    cmd->add_option("ref", *ref, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->add_option("text", *text, "The note")->required();
    cmd->callback([&ctx, ref, text] {
      ctx.action = [&ctx, ref, text] {
        std::vector<std::string> refs{*ref};
        auto ids = ctx.resolve(refs);
        add_note(ctx.database(), ids, *text, ctx.write_context());
        bool bulk = Context::from_stdin(refs);
        if (!bulk)
          for (auto id : ids)
            ctx.out() << id << '\n';
        else
          ctx.summary(fmt::format("noted {}", ids.size()));
        return 0;
      };
    });
  }
  if (wants("history")) {
    auto* cmd = contact->add_subcommand("history", "Show what changed on a contact, oldest first");
    auto ref = std::make_shared<std::string>();
    cmd->add_option("ref", *ref, "Contact: id, email, ext:ID, tel:PHONE")->required();
    cmd->callback([&ctx, ref] {
      ctx.action = [&ctx, ref] {
        static const std::vector<std::string> k_columns = {"id",     "contact_id", "at",
                                                           "action", "source",     "detail"};
        if (ctx.options.fields && *ctx.options.fields == "help") {
          for (const auto& c : k_columns)
            ctx.out() << c << '\n';
          return 0;
        }
        auto ids = ctx.resolve({*ref});
        auto requested = ctx.fields();
        std::vector<std::size_t> pick;
        if (requested.empty())
          for (std::size_t i = 0; i < k_columns.size(); ++i)
            pick.push_back(i);
        for (const auto& r : requested) {
          auto it = std::find(k_columns.begin(), k_columns.end(), r);
          if (it == k_columns.end())
            throw Error(Exit::usage, fmt::format("unknown field '{}'", r),
                        "'--fields help' lists the fields");
          pick.push_back(static_cast<std::size_t>(it - k_columns.begin()));
        }
        auto writer = ctx.writer();
        std::vector<std::string> names;
        for (auto i : pick)
          names.push_back(k_columns[i]);
        writer->header(names);
        std::vector<Cell> all(6), cells;
        for (const auto& h : contact_history(ctx.database(), ids.front())) {
          all[0] = h.id;
          all[1] = h.contact_id;
          all[2] = h.at;
          all[3] = h.action;
          all[4] = h.source ? Cell(*h.source) : Cell(std::monostate{});
          all[5] = h.detail ? Cell(*h.detail) : Cell(std::monostate{});
          cells.clear();
          for (auto i : pick)
            cells.push_back(all[i]);
          writer->row(cells);
        }
        writer->finish();
        return 0;
      };
    });
  }
  if (wants("exists")) {
    auto* cmd = contact->add_subcommand("exists", "Answer by exit status whether contacts exist");
    auto ref = std::make_shared<std::string>();
    cmd->add_option("ref", *ref, "Contact: id, email, ext:ID, tel:PHONE, or - for stdin")
        ->required();
    cmd->callback([&ctx, ref] {
      ctx.action = [&ctx, ref] {
        auto& db = ctx.database();
        const auto& country = ctx.config().default_country();
        if (*ref != "-")
          return resolve_ref(db, *ref, country) ? 0 : 1;
        bool all = true;
        for (const auto& r : read_refs(std::cin)) {
          bool yes = resolve_ref(db, r, country).has_value();
          all = all && yes;
          ctx.out() << r << '\t' << (yes ? "yes" : "no") << '\n';
        }
        return all ? 0 : 1;
      };
    });
  }
  if (wants("dedupe"))
    register_contact_dedupe(*contact, ctx);
  if (wants("merge"))
    register_contact_merge(*contact, ctx);
  if (wants("task"))
    register_contact_task(*contact, ctx);
  if (wants("assign"))
    register_contact_assign(*contact, ctx);
}

} // namespace crm::cli
