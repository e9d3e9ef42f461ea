#include <crm/campaign.hpp>

#include <crm/error.hpp>
#include <crm/journey.hpp>
#include <crm/normalize.hpp>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>

namespace crm {

namespace {

constexpr std::array<std::pair<std::string_view, ResponseType>, 7> k_types = {{
    {"delivered", ResponseType::delivered},
    {"bounced_hard", ResponseType::bounced_hard},
    {"bounced_soft", ResponseType::bounced_soft},
    {"opened", ResponseType::opened},
    {"clicked", ResponseType::clicked},
    {"converted", ResponseType::converted},
    {"unsubscribed", ResponseType::unsubscribed},
}};

const Campaign* campaign_named(const ResponseSettings& settings, std::string_view name) {
  for (const auto& c : settings.campaigns)
    if (c.name == name)
      return &c;
  return nullptr;
}

// The run a response belongs to, once checked.
struct Target {
  std::int64_t run = 0;
  std::string run_id;
};

// Checks responses against the runs and memberships, and writes them inside
// the caller's write transaction with statements prepared once.
class ResponseWriter {
public:
  ResponseWriter(Database& db, const ResponseSettings& settings, const WriteContext& ctx)
      : m_db(db), m_settings(settings), m_ctx(ctx), m_now(format_time(ctx.now)),
        m_run(db.sql(), "SELECT id FROM campaign_run WHERE campaign = ? AND run_id = ?"),
        m_member(db.sql(), "SELECT holdout FROM campaign_member WHERE run = ? AND contact_id = ?"),
        m_latest(db.sql(),
                 "SELECT r.id, r.run_id, m.holdout FROM campaign_member m "
                 "JOIN campaign_run r ON r.id = m.run WHERE m.contact_id = ? AND m.campaign = ? "
                 "ORDER BY r.at <= ? DESC, r.at DESC, r.id DESC LIMIT 1"),
        m_insert(db.sql(), "INSERT INTO campaign_response (run, contact_id, type, at, amount) "
                           "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id"),
        m_history(db.sql(), "INSERT INTO history (contact_id, at, action, source, detail) "
                            "VALUES (?, ?, 'campaign response', ?, ?)"),
        m_undeliverable(db.sql(), "INSERT INTO undeliverable (contact_id, channel, at, source) "
                                  "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING") {}

  // The run of `r`; throws as record_response documents.
  Target check(const Campaign& campaign, const Response& r) {
    if (r.amount && r.type != ResponseType::converted)
      throw Error(Exit::data, fmt::format("an amount is only for converted, not {}",
                                          response_type_name(r.type)));
    Target t;
    bool holdout = false;
    if (r.run_id) {
      m_run.bind(1, campaign.name);
      m_run.bind(2, *r.run_id);
      const bool found = m_run.executeStep();
      if (found)
        t.run = m_run.getColumn(0).getInt64();
      m_run.reset();
      if (!found)
        throw Error(Exit::not_found,
                    fmt::format("campaign {} has no run '{}'", campaign.name, *r.run_id));
      t.run_id = *r.run_id;
      m_member.bind(1, t.run);
      m_member.bind(2, r.contact_id);
      const bool member = m_member.executeStep();
      if (member)
        holdout = m_member.getColumn(0).getInt() != 0;
      m_member.reset();
      if (!member)
        throw Error(Exit::not_found,
                    fmt::format("contact {} is not a member of run {}", r.contact_id, t.run_id));
    } else {
      m_latest.bind(1, r.contact_id);
      m_latest.bind(2, campaign.name);
      m_latest.bind(3, format_time(r.at));
      const bool member = m_latest.executeStep();
      if (member) {
        t.run = m_latest.getColumn(0).getInt64();
        t.run_id = m_latest.getColumn(1).getString();
        holdout = m_latest.getColumn(2).getInt() != 0;
      }
      m_latest.reset();
      if (!member)
        throw Error(Exit::not_found, fmt::format("contact {} is not a member of any run of "
                                                 "campaign {}",
                                                 r.contact_id, campaign.name));
    }
    if (holdout)
      throw Error(Exit::data, fmt::format("contact {} is in the holdout of run {}: it was sent "
                                          "nothing, so it cannot respond",
                                          r.contact_id, t.run_id));
    return t;
  }

