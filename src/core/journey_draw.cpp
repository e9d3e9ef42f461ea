#include <crm/journey.hpp>
#include <crm/reports.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace crm {

namespace {

constexpr int k_column_width = 220;
constexpr int k_gap = 70; // between columns: room for the arrows
constexpr int k_margin = 24;
constexpr int k_top = 118; // below the title, the scale and the phase headers
constexpr int k_box_min = 58;
constexpr int k_box_extra = 70; // added for the largest reach
constexpr int k_box_gap = 14;

// Red (0-4) through yellow (7) to green (10); grey without ratings.
std::string fill_of(const std::optional<double>& satisfaction) {
  if (!satisfaction)
    return "#e4e4e4";
  const double t = std::clamp((*satisfaction - 4.0) / 6.0, 0.0, 1.0);
  return fmt::format("hsl({:.0f}, 70%, 72%)", t * 120.0);
}

std::string one_decimal(double v) {
  std::string s = fmt::format("{:.1f}", v);
  if (s.ends_with(".0"))
    s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

struct Column {
  std::string title;
  std::vector<const JourneyMapRow*> rows;
};

} // namespace

std::string journey_map_svg(const std::vector<JourneyMapRow>& rows, const JourneySettings& journey,
                            std::string_view subtitle) {
  // Phases of the config are columns even when empty, so the journey reads
  // the same every time; other phases and "no phase" only when present.
  std::vector<Column> columns;
  for (const auto& phase : journey.phases)
    columns.push_back({phase, {}});
  for (const auto& row : rows) {
    const std::string title = row.phase ? *row.phase : "(no phase)";
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return c.title == title; });
    if (it == columns.end()) {
      columns.push_back({title, {}});
      it = columns.end() - 1;
    }
    it->rows.push_back(&row);
  }
  std::int64_t max_reach = 1;
  for (const auto& row : rows)
    max_reach = std::max(max_reach, row.contacts);
  auto height_of = [&](const JourneyMapRow& r) {
    return k_box_min + static_cast<int>(std::lround(k_box_extra * static_cast<double>(r.contacts) /
                                                    static_cast<double>(max_reach)));
  };
  int tallest = 0;
  for (const auto& column : columns) {
    int h = 0;
    for (const auto* r : column.rows)
      h += height_of(*r) + k_box_gap;
    tallest = std::max(tallest, h);
  }
  const int width = 2 * k_margin + static_cast<int>(columns.size()) * k_column_width +
                    static_cast<int>(columns.size() > 0 ? columns.size() - 1 : 0) * k_gap;
  const int height = k_top + std::max(tallest, 60) + k_margin;

  std::string svg;
  svg += fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                     "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\" "
                     "role=\"img\" aria-label=\"Customer journey map\">\n",
                     std::max(width, 640), height);
  svg += "<title>Customer journey map</title>\n";
  svg += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
         "markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" "
         "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
         "fill=\"#555\"/></marker>\n<linearGradient id=\"scale\">";
  for (int i = 0; i <= 10; i += 2)
    svg += fmt::format("<stop offset=\"{}%\" stop-color=\"{}\"/>", i * 10,
                       fill_of(static_cast<double>(i)));
  svg += "</linearGradient></defs>\n";
  svg += fmt::format("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
  svg += fmt::format("<text x=\"{}\" y=\"30\" font-size=\"20\" font-weight=\"bold\">Customer "
                     "journey map</text>\n",
                     k_margin);
  svg += fmt::format("<text x=\"{}\" y=\"50\" fill=\"#444\">{}</text>\n", k_margin,
                     xml_escape(subtitle));
  // The key, in one line above the map: colour, size, arrows, flag.
  svg += fmt::format("<text x=\"{}\" y=\"72\" fill=\"#444\">colour = mean rating</text>"
                     "<text x=\"{}\" y=\"72\" fill=\"#444\">0</text>"
                     "<rect x=\"{}\" y=\"62\" width=\"100\" height=\"12\" fill=\"url(#scale)\" "
                     "stroke=\"#999\"/><text x=\"{}\" y=\"72\" fill=\"#444\">10 \u00b7 grey = no "
                     "ratings \u00b7 height = contacts reached \u00b7 arrow = share who went on "
                     "to a later phase \u00b7 red border = weakest</text>\n",
                     k_margin, k_margin + 134, k_margin + 146, k_margin + 252);

  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Column& column = columns[c];
    const int x = k_margin + static_cast<int>(c) * (k_column_width + k_gap);
    std::int64_t events = 0;
    for (const auto* r : column.rows)
      events += r->events;
    svg += fmt::format("<rect x=\"{}\" y=\"84\" width=\"{}\" height=\"24\" rx=\"4\" "
                       "fill=\"#334\"/><text x=\"{}\" y=\"101\" fill=\"#fff\" "
                       "font-weight=\"bold\" text-anchor=\"middle\">{}. {} ({} events)</text>\n",
                       x, k_column_width, x + k_column_width / 2, c + 1, xml_escape(column.title),
                       events);
    int y = k_top;
    for (const auto* r : column.rows) {
      const int h = height_of(*r);
      svg += fmt::format("<g><title>{}: {} contacts, {} events</title>\n",
                         xml_escape(r->touchpoint), r->contacts, r->events);
      svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" "
                         "fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>\n",
                         x, y, k_column_width, h, fill_of(r->satisfaction),
                         r->weakest ? "#c00000" : "#666", r->weakest ? 4 : 1);
      svg +=
          fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\" font-size=\"14\">{}</text>\n",
                      x + 10, y + 19, xml_escape(r->touchpoint));
      if (r->weakest)
        svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#c00000\" font-weight=\"bold\" "
                           "text-anchor=\"end\">WEAKEST</text>\n",
                           x + k_column_width - 10, y + 19);
      svg += fmt::format("<text x=\"{}\" y=\"{}\">{} contacts \u00b7 {} events</text>\n", x + 10,
                         y + 36, r->contacts, r->events);
      std::string rating =
          r->satisfaction
              ? fmt::format("rating {:.1f} \u00b7 NPS {}{} ({} ratings)", *r->satisfaction,
                            *r->nps > 0 ? "+" : "", one_decimal(*r->nps), r->ratings)
              : std::string("no ratings");
      svg +=
          fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#222\">{}</text>\n", x + 10, y + 52, rating);
      if (r->moved_on_share && c + 1 < columns.size()) {
        const int ay = y + h / 2;
        svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#555\" "
                           "stroke-width=\"{:.1f}\" marker-end=\"url(#arrow)\"/>\n",
                           x + k_column_width + 2, ay, x + k_column_width + k_gap - 4, ay,
                           1.0 + 4.0 * *r->moved_on_share);
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\" "
                           "fill=\"#333\">{}%</text>\n",
                           x + k_column_width + k_gap / 2 - 2, ay - 8,
                           one_decimal(*r->moved_on_share * 100.0));
      }
      svg += "</g>\n";
      y += h + k_box_gap;
    }
    if (column.rows.empty())
      svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#888\" text-anchor=\"middle\">no "
                         "events</text>\n",
                         x + k_column_width / 2, k_top + 20);
  }
  svg += "</svg>\n";
  return svg;
}

