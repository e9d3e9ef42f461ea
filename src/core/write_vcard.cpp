#include <crm/export.hpp>

#include <array>
#include <cassert>
#include <ostream>

namespace crm {

namespace {

constexpr std::size_t k_fold_at = 75; // octets per line (RFC 2425)

// Escapes a text value of vCard 3.0: backslash, newline, comma, semicolon.
void append_escaped(std::string& out, std::string_view text) {
  for (char ch : text) {
    switch (ch) {
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      break;
    case ',':
      out += "\\,";
      break;
    case ';':
      out += "\\;";
      break;
    default:
      out += ch;
    }
  }
}

// Writes one content line folded at 75 octets, never inside a UTF-8 sequence.
void append_line(std::string& out, std::string_view line) {
  std::size_t width = k_fold_at;
  while (line.size() > width) {
    std::size_t cut = width;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
      --cut;
    out.append(line.substr(0, cut));
    out += "\r\n ";
    line.remove_prefix(cut);
    width = k_fold_at - 1; // the leading space counts
  }
  out.append(line);
  out += "\r\n";
}

class VcardWriter final : public RowWriter {
public:
  explicit VcardWriter(std::ostream& out) : m_out(out) {}

  void header(std::span<const std::string> columns) override {
    m_index.fill(-1);
    for (std::size_t i = 0; i < columns.size(); ++i)
      for (std::size_t f = 0; f < k_fields.size(); ++f)
        if (columns[i] == k_fields[f])
          m_index[f] = static_cast<int>(i);
  }

  void row(std::span<const Cell> cells) override {
    auto text = [&](Field f) -> std::string_view {
      int i = m_index[f];
      if (i < 0)
        return {};
      if (auto* s = std::get_if<std::string>(&cells[static_cast<std::size_t>(i)]))
        return *s;
      return {};
    };
    m_line.clear();
    auto property = [&](std::string_view name, std::initializer_list<std::string_view> parts) {
      m_line.assign(name);
      m_line += ':';
      bool first = true;
      for (auto part : parts) {
        if (!first)
          m_line += ';';
        first = false;
        append_escaped(m_line, part);
      }
      append_line(m_buffer, m_line);
    };
    m_buffer += "BEGIN:VCARD\r\nVERSION:3.0\r\n";
    if (int i = m_index[id]; i >= 0)
      if (auto* v = std::get_if<std::int64_t>(&cells[static_cast<std::size_t>(i)]))
        append_line(m_buffer, "X-CRM-ID:" + std::to_string(*v));
    if (!text(external_id).empty())
      property("UID", {text(external_id)});
    std::string formatted(text(first_name));
    if (!text(last_name).empty())
      formatted += (formatted.empty() ? "" : " ") + std::string(text(last_name));
    if (formatted.empty())
      formatted = text(company);
    property("N", {text(last_name), text(first_name), "", "", ""});
    property("FN", {formatted});
    if (!text(company).empty())
      property("ORG", {text(company)});
    if (!text(email).empty())
      property("EMAIL;TYPE=INTERNET", {text(email)});
    if (!text(phone).empty())
      property("TEL", {text(phone)});
    if (!text(street).empty() || !text(city).empty() || !text(postcode).empty() ||
        !text(country).empty())
      property("ADR", {"", "", text(street), text(city), "", text(postcode), text(country)});
    if (!text(birthdate).empty())
      property("BDAY", {text(birthdate)});
    if (int i = m_index[tags]; i >= 0)
      if (auto* list = std::get_if<StringList>(&cells[static_cast<std::size_t>(i)]);
          list != nullptr && !list->empty()) {
        m_line = "CATEGORIES:";
        for (std::size_t t = 0; t < list->size(); ++t) {
          if (t > 0)
            m_line += ',';
          append_escaped(m_line, (*list)[t]);
        }
        append_line(m_buffer, m_line);
      }
    if (!text(updated_at).empty())
      append_line(m_buffer, "REV:" + std::string(text(updated_at)));
    m_buffer += "END:VCARD\r\n";
    if (m_buffer.size() >= 64 * 1024) {
      m_out.write(m_buffer.data(), static_cast<std::streamsize>(m_buffer.size()));
      m_buffer.clear();
    }
  }

  void finish() override {
    m_out.write(m_buffer.data(), static_cast<std::streamsize>(m_buffer.size()));
    m_buffer.clear();
    m_out.flush();
  }

private:
  enum Field : std::size_t {
    id,
    external_id,
    first_name,
    last_name,
    company,
    email,
    phone,
    street,
    city,
    postcode,
    country,
    birthdate,
    tags,
    updated_at,
    field_count
  };
  static constexpr std::array<std::string_view, field_count> k_fields = {
      "id",     "external_id", "first_name", "last_name", "company",   "email", "phone",
      "street", "city",        "postcode",   "country",   "birthdate", "tags",  "updated_at"};

  std::ostream& m_out;
  std::array<int, field_count> m_index{};
  std::string m_buffer;
  std::string m_line;
};

} // namespace

std::unique_ptr<RowWriter> make_vcard_writer(std::ostream& out) {
  return std::make_unique<VcardWriter>(out);
}

} // namespace crm
