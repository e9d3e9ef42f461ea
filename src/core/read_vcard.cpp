#include "input.hpp"

#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <climits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";
constexpr std::size_t k_excerpt = 40;
// The rank of a value no parameter marks as preferred (PREF=1..100 rank first).
constexpr int k_no_pref = INT_MAX;

enum Column : std::size_t {
  external_id,
  first_name,
  last_name,
  email,
  phone,
  company,
  street,
  postcode,
  city,
  country,
  birthdate,
  tags,
  note,
  column_count
};

constexpr std::array<std::string_view, column_count> k_columns = {
    "external_id", "first_name", "last_name", "email",     "phone", "company", "street",
    "postcode",    "city",       "country",   "birthdate", "tags",  "note"};

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_upper(x) == to_upper(y);
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = to_upper(c);
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// A content line: [group.]NAME *(;PARAM[=VALUE[,VALUE]]) : VALUE.
struct Property {
  std::string name;                                        // upper case, without its group
  std::vector<std::pair<std::string, std::string>> params; // name upper case, one per value
  std::string_view value;
};

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// False when the line is not a content line (no ':', a bad name).
bool parse_property(std::string_view line, Property& property) {
  property.params.clear();
  std::size_t i = 0;
  while (i < line.size() && line[i] != ';' && line[i] != ':')
    ++i;
  if (i == line.size() || i == 0)
    return false;
  std::string_view name = line.substr(0, i);
  if (!std::all_of(name.begin(), name.end(), is_name_char))
    return false;
  if (auto dot = name.rfind('.'); dot != std::string_view::npos)
    name.remove_prefix(dot + 1);
  property.name.clear();
  for (char c : name)
    property.name += to_upper(c);
  while (i < line.size() && line[i] == ';') {
    std::size_t start = ++i;
    while (i < line.size() && line[i] != '=' && line[i] != ';' && line[i] != ':')
      ++i;
    if (i == line.size())
      return false;
    std::string param;
    for (char c : trim(line.substr(start, i - start)))
      param += to_upper(c);
    if (line[i] != '=') {
      // vCard 2.1 lists bare values: TEL;WORK;PREF, NOTE;QUOTED-PRINTABLE.
      bool encoding =
          param == "QUOTED-PRINTABLE" || param == "BASE64" || param == "8BIT" || param == "7BIT";
      property.params.emplace_back(encoding ? "ENCODING" : "TYPE", param);
      continue;
    }
    ++i;
    for (;;) {
      std::string_view value;
      if (i < line.size() && line[i] == '"') {
        std::size_t close = line.find('"', i + 1);
        if (close == std::string_view::npos)
          return false;
        value = line.substr(i + 1, close - i - 1);
        i = close + 1;
      } else {
        std::size_t begin = i;
        while (i < line.size() && line[i] != ',' && line[i] != ';' && line[i] != ':')
          ++i;
        value = line.substr(begin, i - begin);
      }
      property.params.emplace_back(param, std::string(value));
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
  }
  if (i == line.size() || line[i] != ':')
    return false;
  property.value = line.substr(i + 1);
  return true;
}

std::optional<std::string_view> param(const Property& property, std::string_view name) {
  for (const auto& [key, value] : property.params)
    if (key == name)
      return value;
  return std::nullopt;
}

// How much the card prefers this value: PREF=n (4.0) or TYPE=pref (3.0).
int pref_rank(const Property& property) {
  int rank = k_no_pref;
  for (const auto& [key, value] : property.params) {
    if (key == "TYPE" && iequals(value, "pref"))
      rank = std::min(rank, 1);
    else if (key == "PREF" && is_digits(value) && value.size() <= 3)
      rank = std::min(rank, std::stoi(value));
  }
  return rank;
}

bool is_property_line(std::string_view line, std::string_view name, std::string_view value) {
  line = trim(line);
  return line.size() == name.size() + 1 + value.size() && istarts_with(line, name) &&
         line[name.size()] == ':' && iequals(line.substr(name.size() + 1), value);
}

bool is_begin(std::string_view line) { return is_property_line(line, "BEGIN", "VCARD"); }
bool is_end(std::string_view line) { return is_property_line(line, "END", "VCARD"); }

bool is_quoted_printable(std::string_view line) {
  std::string_view head = line.substr(0, line.find(':'));
  for (std::size_t i = 0; i + 16 <= head.size(); ++i)
    if (iequals(head.substr(i, 16), "QUOTED-PRINTABLE"))
      return true;
  return false;
}

std::string decode_quoted_printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Old phones write vCard 2.1 in Latin-1 or its Windows superset.
std::string decode_latin1(std::string_view s, bool windows) {
  static constexpr std::array<char16_t, 32> k_cp1252 = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (char ch : s) {
    auto byte = static_cast<unsigned char>(ch);
    if (windows && byte >= 0x80 && byte < 0xA0)
      append_utf8(out, k_cp1252[byte - 0x80]);
    else
      append_utf8(out, byte);
  }
  return out;
}

// Splits at each `separator` that no backslash escapes; the pieces keep
// their escapes.
std::vector<std::string_view> split_escaped(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == separator) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

// RFC 6350 3.4 escapes; a backslash before anything else is kept, so a
// Windows path in a note survives.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[i + 1];
    if (c == 'n' || c == 'N')
      out += '\n';
    else if (c == ',' || c == ';' || c == ':' || c == '\\')
      out += c;
    else {
      out += '\\';
      continue;
    }
    ++i;
  }
  return out;
}