  // Call inside each write transaction before write(), and finish() before it commits.
  void begin() { m_consent = std::make_unique<ConsentWriter>(m_db, m_ctx); }
  void finish() {
    m_consent->finish();
    m_consent.reset();
  }

  // Writes a checked response; false if it was recorded before.
  bool write(const Campaign& campaign, const Response& r, const Target& t) {
    const std::string at = format_time(r.at);
    const std::string_view type = response_type_name(r.type);
    m_insert.bind(1, t.run);
    m_insert.bind(2, r.contact_id);
    m_insert.bind(3, std::string(type));
    m_insert.bindNoCopy(4, at);
    if (r.amount)
      m_insert.bind(5, *r.amount);
    else
      m_insert.bind(5);
    const bool inserted = m_insert.executeStep();
    m_insert.reset();
    if (!inserted)
      return false;

    std::string detail =
        fmt::format("campaign {} run {}: {} at {}", campaign.name, t.run_id, type, at);
    if (r.amount)
      detail += fmt::format(" amount {}.{:02}", *r.amount / 100, std::abs(*r.amount % 100));
    m_history.bind(1, r.contact_id);
    m_history.bind(2, m_now);
    m_history.bind(3, m_ctx.source);
    m_history.bind(4, detail);
    m_history.exec();
    m_history.reset();

    Event e;
    e.contact_id = r.contact_id;
    e.touchpoint = r.type == ResponseType::converted ? m_settings.journey.conversion
                                                     : fmt::format("{}_{}", campaign.channel, type);
    e.channel = campaign.channel;
    if (const JourneyTouchpoint* tp = m_settings.journey.touchpoint(e.touchpoint)) {
      e.phase = tp->phase;
      if (r.type == ResponseType::converted && tp->channel)
        e.channel = tp->channel;
    }
    e.at = at;
    e.amount = r.amount;
    e.campaign = campaign.name;
    insert_event(m_db, e);

    const std::string source = fmt::format("campaign {}", campaign.name);
    if (r.type == ResponseType::unsubscribed) {
      ConsentChange change;
      change.action = "withdraw";
      change.purpose = campaign.purpose;
      change.channel = campaign.channel;
      change.at = r.at;
      change.source = source;
      m_consent->append(r.contact_id, change, std::nullopt);
    } else if (r.type == ResponseType::bounced_hard) {
      m_undeliverable.bind(1, r.contact_id);
      m_undeliverable.bind(2, campaign.channel);
      m_undeliverable.bindNoCopy(3, at);
      m_undeliverable.bind(4, source);
      m_undeliverable.exec();
      m_undeliverable.reset();
    }
    return true;
  }

private:
  Database& m_db;
  const ResponseSettings& m_settings;
  WriteContext m_ctx;
  std::string m_now;
  SQLite::Statement m_run, m_member, m_latest, m_insert, m_history, m_undeliverable;
  std::unique_ptr<ConsentWriter> m_consent;
};

// The campaign's purpose and channel must be in the config, or an
// unsubscribe could not be recorded.
void check_purpose(const ResponseSettings& settings, const Campaign& campaign) {
  ConsentChange probe;
  probe.action = "withdraw";
  probe.purpose = campaign.purpose;
  probe.channel = campaign.channel;
  try {
    validate_consent_change(settings.purposes, probe);
  } catch (const Error& e) {
    throw Error(Exit::config, fmt::format("campaigns.{}: {}", campaign.name, e.what()), e.hint());
  }
}

// --- import ---------------------------------------------------------------

enum class Slot { contact_id, external_id, email, campaign, run, type, at, amount, ignore };

constexpr std::pair<std::string_view, Slot> k_names[] = {
    {"contactid", Slot::contact_id},
    {"contact", Slot::contact_id},
    {"id", Slot::contact_id},
    {"externalid", Slot::external_id},
    {"email", Slot::email},
    {"mail", Slot::email},
    {"campaign", Slot::campaign},
    {"run", Slot::run},
    {"runid", Slot::run},
    {"type", Slot::type},
    {"response", Slot::type},
    {"event", Slot::type},
    {"at", Slot::at},
    {"time", Slot::at},
    {"timestamp", Slot::at},
    {"amount", Slot::amount},
};

Slot target_of(std::string_view target) {
  if (target == "-")
    return Slot::ignore;
  const std::string simple = simplified_column(target);
  for (const auto& [name, slot] : k_names)
    if (name == simple && simple != "contact" && simple != "id" && simple != "mail" &&
        simple != "response" && simple != "event" && simple != "time" && simple != "timestamp" &&
        simple != "runid")
      return slot;
  throw Error(Exit::usage, fmt::format("--map: unknown response field '{}'", target),
              "map to contact_id, external_id, email, campaign, run, type, at, amount, "
              "or - to ignore the column");
}

Slot resolve_column(const std::string& column, const ResponseImportOptions& options) {
  for (const auto& [from, to] : options.map)
    if (from == column)
      return target_of(to);
  const std::string simple = simplified_column(column);
  for (const auto& [name, slot] : k_names)
    if (name == simple)
      return slot;
  return Slot::ignore;
}

std::string too_many_rejects(std::size_t max) {
  return fmt::format("too many rejected rows: more than {} (--max-rejects); nothing was imported",
                     max);
}

// A checked row, waiting to be written.
struct Pending {
  const Campaign* campaign = nullptr;
  Response response;
  Target target;
};

class ResponseReader {
public:
  ResponseReader(Database& db, RecordReader& reader, const ResponseImportOptions& options,
                 const ResponseSettings& settings, RejectSink& rejects, ResponseWriter& writer)
      : m_reader(reader), m_options(options), m_settings(settings), m_rejects(rejects),
        m_writer(writer), m_by_id(db.sql(), "SELECT id FROM contact WHERE id = ?"),
        m_by_external_id(db.sql(), "SELECT id FROM contact WHERE external_id = ?"),
        m_by_email(db.sql(), "SELECT id FROM contact WHERE email_norm = ? ORDER BY id LIMIT 1") {}

