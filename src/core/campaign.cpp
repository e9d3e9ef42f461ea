#include <crm/campaign.hpp>

#include <crm/consent.hpp>
#include <crm/erase.hpp>
#include <crm/error.hpp>

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace crm {

namespace {

// Two numbers in [0, 1) from one SHA3-256 of "CAMPAIGN\nCONTACT_ID": the
// first 13 hex digits over 2^52 decide the holdout and the order under a
// limit, the next 13 the variant, so that the variants split evenly whatever
// the holdout share is. SHA3-256 because the sqlite3 shell has it built in
// (sha3(X, 256)): a user can reproduce the split in SQL (crm-campaign(1)).
struct Draw {
  double holdout = 0.0;
  double variant = 0.0;
};

double unit_from_bytes(const unsigned char* hash, int first_nibble) {
  std::uint64_t v = 0;
  for (int i = first_nibble; i < first_nibble + 13; ++i) {
    const unsigned char byte = hash[i / 2];
    v = v * 16 + ((i % 2 == 0) ? byte >> 4 : byte & 0xf);
  }
  return static_cast<double>(v) / static_cast<double>(std::uint64_t{1} << 52);
}

Draw draw_of(std::string_view campaign, std::int64_t contact_id) {
  // One context per thread and the algorithm fetched once (a select draws
  // for every contact that passes its checks).
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA3-256", nullptr);
    Context() = default;
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    ~Context() {
      EVP_MD_free(md);
      EVP_MD_CTX_free(ctx);
    }
  };
  thread_local Context c;
  const std::string text = fmt::format("{}\n{}", campaign, contact_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int size = 0;
  if (c.ctx == nullptr || c.md == nullptr || EVP_DigestInit_ex(c.ctx, c.md, nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx, hash.data(), &size) != 1 || size < 13)
    throw Error(Exit::internal, "SHA3-256 failed");
  return Draw{unit_from_bytes(hash.data(), 0), unit_from_bytes(hash.data(), 13)};
}

std::optional<std::string> text_or_null(SQLite::Statement& q, int column) {
  if (q.getColumn(column).isNull())
    return std::nullopt;
  return q.getColumn(column).getString();
}

std::string address_column(const Campaign& campaign) {
  return campaign.channel == "email" ? "c.email" : "c.phone";
}

struct Candidate {
  Member member;
  Draw draw;
};

bool by_draw(const Candidate& a, const Candidate& b) {
  if (a.draw.holdout != b.draw.holdout)
    return a.draw.holdout < b.draw.holdout;
  return a.member.contact_id < b.member.contact_id;
}

std::optional<std::int64_t> find_run(Database& db, const std::string& campaign,
                                     const std::string& run_id) {
  SQLite::Statement q(db.sql(), "SELECT id FROM campaign_run WHERE campaign = ? AND run_id = ?");
  q.bind(1, campaign);
  q.bind(2, run_id);
  if (!q.executeStep())
    return std::nullopt;
  return q.getColumn(0).getInt64();
}

// The members of a recorded run, in the order the selection gave them.
std::vector<Member> run_members(Database& db, const Campaign& campaign, std::int64_t run) {
  SQLite::Statement q(db.sql(), "SELECT m.contact_id, " + address_column(campaign) +
                                    ", c.first_name, c.last_name, m.variant, m.holdout "
                                    "FROM campaign_member m JOIN contact c ON c.id = m.contact_id "
                                    "WHERE m.run = ?");
  q.bind(1, run);
  std::vector<Candidate> treated, control;
  while (q.executeStep()) {
    Candidate c;
    c.member.contact_id = q.getColumn(0).getInt64();
    c.member.address = text_or_null(q, 1);
    c.member.first_name = text_or_null(q, 2);
    c.member.last_name = text_or_null(q, 3);
    c.member.variant = text_or_null(q, 4);
    c.member.holdout = q.getColumn(5).getInt() != 0;
    if (c.member.holdout)
      c.member.variant = "control";
    c.draw = draw_of(campaign.name, c.member.contact_id);
    (c.member.holdout ? control : treated).push_back(std::move(c));
  }
  std::sort(treated.begin(), treated.end(), by_draw);
  std::sort(control.begin(), control.end(), by_draw);
  std::vector<Member> out;
  out.reserve(treated.size() + control.size());
  for (auto& c : treated)
    out.push_back(std::move(c.member));
  for (auto& c : control)
    out.push_back(std::move(c.member));
  return out;
}

// Decides the audience as of ctx.now from what the database holds.
Selection decide(Database& db, const Campaign& campaign, const SelectOptions& options,
                 const WriteContext& ctx) {
  // One reason code per contact, its checks in the order of precedence: a
  // CASE stops at the first that fails, so a contact without consent costs
  // no cap or pressure count (about a quarter of a select's time).
  std::string sql = "SELECT c.id, " + address_column(campaign) +
                    ", c.first_name, c.last_name, c.email_norm, c.phone, CASE "
                    "WHEN EXISTS (SELECT 1 FROM undeliverable u WHERE u.contact_id = c.id "
                    "AND u.channel = ?) THEN 1 WHEN NOT " +
                    options.consent.sql + " THEN 2";
  std::vector<SqlValue> params;
  params.emplace_back(campaign.channel);
  params.insert(params.end(), options.consent.params.begin(), options.consent.params.end());
  const std::string now = format_time(ctx.now);
  if (campaign.cap) {
    sql += " WHEN (SELECT count(*) FROM campaign_member m WHERE m.contact_id = c.id "
           "AND m.campaign = ? AND m.holdout = 0 AND m.at > ? AND m.at <= ?) >= ? THEN 3";
    params.emplace_back(campaign.name);
    params.emplace_back(format_time(shift(ctx.now, campaign.cap->per, -1)));
    params.emplace_back(now);
    params.emplace_back(campaign.cap->count);
  }
  if (options.pressure) {
    sql += " WHEN (SELECT count(*) FROM campaign_member m WHERE m.contact_id = c.id "
           "AND m.holdout = 0 AND m.at > ? AND m.at <= ?) >= ? THEN 4";
    params.emplace_back(format_time(shift(ctx.now, options.pressure->per, -1)));
    params.emplace_back(now);
    params.emplace_back(options.pressure->count);
  }
  sql += " ELSE 0 END";
  sql += " FROM contact c";
  if (!options.segment.sql.empty()) {
    sql += " WHERE " + options.segment.sql;
    params.insert(params.end(), options.segment.params.begin(), options.segment.params.end());
  }
  sql += " ORDER BY c.id";

  SQLite::Statement q(db.sql(), sql);
  bind_all(q, params);
  Suppression suppression(db);
  Selection out;
  std::vector<Candidate> treated, control;
  while (q.executeStep()) {
    const std::int64_t id = q.getColumn(0).getInt64();
    std::string_view reason;
    static constexpr std::string_view k_reasons[] = {"", "undeliverable", "no consent", "capped",
                                                     "pressure"};
    if (suppression.erased(text_or_null(q, 4), text_or_null(q, 5)))
      reason = "suppressed";
    else
      reason = k_reasons[q.getColumn(6).getInt()];
    if (!reason.empty()) {
      out.left_out.push_back(LeftOut{id, std::string(reason)});
      continue;
    }
    Candidate c;
    c.member.contact_id = id;
    c.member.address = text_or_null(q, 1);
    c.member.first_name = text_or_null(q, 2);
    c.member.last_name = text_or_null(q, 3);
    c.draw = draw_of(campaign.name, id);
    if (c.draw.holdout < campaign.holdout) {
      c.member.holdout = true;
      c.member.variant = "control";
      out.left_out.push_back(LeftOut{id, "holdout"});
      control.push_back(std::move(c));
      continue;
    }
    if (!campaign.variants.empty()) {
      const auto n = campaign.variants.size();
      const auto i =
          std::min(n - 1, static_cast<std::size_t>(c.draw.variant * static_cast<double>(n)));
      c.member.variant = campaign.variants[i];
    }
    treated.push_back(std::move(c));
  }
  std::sort(treated.begin(), treated.end(), by_draw);
  std::sort(control.begin(), control.end(), by_draw);
  const auto limit = options.limit ? options.limit : campaign.limit;
  if (limit && treated.size() > static_cast<std::size_t>(*limit)) {
    for (auto it = treated.begin() + *limit; it != treated.end(); ++it)
      out.left_out.push_back(LeftOut{it->member.contact_id, "limit"});
    treated.erase(treated.begin() + *limit, treated.end());
  }
  std::sort(out.left_out.begin(), out.left_out.end(),
            [](const LeftOut& a, const LeftOut& b) { return a.contact_id < b.contact_id; });
  for (auto& c : treated)
    out.members.push_back(std::move(c.member));
  for (auto& c : control)
    out.members.push_back(std::move(c.member));
  return out;
}

// "INSERT INTO campaign_member ... VALUES" with `rows` rows: ?1 run, ?2
// campaign, ?3 at, then contact_id, variant and holdout of each row.
std::string member_insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO campaign_member (run, contact_id, campaign, at, variant, "
                    "holdout) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t p = 4 + 3 * i;
    sql += fmt::format("{}(?1, ?{}, ?2, ?3, ?{}, ?{})", i == 0 ? "" : ", ", p, p + 1, p + 2);
  }
  return sql;
}

// Records the run, its members and a history entry per member. The members
// go in by contact id, many rows a statement, so that the two b-trees they
// grow (the run's key range and the by-contact index) are filled page by
// page; the history entries are copied from the members by one INSERT ...
// SELECT.
void record(Database& db, const Campaign& campaign, const Selection& selection,
            const WriteContext& ctx) {
  const std::string at = format_time(ctx.now);
  std::int64_t holdout = 0;
  for (const auto& m : selection.members)
    holdout += m.holdout ? 1 : 0;
  SQLite::Statement run(db.sql(), "INSERT INTO campaign_run (campaign, run_id, at, members, "
                                  "holdout) VALUES (?, ?, ?, ?, ?) RETURNING id");
  run.bind(1, campaign.name);
  run.bind(2, selection.run_id);
  run.bind(3, at);
  run.bind(4, static_cast<std::int64_t>(selection.members.size()) - holdout);
  run.bind(5, holdout);
  run.executeStep();
  const std::int64_t run_key = run.getColumn(0).getInt64();
  run.reset();

  std::vector<const Member*> order;
  order.reserve(selection.members.size());
  for (const auto& m : selection.members)
    order.push_back(&m);
  std::sort(order.begin(), order.end(),
            [](const Member* a, const Member* b) { return a->contact_id < b->contact_id; });
  constexpr std::size_t k_rows = 200;
  std::optional<SQLite::Statement> full;
  for (std::size_t first = 0; first < order.size(); first += k_rows) {
    const std::size_t rows = std::min(k_rows, order.size() - first);
    std::optional<SQLite::Statement> last;
    if (rows == k_rows && !full)
      full.emplace(db.sql(), member_insert_sql(k_rows));
    else if (rows != k_rows)
      last.emplace(db.sql(), member_insert_sql(rows));
    SQLite::Statement& q = rows == k_rows ? *full : *last;
    q.bind(1, run_key);
    q.bind(2, campaign.name);
    q.bind(3, at);
    for (std::size_t i = 0; i < rows; ++i) {
      const Member& m = *order[first + i];
      const int p = static_cast<int>(4 + 3 * i);
      q.bind(p, m.contact_id);
      if (m.variant && !m.holdout)
        q.bind(p + 1, *m.variant);
      else
        q.bind(p + 1);
      q.bind(p + 2, m.holdout ? 1 : 0);
    }
    q.exec();
    q.reset();
  }

  SQLite::Statement history(
      db.sql(), "INSERT INTO history (contact_id, at, action, source, detail) "
                "SELECT contact_id, ?2, 'campaign member', ?3, ?4 || CASE WHEN holdout = 1 "
                "THEN ' (holdout)' WHEN variant IS NOT NULL THEN ' variant ' || variant "
                "ELSE '' END FROM campaign_member WHERE run = ?1 ORDER BY contact_id");
  history.bind(1, run_key);
  history.bind(2, at);
  history.bind(3, ctx.source);
  history.bind(4, fmt::format("campaign {} run {}", campaign.name, selection.run_id));
  history.exec();
}

} // namespace