std::vector<std::string> components(std::string_view value, std::size_t at_least) {
  std::vector<std::string> out;
  for (std::string_view part : split_escaped(value, ';'))
    out.emplace_back(trim(unescape(part)));
  if (out.size() < at_least)
    out.resize(at_least);
  return out;
}

// BDAY as YYYY-MM-DD when it is a full date (also the basic form and a
// date-time); anything else unchanged, for validation to reject.
std::string normalize_birthdate(const Property& property, std::string_view value) {
  value = trim(value);
  std::string_view date = value.substr(0, value.find_first_of("Tt"));
  std::string out;
  if (date.size() == 10 && is_digits(date.substr(0, 4)) && date[4] == '-' &&
      is_digits(date.substr(5, 2)) && date[7] == '-' && is_digits(date.substr(8, 2)))
    out = date;
  else if (date.size() == 8 && is_digits(date))
    out = fmt::format("{}-{}-{}", date.substr(0, 4), date.substr(4, 2), date.substr(6, 2));
  else
    return std::string(value);
  // Apple stores a birthday without a year under a placeholder year.
  if (auto omit = param(property, "X-APPLE-OMIT-YEAR"); omit && out.substr(0, 4) == *omit)
    return "--" + out.substr(5);
  return out;
}

template <typename T> struct Preferred {
  int rank = k_no_pref;
  std::optional<T> value;

  // The first value of the best rank wins.
  void offer(int offered_rank, T offered) {
    if (!value || offered_rank < rank) {
      rank = offered_rank;
      value = std::move(offered);
    }
  }
};

// What one card says about the crm fields.
struct Card {
  std::optional<std::string> uid;
  std::optional<std::string> formatted_name;
  std::optional<std::vector<std::string>> name;
  std::optional<std::string> organization;
  Preferred<std::string> email;
  Preferred<std::string> phone;
  Preferred<std::vector<std::string>> address;
  std::optional<std::string> birthdate;
  std::vector<std::string> categories;
  std::optional<std::string> note;
  bool shows_as_company = false;