  std::size_t rejected() const { return m_rejected; }

  // Reads and checks every row; the good ones go to `out`.
  void run(std::vector<Pending>& out, const std::function<void(std::size_t)>& progress) {
    std::size_t rows = 0;
    while (m_reader.next(m_record)) {
      ++rows;
      if (auto p = check_row())
        out.push_back(std::move(*p));
      if (progress && (rows & 0x3FF) == 0)
        progress(rows);
    }
  }

private:
  void reject(std::string_view reason) {
    ++m_rejected;
    m_rejects.reject(m_reader, m_record, reason);
    if (m_options.max_rejects && m_rejected > *m_options.max_rejects)
      throw Error(Exit::data, too_many_rejects(*m_options.max_rejects),
                  "the rejected rows are listed above or in the --rejects file");
  }

  std::optional<std::int64_t> contact_of(Slot slot, const std::string& ref) {
    SQLite::Statement* query = nullptr;
    if (slot == Slot::contact_id) {
      std::int64_t id = 0;
      auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
      if (ec != std::errc{} || end != ref.data() + ref.size() || id <= 0)
        throw Error(Exit::data,
                    fmt::format("invalid contact_id '{}': expected a positive integer", ref));
      query = &m_by_id;
      query->bind(1, id);
    } else if (slot == Slot::external_id) {
      query = &m_by_external_id;
      query->bind(1, ref);
    } else {
      query = &m_by_email;
      query->bind(1, email_match_key(ref));
    }
    std::optional<std::int64_t> id;
    if (query->executeStep())
      id = query->getColumn(0).getInt64();
    query->reset();
    if (!id)
      throw Error(Exit::data, fmt::format("no contact with {} '{}'",
                                          slot == Slot::contact_id    ? "id"
                                          : slot == Slot::external_id ? "external_id"
                                                                      : "email",
                                          ref));
    return id;
  }