std::vector<Campaign> campaigns(const Config& config) {
  std::vector<Campaign> out;
  const toml::table* all = config.table()["campaigns"].as_table();
  if (all == nullptr)
    return out;
  for (const auto& [name, node] : *all) {
    const toml::table* t = node.as_table();
    if (t == nullptr)
      continue;
    Campaign c;
    c.name = std::string(name.str());
    c.channel = (*t)["channel"].value_or(std::string());
    c.purpose = (*t)["purpose"].value_or(std::string());
    c.segment = (*t)["segment"].value<std::string>();
    if (auto text = (*t)["cap"].value<std::string>())
      c.cap = parse_rate(*text);
    c.holdout = (*t)["holdout"].value_or(0.0);
    c.priority = (*t)["priority"].value_or(std::int64_t{0});
    c.schedule = (*t)["schedule"].value_or(std::string("once"));
    c.limit = (*t)["limit"].value<std::int64_t>();
    if (const toml::array* variants = (*t)["variants"].as_array())
      for (const auto& v : *variants)
        if (auto s = v.value<std::string>())
          c.variants.push_back(*s);
    c.description = (*t)["description"].value<std::string>();
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const Campaign& a, const Campaign& b) { return a.name < b.name; });
  return out;
}

std::optional<Rate> pressure_cap(const Config& config) {
  if (auto text = config.table()["pressure"]["max"].value<std::string>())
    return parse_rate(*text);
  return std::nullopt;
}