  // Takes in one property; returns an error, or "" when it is fine.
  std::string add(const Property& property) {
    static constexpr std::array<std::string_view, 11> k_used = {
        "UID", "FN", "N", "ORG", "EMAIL", "TEL", "ADR", "BDAY", "CATEGORIES", "NOTE", "X-ABSHOWAS"};
    if (std::find(k_used.begin(), k_used.end(), property.name) == k_used.end())
      return {};
    std::string decoded;
    std::string_view value = property.value;
    if (auto encoding = param(property, "ENCODING")) {
      if (iequals(*encoding, "QUOTED-PRINTABLE")) {
        decoded = decode_quoted_printable(value);
        value = decoded;
      } else if (iequals(*encoding, "B") || iequals(*encoding, "BASE64")) {
        return {};
      }
    }
    if (auto charset = param(property, "CHARSET")) {
      bool windows = iequals(*charset, "WINDOWS-1252") || iequals(*charset, "CP1252");
      if (windows || iequals(*charset, "ISO-8859-1") || iequals(*charset, "LATIN1")) {
        decoded = decode_latin1(value, windows);
        value = decoded;
      }
    }
    if (!simdjson::validate_utf8(value.data(), value.size()))
      return "invalid UTF-8 in " + property.name;
    const std::string& n = property.name;
    if (n == "UID") {
      if (!uid)
        uid = trim(unescape(value));
    } else if (n == "FN") {
      if (!formatted_name)
        formatted_name = trim(unescape(value));
    } else if (n == "N") {
      if (!name)
        name = components(value, 2);
    } else if (n == "ORG") {
      if (!organization)
        organization = components(value, 1)[0];
    } else if (n == "EMAIL") {
      std::string text(trim(unescape(value)));
      if (istarts_with(text, "mailto:"))
        text.erase(0, 7);
      if (!text.empty())
        email.offer(pref_rank(property), std::move(text));
    } else if (n == "TEL") {
      add_phone(property, value);
    } else if (n == "ADR") {
      auto parts = components(value, 7);
      if (std::any_of(parts.begin(), parts.end(), [](const auto& p) { return !p.empty(); }))
        address.offer(pref_rank(property), std::move(parts));
    } else if (n == "BDAY") {
      if (!birthdate)
        birthdate = normalize_birthdate(property, unescape(value));
    } else if (n == "CATEGORIES") {
      for (std::string_view part : split_escaped(value, ',')) {
        std::string tag(trim(unescape(part)));
        if (!tag.empty() &&
            std::find(categories.begin(), categories.end(), tag) == categories.end())
          categories.push_back(std::move(tag));
      }
    } else if (n == "NOTE") {
      std::string text = unescape(value);
      note = note ? *note + "\n" + text : text;
    } else if (n == "X-ABSHOWAS") {
      shows_as_company = iequals(trim(value), "COMPANY");
    }
    return {};
  }

  void add_phone(const Property& property, std::string_view value) {
    std::string text(trim(unescape(value)));
    // vCard 4.0 writes TEL;VALUE=uri:tel:+1-555-555-5555;ext=5555.
    if (istarts_with(text, "tel:")) {
      text.erase(0, 4);
      if (auto ext = text.find(";ext="); ext != std::string::npos)
        text.replace(ext, 5, " ext. ");
    }
    if (!text.empty())
      phone.offer(pref_rank(property), std::move(text));
  }

  void fill(std::vector<std::optional<std::string>>& values) const {
    values.assign(column_count, std::nullopt);
    auto set = [&](Column column, std::string_view value) {
      value = trim(value);
      if (!value.empty())
        values[column] = std::string(value);
    };
    if (uid)
      set(external_id, *uid);
    if (name && (!(*name)[0].empty() || !(*name)[1].empty())) {
      set(last_name, (*name)[0]);
      set(first_name, (*name)[1]);
    } else if (formatted_name && !shows_as_company && formatted_name != organization) {
      // Without N, FN is "Given Family"; the last word is the family name.
      std::string_view full = trim(*formatted_name);
      std::size_t space = full.find_last_of(" \t");
      if (space == std::string_view::npos) {
        set(first_name, full);
      } else {
        set(first_name, full.substr(0, space));
        set(last_name, full.substr(space + 1));
      }
    }
    if (email.value)
      set(Column::email, *email.value);
    if (phone.value)
      set(Column::phone, *phone.value);
    if (organization)
      set(company, *organization);
    if (address.value) {
      const auto& adr = *address.value;
      // The extended address and PO box are kept with the street, not lost.
      std::string line;
      for (std::size_t i : {2, 1, 0}) {
        if (adr[i].empty())
          continue;
        if (!line.empty())
          line += ", ";
        line += adr[i];
      }
      set(street, line);
      set(city, adr[3]);
      set(postcode, adr[5]);
      set(country, adr[6]);
    }
    if (birthdate)
      set(Column::birthdate, *birthdate);
    if (!categories.empty()) {
      std::string joined;
      for (const auto& tag : categories) {
        if (!joined.empty())
          joined += ';';
        joined += tag;
      }
      set(tags, joined);
    }
    if (note)
      set(Column::note, *note);
  }
};