  std::optional<Pending> check_row() {
    if (!m_record.error.empty()) {
      reject(m_record.error);
      return std::nullopt;
    }
    const auto& columns = m_reader.columns();
    while (m_slots.size() < columns.size())
      m_slots.push_back(resolve_column(columns[m_slots.size()], m_options));
    std::array<const std::string*, 8> v{};
    for (std::size_t i = 0; i < m_record.values.size() && i < m_slots.size(); ++i) {
      const auto& value = m_record.values[i];
      const auto slot = static_cast<std::size_t>(m_slots[i]);
      if (value && !value->empty() && m_slots[i] != Slot::ignore && v[slot] == nullptr)
        v[slot] = &*value;
    }
    auto get = [&](Slot s) { return v[static_cast<std::size_t>(s)]; };
    try {
      if (get(Slot::campaign) == nullptr)
        throw Error(Exit::data, "no campaign");
      const Campaign* campaign = campaign_named(m_settings, *get(Slot::campaign));
      if (campaign == nullptr)
        throw Error(Exit::data, fmt::format("no campaign '{}'", *get(Slot::campaign)));
      if (get(Slot::type) == nullptr)
        throw Error(Exit::data, "no type");
      Pending p;
      p.campaign = campaign;
      auto type = parse_response_type(*get(Slot::type));
      if (!type)
        throw Error(Exit::data, fmt::format("invalid type '{}': expected delivered, "
                                            "bounced_hard, bounced_soft, opened, clicked, "
                                            "converted or unsubscribed",
                                            *get(Slot::type)));
      p.response.type = *type;
      if (get(Slot::at) == nullptr)
        throw Error(Exit::data, "no time (column at): an imported response needs its time");
      p.response.at = parse_time_or_throw(*get(Slot::at), "at");
      if (const std::string* amount = get(Slot::amount)) {
        p.response.amount = parse_amount(*amount);
        if (!p.response.amount)
          throw Error(Exit::data, fmt::format("invalid amount '{}'", *amount));
      }
      if (const std::string* run = get(Slot::run))
        p.response.run_id = *run;
      std::optional<std::int64_t> contact;
      if (get(Slot::contact_id))
        contact = contact_of(Slot::contact_id, *get(Slot::contact_id));
      else if (get(Slot::external_id))
        contact = contact_of(Slot::external_id, *get(Slot::external_id));
      else if (get(Slot::email))
        contact = contact_of(Slot::email, *get(Slot::email));
      else
        throw Error(Exit::data, "no contact: the row needs contact_id, external_id or email");
      p.response.contact_id = *contact;
      p.target = m_writer.check(*campaign, p.response);
      return p;
    } catch (const Error& e) {
      if (e.code() != Exit::data && e.code() != Exit::not_found)
        throw;
      reject(e.what());
      return std::nullopt;
    }
  }

