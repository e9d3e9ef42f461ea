#include "context.hpp"

#include <crm/error.hpp>

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <streambuf>
#include <unistd.h>

namespace crm::cli {

namespace {

// stdout as a stream with a 64 KiB buffer; a closed pipe throws BrokenPipe.
class StdoutBuffer : public std::streambuf {
public:
  StdoutBuffer() { setp(m_buffer, m_buffer + sizeof m_buffer); }
  ~StdoutBuffer() override {
    try {
      drain();
    } catch (...) {
    }
  }

protected:
  int_type overflow(int_type ch) override {
    drain();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override {
    drain();
    return 0;
  }

private:
  void drain() {
    const char* p = pbase();
    while (p < pptr()) {
      ssize_t n = ::write(STDOUT_FILENO, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0) {
        if (errno == EINTR)
          continue;
        setp(m_buffer, m_buffer + sizeof m_buffer);
        if (errno == EPIPE)
          throw BrokenPipe{};
        throw Error(Exit::io,
                    fmt::format("cannot write to standard output: {}", std::strerror(errno)));
      }
      p += n;
    }
    setp(m_buffer, m_buffer + sizeof m_buffer);
  }
  char m_buffer[64 * 1024];
};

} // namespace

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  return std::string(value);
}

const Config& Context::config() {
  if (!m_config) {
    auto location =
        find_config(options.config, env("CRM_CONFIG"), env("XDG_CONFIG_HOME"), env("HOME"));
    m_config = Config::load(location);
  }
  return *m_config;
}

std::filesystem::path Context::database_path() {
  if (options.db)
    return *options.db;
  if (auto e = env("CRM_DB"))
    return *e;
  if (auto p = config().database_path())
    return *p;
  return "crm.db";
}

Database& Context::database() {
  if (!m_database) {
    auto path = database_path();
    m_database = std::make_unique<Database>(path, config().busy_timeout_ms(), Create::no);
    if (readable_by_others(path))
      warn(fmt::format("warning: database '{}' is readable by others; it holds personal data "
                       "(chmod 600 '{}')",
                       path.string(), path.string()));
  }
  return *m_database;
}

TimePoint Context::now() {
  if (!m_now) {
    if (options.now)
      m_now = parse_time_or_throw(*options.now, "--now");
    else if (auto e = env("CRM_NOW"))
      m_now = parse_time_or_throw(*e, "CRM_NOW");
    else
      m_now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
  return *m_now;
}

WriteContext Context::write_context() {
  WriteContext w;
  w.now = now();
  w.default_country = config().default_country();
  w.source = "cli";
  w.allow_erased = allow_erased;
  return w;
}

Format Context::format() {
  std::optional<std::string> name = options.format;
  if (!name)
    name = env("CRM_FORMAT");
  if (name) {
    auto f = parse_format(*name);
    if (!f)
      throw Error(Exit::usage, fmt::format("unknown format '{}'", *name),
                  "formats: table, csv, tsv, json, ndjson");
    return *f;
  }
  if (::isatty(STDOUT_FILENO))
    return config().default_format().value_or(Format::table);
  return Format::tsv;
}

std::ostream& Context::out() {
  static StdoutBuffer buffer;
  static std::ostream stream(&buffer);
  stream.exceptions(std::ios::badbit);
  return stream;
}

std::unique_ptr<RowWriter> Context::writer() {
  WriterOptions w;
  w.header = !options.no_header;
  bool tty = ::isatty(STDOUT_FILENO) != 0;
  if (options.color == "always")
    w.color = true;
  else if (options.color == "never" || env("NO_COLOR"))
    w.color = false;
  else
    w.color = tty && env("TERM").value_or("dumb") != "dumb";
  if (env("NO_COLOR"))
    w.color = false;
  return make_writer(format(), out(), w);
}

std::vector<std::string> Context::fields() {
  std::vector<std::string> list;
  if (!options.fields)
    return list;
  std::string_view text = *options.fields;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    auto part = text.substr(start, end == std::string_view::npos ? text.npos : end - start);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ')
      part.remove_suffix(1);
    if (!part.empty())
      list.emplace_back(part);
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  if (list.empty())
    throw Error(Exit::usage, "--fields needs at least one field", "--fields help lists them");
  return list;
}

void Context::warn(std::string_view message) {
  if (!options.quiet)
    std::cerr << "crm: " << message << '\n';
}

void Context::summary(std::string_view message) {
  if (!options.quiet)
    std::cerr << message << '\n';
}

void Context::info(std::string_view message) {
  if (options.verbose)
    std::cerr << "crm: " << message << '\n';
}

bool Context::from_stdin(const std::vector<std::string>& refs) {
  return std::find(refs.begin(), refs.end(), "-") != refs.end();
}

std::vector<std::int64_t> Context::resolve(const std::vector<std::string>& refs) {
  std::vector<std::string> all;
  for (const auto& r : refs) {
    if (r == "-") {
      auto more = read_refs(std::cin);
      all.insert(all.end(), more.begin(), more.end());
    } else {
      all.push_back(r);
    }
  }
  std::vector<std::int64_t> ids;
  std::vector<std::string> unknown;
  auto& db = database();
  const auto& country = config().default_country();
  for (const auto& r : all) {
    if (auto id = resolve_ref(db, r, country))
      ids.push_back(*id);
    else
      unknown.push_back(r);
  }
  if (!unknown.empty()) {
    for (std::size_t i = 0; i + 1 < unknown.size(); ++i)
      std::cerr << fmt::format("crm: no contact '{}'\n", unknown[i]);
    throw Error(Exit::not_found, fmt::format("no contact '{}'", unknown.back()),
                unknown.size() > 1
                    ? fmt::format("{} references are unknown; nothing was changed", unknown.size())
                    : std::string());
  }
  return ids;
}

std::vector<std::size_t> pick_fields(Context& ctx, const std::vector<std::string>& columns) {
  std::vector<std::size_t> pick;
  const auto requested = ctx.fields();
  if (requested.empty())
    for (std::size_t i = 0; i < columns.size(); ++i)
      pick.push_back(i);
  for (const auto& r : requested) {
    auto it = std::find(columns.begin(), columns.end(), r);
    if (it == columns.end())
      throw Error(Exit::usage, fmt::format("unknown field '{}'", r),
                  "'--fields help' lists the fields");
    pick.push_back(static_cast<std::size_t>(it - columns.begin()));
  }
  return pick;
}

bool fields_help(Context& ctx, const std::vector<std::string>& columns) {
  if (!ctx.options.fields || *ctx.options.fields != "help")
    return false;
  for (const auto& c : columns)
    ctx.out() << c << '\n';
  return true;
}

FieldRows::FieldRows(Context& ctx, const std::vector<std::string>& columns)
    : m_pick(pick_fields(ctx, columns)), m_writer(ctx.writer()) {
  std::vector<std::string> names;
  for (auto i : m_pick)
    names.push_back(columns[i]);
  m_writer->header(names);
}

void FieldRows::row(const std::vector<Cell>& all) {
  m_cells.clear();
  for (auto i : m_pick)
    m_cells.push_back(all[i]);
  m_writer->row(m_cells);
}

} // namespace crm::cli