std::string excerpt(std::string_view line) {
  if (line.size() <= k_excerpt)
    return std::string(line);
  std::size_t cut = k_excerpt;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(line.substr(0, cut)) + "...";
}

void strip_line_ends(std::string& raw) {
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r'))
    raw.pop_back();
}

// A content line after unfolding, and the bytes it came from.
struct LogicalLine {
  std::string text;
  std::string raw;
  std::size_t line = 0;
};

class VcardReader : public RecordReader {
public:
  explicit VcardReader(std::unique_ptr<InputSource> source)
      : m_source(std::move(source)), m_columns(k_columns.begin(), k_columns.end()) {}

  InputFormat format() const override { return InputFormat::vcard; }
  const std::vector<std::string>& columns() const override { return m_columns; }
  char delimiter() const override { return 0; }

  bool next(InputRecord& record) override {
    LogicalLine line;
    for (;;) {
      if (!read_logical(line))
        return false;
      if (is_begin(line.text))
        break;
      if (!trim(line.text).empty()) {
        stray_text(line, record);
        return true;
      }
    }
    record.line = line.line;
    record.raw = std::move(line.raw);
    record.error.clear();
    Card card;
    Property property;
    for (;;) {
      if (!read_logical(line)) {
        record.error = "unterminated vCard";
        break;
      }
      if (is_begin(line.text)) {
        m_pending = std::move(line);
        record.error = "unterminated vCard";
        break;
      }
      record.raw += line.raw;
      if (is_end(line.text))
        break;
      if (!record.error.empty() || trim(line.text).empty())
        continue;
      if (!parse_property(line.text, property))
        record.error = fmt::format("malformed line {}: {}", line.line, excerpt(line.text));
      else
        record.error = card.add(property);
    }
    strip_line_ends(record.raw);
    if (record.error.empty())
      card.fill(record.values);
    else
      record.values.assign(column_count, std::nullopt);
    return true;
  }

private:
  // Lines outside any card become one rejected record, so nothing in the
  // file is dropped without a word.
  void stray_text(LogicalLine& first, InputRecord& record) {
    record.line = first.line;
    record.raw = std::move(first.raw);
    LogicalLine line;
    while (read_logical(line)) {
      if (is_begin(line.text)) {
        m_pending = std::move(line);
        break;
      }
      record.raw += line.raw;
    }
    strip_line_ends(record.raw);
    record.error = "text outside BEGIN:VCARD and END:VCARD";
    record.values.assign(column_count, std::nullopt);
  }

  // Appends the next physical line to `text` (without its line end) and to
  // `raw` (with it); false at the end of the input.
  bool read_physical(std::string& text, std::string& raw) {
    std::string_view line = m_source->read_line();
    if (line.empty())
      return false;
    raw += line;
    ++m_line;
    if (m_line == 1 && line.substr(0, k_bom.size()) == k_bom)
      line.remove_prefix(k_bom.size());
    if (!line.empty() && line.back() == '\n')
      line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    text += line;
    return true;
  }

  // Reads one content line, unfolding continuation lines (RFC 6350 3.2) and
  // quoted-printable soft line breaks (vCard 2.1).
  bool read_logical(LogicalLine& out) {
    if (m_pending) {
      out = std::move(*m_pending);
      m_pending.reset();
      return true;
    }
    out.text.clear();
    out.raw.clear();
    if (!read_physical(out.text, out.raw))
      return false;
    out.line = m_line;
    for (;;) {
      if (!out.text.empty() && out.text.back() == '=' && is_quoted_printable(out.text)) {
        out.text.pop_back();
        if (!read_physical(out.text, out.raw))
          break;
        continue;
      }
      std::string_view next = m_source->peek(1);
      if (next.empty() || (next[0] != ' ' && next[0] != '\t'))
        break;
      std::size_t mark = out.text.size();
      read_physical(out.text, out.raw);
      out.text.erase(mark, 1);
    }
    return true;
  }

  std::unique_ptr<InputSource> m_source;
  std::vector<std::string> m_columns;
  std::optional<LogicalLine> m_pending;
  std::size_t m_line = 0;
};

} // namespace

std::unique_ptr<RecordReader> make_vcard_reader(std::unique_ptr<InputSource> source) {
  return std::make_unique<VcardReader>(std::move(source));
}

} // namespace crm