  RecordReader& m_reader;
  const ResponseImportOptions& m_options;
  const ResponseSettings& m_settings;
  RejectSink& m_rejects;
  ResponseWriter& m_writer;
  SQLite::Statement m_by_id, m_by_external_id, m_by_email;
  InputRecord m_record;
  std::vector<Slot> m_slots;
  std::size_t m_rejected = 0;
};

// --- report -----------------------------------------------------------------

struct RunRow {
  std::int64_t id = 0;
  std::string run_id, at;
};

std::optional<double> share(std::int64_t part, std::int64_t whole) {
  if (whole <= 0)
    return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

} // namespace

std::optional<ResponseType> parse_response_type(std::string_view name) {
  for (const auto& [n, t] : k_types)
    if (n == name)
      return t;
  return std::nullopt;
}

std::string_view response_type_name(ResponseType type) {
  for (const auto& [n, t] : k_types)
    if (t == type)
      return n;
  return "delivered";
}

ResponseResult record_response(Database& db, const ResponseSettings& settings,
                               const Campaign& campaign, const Response& response,
                               const WriteContext& ctx) {
  check_purpose(settings, campaign);
  ResponseResult out;
  try {
    db.write([&] {
      ResponseWriter writer(db, settings, ctx);
      const Target t = writer.check(campaign, response);
      out.run_id = t.run_id;
      writer.begin();
      out.recorded = writer.write(campaign, response, t);
      writer.finish();
    });
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot record the response");
  }
  return out;
}

ResponseImportSummary import_responses(Database& db, RecordReader& reader,
                                       const ResponseImportOptions& options,
                                       const ResponseSettings& settings, const WriteContext& ctx,
                                       RejectSink& rejects,
                                       const std::function<void(std::size_t)>& progress) {
  for (const auto& [from, to] : options.map)
    target_of(to);
  for (const auto& c : settings.campaigns)
    check_purpose(settings, c);
  ResponseImportSummary summary;
  try {
    ResponseWriter writer(db, settings, ctx);
    std::vector<Pending> rows;
    {
      // One snapshot for the checks: the memberships do not move under them.
      ResponseReader check(db, reader, options, settings, rejects, writer);
      db.read([&] { check.run(rows, progress); });
      summary.rejected = check.rejected();
    }
    auto write_range = [&](std::size_t from, std::size_t to) {
      writer.begin();
      for (std::size_t i = from; i < to; ++i)
        (writer.write(*rows[i].campaign, rows[i].response, rows[i].target) ? summary.inserted
                                                                           : summary.unchanged)++;
      writer.finish();
    };
    if (options.dry_run == DryRun::yes) {
      // Everything happens, then is rolled back: the counts are exact.
      SQLite::Transaction transaction(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
      write_range(0, rows.size());
      return summary;
    }
    const std::size_t step =
        options.batch == 0 ? std::max<std::size_t>(rows.size(), 1) : options.batch;
    for (std::size_t from = 0; from < rows.size(); from += step)
      db.write([&] { write_range(from, std::min(rows.size(), from + step)); });
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot import responses");
  }
  return summary;
}

std::vector<RunReport> campaign_report(Database& db, const Campaign& campaign,
                                       const ReportOptions& options) {
  std::vector<RunReport> out;
  try {
    db.read([&] {
      std::vector<RunRow> runs;
      SQLite::Statement q(db.sql(), "SELECT id, run_id, at FROM campaign_run WHERE campaign = ? "
                                    "AND (? IS NULL OR run_id = ?) ORDER BY at, id");
      q.bind(1, campaign.name);
      if (options.run_id) {
        q.bind(2, *options.run_id);
        q.bind(3, *options.run_id);
      } else {
        q.bind(2);
        q.bind(3);
      }
      while (q.executeStep())
        runs.push_back(
            {q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString()});
      if (options.run_id && runs.empty())
        throw Error(Exit::not_found,
                    fmt::format("campaign {} has no run '{}'", campaign.name, *options.run_id));
      // Per group (holdout 0/1): members, converted members, their revenue.
      SQLite::Statement groups(
          db.sql(), "SELECT m.holdout, count(*), "
                    "sum(EXISTS (SELECT 1 FROM event e WHERE e.contact_id = m.contact_id "
                    " AND e.touchpoint = ?1 AND e.at >= ?2 AND e.at <= ?3)), "
                    "sum((SELECT ifnull(sum(e.amount), 0) FROM event e "
                    " WHERE e.contact_id = m.contact_id AND e.touchpoint = ?1 AND e.at >= ?2 "
                    " AND e.at <= ?3)) "
                    "FROM campaign_member m WHERE m.run = ?4 GROUP BY m.holdout");
      SQLite::Statement responses(db.sql(), "SELECT type, count(DISTINCT contact_id) FROM "
                                            "campaign_response WHERE run = ? GROUP BY type");
      for (const auto& run : runs) {
        RunReport r;
        r.run_id = run.run_id;
        r.at = run.at;
        const auto start = parse_time(run.at).value_or(TimePoint{});
        groups.bind(1, options.conversion);
        groups.bind(2, run.at);
        groups.bind(3, format_time(shift(start, options.window, 1)));
        groups.bind(4, run.id);
        while (groups.executeStep()) {
          const bool control = groups.getColumn(0).getInt() != 0;
          const std::int64_t n = groups.getColumn(1).getInt64();
          const std::int64_t converted = groups.getColumn(2).getInt64();
          if (control) {
            r.holdout = n;
            r.holdout_conversions = converted;
          } else {
            r.members = n;
            r.conversions = converted;
            r.revenue = groups.getColumn(3).getInt64();
          }
        }
        groups.reset();
        responses.bind(1, run.id);
        while (responses.executeStep()) {
          const auto type = parse_response_type(responses.getColumn(0).getString());
          const std::int64_t n = responses.getColumn(1).getInt64();
          if (type == ResponseType::delivered)
            r.delivered = n;
          else if (type == ResponseType::bounced_hard || type == ResponseType::bounced_soft)
            r.bounced += n;
          else if (type == ResponseType::opened)
            r.opened = n;
          else if (type == ResponseType::clicked)
            r.clicked = n;
          else if (type == ResponseType::unsubscribed)
            r.unsubscribed = n;
        }
        responses.reset();
        r.audience = r.members + r.holdout;
        r.delivered_rate = share(r.delivered, r.members);
        r.open_rate = share(r.opened, r.members);
        r.click_rate = share(r.clicked, r.members);
        r.conversion_rate = share(r.conversions, r.members);
        r.holdout_conversion_rate = share(r.holdout_conversions, r.holdout);
        if (r.conversion_rate && r.holdout_conversion_rate) {
          const double p1 = *r.conversion_rate, p0 = *r.holdout_conversion_rate;
          const double se = std::sqrt(p1 * (1 - p1) / static_cast<double>(r.members) +
                                      p0 * (1 - p0) / static_cast<double>(r.holdout));
          constexpr double z = 1.959963984540054;
          r.uplift = (p1 - p0) * 100.0;
          r.uplift_low = (p1 - p0 - z * se) * 100.0;
          r.uplift_high = (p1 - p0 + z * se) * 100.0;
        }
        out.push_back(std::move(r));
      }
    });
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, "cannot report the campaign");
  }
  return out;
}

std::vector<PlanRow> campaign_plan(Database& db, std::span<const PlanCampaign> plan,
                                   const WriteContext& ctx) {
  std::vector<const PlanCampaign*> order;
  for (const auto& p : plan)
    order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](const PlanCampaign* a, const PlanCampaign* b) {
    if (a->campaign->priority != b->campaign->priority)
      return a->campaign->priority > b->campaign->priority;
    return a->campaign->name < b->campaign->name;
  });
  std::map<std::int64_t, PlanRow> chosen;
  for (const PlanCampaign* p : order) {
    SelectOptions options = p->options;
    options.dry_run = DryRun::yes;
    // A run id no run has, so that the decision is made afresh.
    options.run_id = fmt::format("{}\n(plan)", p->campaign->name);
    const Selection s = select_campaign(db, *p->campaign, options, ctx);
    for (const auto& m : s.members)
      if (!m.holdout)
        chosen.emplace(m.contact_id,
                       PlanRow{m.contact_id, p->campaign->name, p->campaign->priority});
  }
  std::vector<PlanRow> out;
  out.reserve(chosen.size());
  for (auto& [id, row] : chosen)
    out.push_back(std::move(row));
  return out;
}

} // namespace crm