const Campaign& find_campaign(std::span<const Campaign> all, std::string_view name) {
  for (const auto& c : all)
    if (c.name == name)
      return c;
  std::vector<std::string_view> names;
  for (const auto& c : all)
    names.push_back(c.name);
  throw Error(Exit::not_found, fmt::format("no campaign '{}'", name),
              names.empty() ? std::string("the config defines no [campaigns.NAME]")
                            : fmt::format("campaigns: {}", fmt::join(names, ", ")));
}

std::string default_run_id(const Campaign& campaign, TimePoint now) {
  using namespace std::chrono;
  const sys_days day = floor<days>(now);
  const year_month_day ymd{day};
  if (campaign.schedule == "daily")
    return fmt::format("{}-{}", campaign.name, format_date(day));
  if (campaign.schedule == "monthly")
    return fmt::format("{}-{:04}-{:02}", campaign.name, static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()));
  if (campaign.schedule == "weekly") {
    // ISO 8601: the week belongs to the year of its Thursday.
    const unsigned iso_weekday = weekday{day}.iso_encoding(); // Monday 1 .. Sunday 7
    const sys_days thursday = day - days{iso_weekday} + days{4};
    const year iso_year = year_month_day{thursday}.year();
    const sys_days jan1 = sys_days{iso_year / January / 1};
    const auto week = (thursday - jan1).count() / 7 + 1;
    return fmt::format("{}-{:04}-W{:02}", campaign.name, static_cast<int>(iso_year), week);
  }
  return campaign.name;
}