std::string journey_map_html(const std::vector<JourneyMapRow>& rows, const JourneySettings& journey,
                             std::string_view subtitle) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<title>Customer journey map</title>\n<style>\n"
                     "body { font-family: sans-serif; margin: 1.5em; color: #222; }\n"
                     "table { border-collapse: collapse; margin-top: 1.5em; }\n"
                     "th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }\n"
                     "td.n { text-align: right; }\n"
                     "tr.weakest td { color: #c00000; font-weight: bold; }\n"
                     "</style>\n</head>\n<body>\n";
  html += journey_map_svg(rows, journey, subtitle);
  html += "<table>\n<tr><th>phase</th><th>touchpoint</th><th>contacts</th><th>events</th>"
          "<th>moved on</th><th>moved on %</th><th>ratings</th><th>satisfaction</th>"
          "<th>NPS</th><th></th></tr>\n";
  for (const auto& r : rows) {
    auto opt = [](const std::optional<double>& v, double scale) {
      return v ? one_decimal(std::round(*v * scale) / scale) : std::string();
    };
    html += fmt::format("<tr{}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                        r.weakest ? " class=\"weakest\"" : "", xml_escape(r.phase.value_or("")),
                        xml_escape(r.touchpoint), r.contacts, r.events,
                        r.moved_on_share ? std::to_string(r.moved_on) : std::string(),
                        r.moved_on_share ? one_decimal(*r.moved_on_share * 100.0) : std::string(),
                        r.ratings,
                        r.satisfaction ? fmt::format("{:.2f}", *r.satisfaction) : std::string(),
                        opt(r.nps, 10), r.weakest ? "weakest" : "");
  }
  html += "</table>\n</body>\n</html>\n";
  return html;
}

} // namespace crm