double holdout_draw(std::string_view campaign, std::int64_t contact_id) {
  return draw_of(campaign, contact_id).holdout;
}

Selection select_campaign(Database& db, const Campaign& campaign, const SelectOptions& options,
                          const WriteContext& ctx) {
  const std::string run_id = options.run_id.value_or(default_run_id(campaign, ctx.now));
  if (run_id.empty())
    throw Error(Exit::usage, "cannot select: the run id is empty");
  Selection out;
  auto work = [&] {
    if (auto run = find_run(db, campaign.name, run_id)) {
      out.run_id = run_id;
      out.existing = true;
      out.members = run_members(db, campaign, *run);
      return;
    }
    out = decide(db, campaign, options, ctx);
    out.run_id = run_id;
    if (options.dry_run == DryRun::no)
      record(db, campaign, out, ctx);
  };
  try {
    if (options.dry_run == DryRun::yes)
      db.read(work);
    else
      db.write(work);
  } catch (const SQLite::Exception& e) {
    throw_sqlite_error(e, fmt::format("cannot select campaign {}", campaign.name));
  }
  return out;
}

std::vector<CampaignRun> campaign_runs(Database& db, std::string_view campaign) {
  SQLite::Statement q(db.sql(), "SELECT id, campaign, run_id, at, members, holdout "
                                "FROM campaign_run WHERE ? = '' OR campaign = ? ORDER BY id");
  q.bind(1, std::string(campaign));
  q.bind(2, std::string(campaign));
  std::vector<CampaignRun> out;
  while (q.executeStep())
    out.push_back(CampaignRun{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                              q.getColumn(2).getString(), q.getColumn(3).getString(),
                              q.getColumn(4).getInt64(), q.getColumn(5).getInt64()});
  return out;
}

} // namespace crm
