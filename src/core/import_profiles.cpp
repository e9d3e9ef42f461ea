#include <crm/clock.hpp>
#include <crm/error.hpp>
#include <crm/import_profiles.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace crm {

namespace {

// How a column of an export is read.
enum class Role {
  field,         // arg: the contact field (the first value in the row wins)
  attr,          // arg: the attribute (the first value in the row wins)
  ignore,        // never imported (export bookkeeping, guesses, defaults)
  email,         // a candidate for the contact's email
  primary_email, // the email the export marks as primary
  email_label,   // Google's label of E-mail N: "* " marks the primary
  phone,
  primary_phone,
  phone_label,
  street, // address parts; `group` ties the parts of one address together
  street_more,
  city,
  postcode,
  region,
  country,
  tags,      // arg: the separator, or "list" for Mailchimp's "a","b"
  birthdate, // arg: "mdy" (7/14/1985), "dmy" (14.7.1985), "md" (07/14); ISO always
  birth_year,
  birth_month,
  birth_day,
  display_name, // kept (attr.display_name) only when the row has no name
  custom_label, // Google's Custom Field N: the label names the attribute
  custom_value,
  consent_time, // arg: the action
  consent_ip,
};

struct Rule {
  // Compared without case, spaces, hyphens, underscores and dots; '#'
  // stands for a number (Google's "E-mail 1 - Value", "E-mail 2 - Value").
  std::string column;
  Role role;
  std::string arg = {};
  // Ties the parts of one address (or an email and its label) together;
  // for a column with '#' the number is the group.
  std::string group = {};
};

} // namespace

class BuiltinProfile {
public:
  std::string_view name;
  std::string_view encoding; // "" = UTF-8
  // Recognition: all of these columns are in the header.
  std::vector<std::string_view> signature;
  std::vector<Rule> rules;
  // Outlook writes "0/0/00" (or "0.0.00") for a date it does not have.
  bool outlook_dates = false;
};

struct ProfileMapper::Column {
  bool handled = false;
  Role role = Role::ignore;
  std::string arg;
  std::string group;
  std::string name; // as in the header, for messages
};

namespace {

using Rules = std::vector<Rule>;

// Google Contacts, "Google CSV" of contacts.google.com since 2023: the
// header as written by the export, seen in public fixtures that copy it,
// e.g. "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic
// Middle Name,Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,
// Organization Name,Organization Title,Organization Department,Birthday,
// Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,...,Phone 1 -
// Label,Phone 1 - Value,...,Address 1 - Label,Address 1 - Formatted,Address
// 1 - Street,Address 1 - City,Address 1 - PO Box,Address 1 - Region,Address
// 1 - Postal Code,Address 1 - Country,Address 1 - Extended Address,Website 1
// - Label,Website 1 - Value,Event 1 - ...,Custom Field 1 - Label,Custom
// Field 1 - Value". Only as many numbered groups as the contacts need are
// written; several values of one label share a cell, separated by " ::: ",
// and "* " before a label marks the primary.
Rules google_address_rules(std::string_view label) {
  return {
      {std::string(label), Role::ignore},
      {"Address # - Formatted", Role::ignore},
      {"Address # - Street", Role::street},
      {"Address # - Extended Address", Role::street_more},
      {"Address # - City", Role::city},
      {"Address # - PO Box", Role::attr, "po_box"},
      {"Address # - Region", Role::region},
      {"Address # - Postal Code", Role::postcode},
      {"Address # - Country", Role::country},
      {"Website # - Value", Role::attr, "website"},
      {"Photo", Role::ignore},
  };
}

BuiltinProfile make_google() {
  BuiltinProfile p;
  p.name = "google";
  p.signature = {"First Name",          "Middle Name", "Last Name",
                 "Phonetic First Name", "File As",     "Labels"};
  p.rules = {
      {"First Name", Role::field, "first_name"},
      {"Middle Name", Role::attr, "middle_name"},
      {"Last Name", Role::field, "last_name"},
      {"Nickname", Role::attr, "nickname"},
      {"File As", Role::ignore},
      {"Organization Name", Role::field, "company"},
      {"Organization Title", Role::attr, "job_title"},
      {"Organization Department", Role::attr, "department"},
      {"Birthday", Role::birthdate},
      {"Notes", Role::attr, "note"},
      {"Labels", Role::tags, " ::: "},
      {"E-mail # - Label", Role::email_label},
      {"E-mail # - Value", Role::email},
      {"Phone # - Label", Role::phone_label},
      {"Phone # - Value", Role::phone},
      {"Website # - Label", Role::ignore},
      {"Custom Field # - Label", Role::custom_label},
      {"Custom Field # - Value", Role::custom_value},
  };
  auto address = google_address_rules("Address # - Label");
  p.rules.insert(p.rules.end(), address.begin(), address.end());
  return p;
}

// Google Contacts, the legacy "Google CSV" (before 2023, still written by
// Google Takeout and many tools): "Name,Given Name,Additional Name,Family
// Name,Yomi Name,Given Name Yomi,Additional Name Yomi,Family Name Yomi,Name
// Prefix,Name Suffix,Initials,Nickname,Short Name,Maiden Name,Birthday,
// Gender,Location,Billing Information,Directory Server,Mileage,Occupation,
// Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,Group Membership,
// E-mail 1 - Type,E-mail 1 - Value,...,Phone 1 - Type,Phone 1 - Value,...,
// Address 1 - Type,Address 1 - Formatted,Address 1 - Street,...,
// Organization 1 - Type,Organization 1 - Name,...,Website 1 - Type,Website
// 1 - Value", as public converters write it for Google's importer.
BuiltinProfile make_google_legacy() {
  BuiltinProfile p;
  p.name = "google-legacy";
  p.signature = {"Name", "Given Name", "Additional Name", "Family Name", "Group Membership"};
  p.rules = {
      {"Name", Role::display_name},
      {"Given Name", Role::field, "first_name"},
      {"Additional Name", Role::attr, "middle_name"},
      {"Family Name", Role::field, "last_name"},
      {"Nickname", Role::attr, "nickname"},
      {"Birthday", Role::birthdate},
      {"Notes", Role::attr, "note"},
      {"Group Membership", Role::tags, " ::: "},
      {"E-mail # - Type", Role::email_label},
      {"E-mail # - Value", Role::email},
      {"Phone # - Type", Role::phone_label},
      {"Phone # - Value", Role::phone},
      {"Organization # - Type", Role::ignore},
      {"Organization # - Name", Role::field, "company"},
      {"Organization # - Title", Role::attr, "job_title"},
      {"Organization # - Department", Role::attr, "department"},
      {"Website # - Type", Role::ignore},
      {"Custom Field # - Type", Role::custom_label},
      {"Custom Field # - Value", Role::custom_value},
  };
  auto address = google_address_rules("Address # - Type");
  p.rules.insert(p.rules.end(), address.begin(), address.end());
  return p;
}

// The address, phone and email columns Outlook desktop and Outlook.com
// share (English headers).
Rules outlook_rules() {
  Rules rules = {
      {"First Name", Role::field, "first_name"},
      {"Middle Name", Role::attr, "middle_name"},
      {"Last Name", Role::field, "last_name"},
      {"Title", Role::attr, "title"},
      {"Suffix", Role::attr, "suffix"},
      {"Nickname", Role::attr, "nickname"},
      {"Company", Role::field, "company"},
      {"Department", Role::attr, "department"},
      {"Job Title", Role::attr, "job_title"},
      {"E-mail Address", Role::email},
      {"E-mail # Address", Role::email},
      {"E-mail Type", Role::ignore},
      {"E-mail # Type", Role::ignore},
      {"E-mail Display Name", Role::ignore},
      {"E-mail # Display Name", Role::ignore},
      {"Primary Phone", Role::primary_phone},
      {"Business Phone", Role::phone},
      {"Business Phone 2", Role::phone},
      {"Home Phone", Role::phone},
      {"Home Phone 2", Role::phone},
      {"Mobile Phone", Role::phone},
      {"Other Phone", Role::phone},
      {"Company Main Phone", Role::phone},
      {"Car Phone", Role::phone},
      {"Business Fax", Role::attr, "fax"},
      {"Birthday", Role::birthdate, "mdy"},
      {"Anniversary", Role::attr, "anniversary"},
      {"Categories", Role::tags, ";"},
      {"Notes", Role::attr, "note"},
      {"Web Page", Role::attr, "website"},
      {"Personal Web Page", Role::attr, "website"},
      // Outlook's defaults in every row, not facts about the person.
      {"Priority", Role::ignore},
      {"Sensitivity", Role::ignore},
      {"Private", Role::ignore},
      {"Gender", Role::ignore},
      {"Initials", Role::ignore},
  };
  for (std::string_view group : {"Business", "Home", "Other"}) {
    auto add = [&](std::string_view suffix, Role role) {
      rules.push_back({fmt::format("{} {}", group, suffix), role, {}, std::string(group)});
    };
    add("Street", Role::street);
    add("Street 2", Role::street_more);
    add("Street 3", Role::street_more);
    add("City", Role::city);
    add("State", Role::region);
    add("Postal Code", Role::postcode);
    add("Country/Region", Role::country);
    add("Country", Role::country);
  }
  return rules;
}

// Outlook desktop (Outlook 2010 to Microsoft 365, File > Open & Export >
// Import/Export > Export to a file > Comma Separated Values), English: all
// 92 columns in every export, "Title","First Name","Middle Name","Last
// Name","Suffix","Company","Department","Job Title","Business Street",
// "Business Street 2","Business Street 3","Business City","Business
// State","Business Postal Code","Business Country/Region","Home Street",
// ...,"Assistant's Phone","Business Fax","Business Phone","Business Phone
// 2",...,"Primary Phone",...,"Birthday",...,"Categories",...,"E-mail
// Address","E-mail Type","E-mail Display Name","E-mail 2 Address",...,
// "Web Page", as in the column table of GNOME Evolution's CSV importer and
// the many tools that read these files. Dates are M/D/YYYY.
BuiltinProfile make_outlook() {
  BuiltinProfile p;
  p.name = "outlook";
  p.signature = {"First Name",     "Middle Name",         "Last Name",
                 "E-mail Address", "E-mail Display Name", "Business Street"};
  p.rules = outlook_rules();
  p.outlook_dates = true;
  return p;
}

// Outlook.com (Outlook on the web, People > Manage > Export contacts):
// "First Name,Middle Name,Last Name,Title,Suffix,Nickname,Given Yomi,
// Surname Yomi,E-mail Address,E-mail 2 Address,E-mail 3 Address,Home Phone,
// Home Phone 2,Business Phone,Business Phone 2,Mobile Phone,Car Phone,Other
// Phone,Primary Phone,Pager,Business Fax,Home Fax,Other Fax,Company Main
// Phone,Callback,Radio Phone,Telex,TTY/TDD Phone,IMAddress,Job Title,
// Department,Company,Office Location,Manager's Name,Assistant's Name,
// Assistant's Phone,Company Yomi,Business Street,Business City,Business
// State,Business Postal Code,Business Country/Region,Home Street,...,Other
// Country/Region,Personal Web Page,Spouse,Schools,Hobby,Location,Web Page,
// Birthday,Anniversary,Notes", as public converters write it for import.
BuiltinProfile make_outlook_com() {
  BuiltinProfile p;
  p.name = "outlook-com";
  p.signature = {"First Name", "Last Name", "E-mail Address", "Given Yomi", "Surname Yomi"};
  p.rules = outlook_rules();
  p.outlook_dates = true;
  return p;
}

// Outlook desktop with German headers: "Anrede","Vorname","Weitere
// Vornamen","Nachname","Suffix","Firma","Abteilung","Position","Straße
// geschäftlich","Straße geschäftlich 2","Straße geschäftlich 3","Ort
// geschäftlich","Region geschäftlich","Postleitzahl geschäftlich",
// "Land/Region geschäftlich","Straße privat",...,"Bundesland/Kanton privat",
// ...,"Weitere Straße",...,"Weiteres/e Land/Region","Telefon Assistent","Fax
// geschäftlich","Telefon geschäftlich",...,"Haupttelefon",...,"E-Mail-
// Adresse","E-Mail-Typ","E-Mail: Angezeigter Name","E-Mail 2: Adresse",...,
// "Geburtstag",...,"Kategorien",...,"Notizen",...,"Webseite", as in the
// Open-Xchange importer tests and converters for German Outlook. Written in
// Windows-1252, often with ';' (German Excel); dates are D.M.YYYY.
BuiltinProfile make_outlook_de() {
  BuiltinProfile p;
  p.name = "outlook-de";
  p.encoding = "cp1252";
  p.signature = {"Vorname", "Weitere Vornamen", "Nachname", "E-Mail-Adresse"};
  p.rules = {
      {"Anrede", Role::attr, "title"},
      {"Vorname", Role::field, "first_name"},
      {"Weitere Vornamen", Role::attr, "middle_name"},
      {"Nachname", Role::field, "last_name"},
      {"Suffix", Role::attr, "suffix"},
      {"Firma", Role::field, "company"},
      {"Abteilung", Role::attr, "department"},
      {"Position", Role::attr, "job_title"},
      {"Straße geschäftlich", Role::street, {}, "geschäftlich"},
      {"Straße geschäftlich 2", Role::street_more, {}, "geschäftlich"},
      {"Straße geschäftlich 3", Role::street_more, {}, "geschäftlich"},
      {"Ort geschäftlich", Role::city, {}, "geschäftlich"},
      {"Region geschäftlich", Role::region, {}, "geschäftlich"},
      {"Postleitzahl geschäftlich", Role::postcode, {}, "geschäftlich"},
      {"Land/Region geschäftlich", Role::country, {}, "geschäftlich"},
      {"Straße privat", Role::street, {}, "privat"},
      {"Straße privat 2", Role::street_more, {}, "privat"},
      {"Straße privat 3", Role::street_more, {}, "privat"},
      {"Ort privat", Role::city, {}, "privat"},
      {"Bundesland/Kanton privat", Role::region, {}, "privat"},
      {"Postleitzahl privat", Role::postcode, {}, "privat"},
      {"Land/Region privat", Role::country, {}, "privat"},
      {"Weitere Straße", Role::street, {}, "weitere"},
      {"Weitere Straße 2", Role::street_more, {}, "weitere"},
      {"Weitere Straße 3", Role::street_more, {}, "weitere"},
      {"Weiterer Ort", Role::city, {}, "weitere"},
      {"Weiteres/r Bundesland/Kanton", Role::region, {}, "weitere"},
      {"Weitere Postleitzahl", Role::postcode, {}, "weitere"},
      {"Weiteres/e Land/Region", Role::country, {}, "weitere"},
      {"Haupttelefon", Role::primary_phone},
      {"Telefon geschäftlich", Role::phone},
      {"Telefon geschäftlich 2", Role::phone},
      {"Telefon privat", Role::phone},
      {"Telefon (privat)", Role::phone},
      {"Telefon privat 2", Role::phone},
      {"Telefon (privat 2)", Role::phone},
      {"Mobiltelefon", Role::phone},
      {"Mobiltelefon 2", Role::phone},
      {"Weiteres Telefon", Role::phone},
      {"Telefon Firma", Role::phone},
      {"Autotelefon", Role::phone},
      {"Fax geschäftlich", Role::attr, "fax"},
      {"E-Mail-Adresse", Role::email},
      {"E-Mail #: Adresse", Role::email},
      {"E-Mail-Typ", Role::ignore},
      {"E-Mail #: Typ", Role::ignore},
      {"E-Mail: Angezeigter Name", Role::ignore},
      {"E-Mail #: Angezeigter Name", Role::ignore},
      {"Geburtstag", Role::birthdate, "dmy"},
      {"Jahrestag", Role::attr, "anniversary"},
      {"Kategorien", Role::tags, ";"},
      {"Notizen", Role::attr, "note"},
      {"Webseite", Role::attr, "website"},
      {"Priorität", Role::ignore},
      {"Vertraulichkeit", Role::ignore},
      {"Privat", Role::ignore},
      {"Geschlecht", Role::ignore},
      {"Initialen", Role::ignore},
  };
  p.outlook_dates = true;
  return p;
}

// Thunderbird (Address Book > Tools > Export, "Comma Separated"): "First
// Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,Screen
// Name,Work Phone,Home Phone,Fax Number,Pager Number,Mobile Number,Home
// Address,Home Address 2,Home City,Home State,Home ZipCode,Home Country,Work
// Address,Work Address 2,Work City,Work State,Work ZipCode,Work Country,Job
// Title,Department,Organization,Web Page 1,Web Page 2,Birth Year,Birth
// Month,Birth Day,Custom 1,Custom 2,Custom 3,Custom 4,Notes" (a UK build
// writes County, Post Code and Organisation), as in public tests of readers
// of Thunderbird exports.
BuiltinProfile make_thunderbird() {
  BuiltinProfile p;
  p.name = "thunderbird";
  p.signature = {"First Name", "Last Name", "Display Name", "Primary Email", "Secondary Email"};
  p.rules = {
      {"First Name", Role::field, "first_name"},
      {"Last Name", Role::field, "last_name"},
      {"Display Name", Role::display_name},
      {"Nickname", Role::attr, "nickname"},
      {"Primary Email", Role::primary_email},
      {"Secondary Email", Role::email},
      {"Work Phone", Role::phone},
      {"Home Phone", Role::phone},
      {"Mobile Number", Role::phone},
      {"Fax Number", Role::attr, "fax"},
      {"Pager Number", Role::attr, "pager"},
      {"Job Title", Role::attr, "job_title"},
      {"Department", Role::attr, "department"},
      {"Organization", Role::field, "company"},
      {"Organisation", Role::field, "company"},
      {"Web Page 1", Role::attr, "website"},
      {"Web Page 2", Role::attr, "website_2"},
      {"Birth Year", Role::birth_year},
      {"Birth Month", Role::birth_month},
      {"Birth Day", Role::birth_day},
      {"Notes", Role::attr, "note"},
  };
  for (std::string_view group : {"Home", "Work"}) {
    auto add = [&](std::string_view suffix, Role role) {
      p.rules.push_back({fmt::format("{} {}", group, suffix), role, {}, std::string(group)});
    };
    add("Address", Role::street);
    add("Address 2", Role::street_more);
    add("City", Role::city);
    add("State", Role::region);
    add("County", Role::region);
    add("ZipCode", Role::postcode);
    add("Post Code", Role::postcode);
    add("Country", Role::country);
  }
  return p;
}

// Mailchimp audience export (Audience > All contacts > Export Audience):
// "Email Address","First Name","Last Name",<the audience's other merge
// fields>,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,
// LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,
// EUID,NOTES[,TAGS]; the unsubscribed file adds UNSUB_TIME,
// UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER.
// Times are "YYYY-MM-DD HH:MM:SS" in UTC; TAGS is a list like
// "VIP","Blog". Seen in many public readers and tests of these exports.
BuiltinProfile make_mailchimp() {
  BuiltinProfile p;
  p.name = "mailchimp";
  p.signature = {"Email Address", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LEID", "EUID"};
  p.rules = {
      {"Email Address", Role::primary_email},
      {"First Name", Role::field, "first_name"},
      {"Last Name", Role::field, "last_name"},
      {"Phone Number", Role::phone},
      {"Address", Role::attr, "address"},
      {"Birthday", Role::birthdate, "md"},
      {"MEMBER_RATING", Role::attr, "mailchimp_rating"},
      {"OPTIN_TIME", Role::consent_time, "request"},
      {"OPTIN_IP", Role::consent_ip, "request"},
      {"CONFIRM_TIME", Role::consent_time, "grant"},
      {"CONFIRM_IP", Role::consent_ip, "grant"},
      {"UNSUB_TIME", Role::consent_time, "withdraw"},
      // Mailchimp's guesses from the IP address, not facts the person gave.
      {"LATITUDE", Role::ignore},
      {"LONGITUDE", Role::ignore},
      {"GMTOFF", Role::ignore},
      {"DSTOFF", Role::ignore},
      {"TIMEZONE", Role::ignore},
      {"CC", Role::ignore},
      {"REGION", Role::ignore},
      {"LAST_CHANGED", Role::ignore},
      {"LEID", Role::attr, "mailchimp_leid"},
      {"EUID", Role::attr, "mailchimp_euid"},
      {"NOTES", Role::attr, "note"},
      {"TAGS", Role::tags, "list"},
  };
  return p;
}

// HubSpot contacts export (Contacts > Export, CSV, "properties in your
// view" or all): "Record ID,First Name,Last Name,Email,Phone Number,Contact
// owner,Lead Status,Create Date,Last Activity Date,...", with the labels of
// the properties as column names ("Company Name", "Job Title", "Street
// Address", "City", "State/Region", "Postal Code", "Country/Region",
// "Mobile Phone Number", "Lifecycle Stage"), as in public readers and tests
// of HubSpot exports.
BuiltinProfile make_hubspot() {
  BuiltinProfile p;
  p.name = "hubspot";
  p.signature = {"Record ID", "First Name", "Last Name", "Email"};
  p.rules = {
      {"Record ID", Role::attr, "hubspot_id"},
      {"First Name", Role::field, "first_name"},
      {"Last Name", Role::field, "last_name"},
      {"Email", Role::primary_email},
      {"Phone Number", Role::phone},
      {"Mobile Phone Number", Role::phone},
      {"Company Name", Role::field, "company"},
      {"Job Title", Role::attr, "job_title"},
      {"Street Address", Role::street},
      {"City", Role::city},
      {"State/Region", Role::region},
      {"Postal Code", Role::postcode},
      {"Country/Region", Role::country},
      {"Contact owner", Role::attr, "hubspot_owner"},
      {"Lifecycle Stage", Role::attr, "lifecycle_stage"},
      {"Lead Status", Role::attr, "lead_status"},
      {"Create Date", Role::attr, "hubspot_created"},
  };
  return p;
}

// In recognition order: the more distinctive first (Outlook desktop before
// Outlook.com, whose columns it may share).
const std::vector<BuiltinProfile>& profiles() {
  static const std::vector<BuiltinProfile> all = {
      make_google(),      make_google_legacy(), make_outlook(),   make_outlook_de(),
      make_outlook_com(), make_thunderbird(),   make_mailchimp(), make_hubspot(),
  };
  return all;
}

constexpr std::array<std::string_view, 8> k_names = {
    "google",      "google-legacy", "outlook",   "outlook-de",
    "outlook-com", "thunderbird",   "mailchimp", "hubspot",
};

// Matches a simplified column against a simplified pattern; '#' takes one
// or more digits, returned in `number`.
bool matches(std::string_view column, std::string_view pattern, std::string& number) {
  std::size_t i = 0;
  for (std::size_t j = 0; j < pattern.size(); ++j) {
    if (pattern[j] == '#') {
      std::size_t start = i;
      while (i < column.size() && column[i] >= '0' && column[i] <= '9')
        ++i;
      if (i == start)
        return false;
      number.assign(column.substr(start, i - start));
    } else if (i >= column.size() || column[i] != pattern[j]) {
      return false;
    } else {
      ++i;
    }
  }
  return i == column.size();
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Lower-case for the country names below: ASCII and the Latin-1 capitals
// (Ö -> ö) in UTF-8.
std::string fold(std::string_view s) {
  std::string out = lower_ascii(s);
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    auto lead = static_cast<unsigned char>(out[i]);
    auto next = static_cast<unsigned char>(out[i + 1]);
    if (lead == 0xC3 && next >= 0x80 && next <= 0x9E && next != 0x97) {
      out[i + 1] = static_cast<char>(next + 0x20);
      ++i;
    }
  }
  return out;
}

// The country names exports write (English and German), for the countries
// crm's users most often meet; any other name is kept as attr.country_name.
constexpr std::pair<std::string_view, std::string_view> k_country_names[] = {
    {"germany", "DE"},
    {"deutschland", "DE"},
    {"austria", "AT"},
    {"österreich", "AT"},
    {"switzerland", "CH"},
    {"schweiz", "CH"},
    {"france", "FR"},
    {"frankreich", "FR"},
    {"italy", "IT"},
    {"italien", "IT"},
    {"spain", "ES"},
    {"spanien", "ES"},
    {"portugal", "PT"},
    {"netherlands", "NL"},
    {"the netherlands", "NL"},
    {"niederlande", "NL"},
    {"belgium", "BE"},
    {"belgien", "BE"},
    {"luxembourg", "LU"},
    {"luxemburg", "LU"},
    {"denmark", "DK"},
    {"dänemark", "DK"},
    {"sweden", "SE"},
    {"schweden", "SE"},
    {"norway", "NO"},
    {"norwegen", "NO"},
    {"finland", "FI"},
    {"finnland", "FI"},
    {"poland", "PL"},
    {"polen", "PL"},
    {"czech republic", "CZ"},
    {"czechia", "CZ"},
    {"tschechien", "CZ"},
    {"slovakia", "SK"},
    {"slowakei", "SK"},
    {"hungary", "HU"},
    {"ungarn", "HU"},
    {"ireland", "IE"},
    {"irland", "IE"},
    {"united kingdom", "GB"},
    {"great britain", "GB"},
    {"england", "GB"},
    {"großbritannien", "GB"},
    {"vereinigtes königreich", "GB"},
    {"united states", "US"},
    {"united states of america", "US"},
    {"usa", "US"},
    {"vereinigte staaten", "US"},
    {"canada", "CA"},
    {"kanada", "CA"},
    {"australia", "AU"},
    {"australien", "AU"},
    {"new zealand", "NZ"},
    {"neuseeland", "NZ"},
    {"greece", "GR"},
    {"griechenland", "GR"},
    {"turkey", "TR"},
    {"türkei", "TR"},
    {"croatia", "HR"},
    {"kroatien", "HR"},
    {"slovenia", "SI"},
    {"slowenien", "SI"},
    {"romania", "RO"},
    {"rumänien", "RO"},
    {"japan", "JP"},
    {"china", "CN"},
    {"india", "IN"},
    {"indien", "IN"},
    {"brazil", "BR"},
    {"brasilien", "BR"},
    {"mexico", "MX"},
    {"mexiko", "MX"},
};

// A two-letter code as it is (validated later like any country), a known
// name as its code; nullopt for an unknown name.
std::optional<std::string> country_code(std::string_view text) {
  if (text.size() == 2)
    return std::string(text);
  std::string key = fold(text);
  if (key == "uk")
    return "GB";
  for (const auto& [name, code] : k_country_names)
    if (name == key)
      return std::string(code);
  return std::nullopt;
}

bool parse_int(std::string_view text, int& out) {
  auto t = trim(text);
  if (t.empty())
    return false;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && end == t.data() + t.size();
}

// YYYY-MM-DD from numbers, if that is a real date.
std::optional<std::string> make_date(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31)
    return std::nullopt;
  auto text = fmt::format("{:04}-{:02}-{:02}", year, month, day);
  if (!parse_date(text))
    return std::nullopt;
  return text;
}

// A date as the export writes it: ISO always; "mdy" 7/14/1985, "dmy"
// 14.7.1985. Throws Error(Exit::data) naming the column.
std::string read_date(std::string_view value, std::string_view style, std::string_view column) {
  if (parse_date(value))
    return std::string(value);
  char sep = style == "mdy" ? '/' : style == "dmy" ? '.' : '\0';
  if (sep != '\0') {
    auto a = value.find(sep);
    auto b = a == std::string_view::npos ? a : value.find(sep, a + 1);
    int x = 0, y = 0, year = 0;
    if (b != std::string_view::npos && parse_int(value.substr(0, a), x) &&
        parse_int(value.substr(a + 1, b - a - 1), y) && parse_int(value.substr(b + 1), year) &&
        value.size() - b - 1 == 4) {
      auto date = style == "mdy" ? make_date(year, x, y) : make_date(year, y, x);
      if (date)
        return *date;
    }
  }
  std::string_view shape = style == "mdy"   ? "M/D/YYYY or YYYY-MM-DD"
                           : style == "dmy" ? "D.M.YYYY or YYYY-MM-DD"
                                            : "YYYY-MM-DD";
  throw Error(Exit::data, fmt::format("invalid {} '{}': expected a date {}", std::string(column),
                                      std::string(value), shape));
}

// A time of a Mailchimp export ("2026-03-14 09:12:31", UTC) or RFC 3339.
std::string read_time(std::string_view value, std::string_view column) {
  std::string text(value);
  if (text.size() == 19 && text[10] == ' ') {
    text[10] = 'T';
    text += 'Z';
  }
  auto t = text.size() > 10 ? parse_time(text) : std::nullopt;
  if (!t)
    throw Error(Exit::data,
                fmt::format("invalid {} '{}': expected YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339",
                            std::string(column), std::string(value)));
  return format_time(*t);
}

// Mailchimp's TAGS: "VIP","Blog Readers" (or VIP,Blog without quotes).
std::vector<std::string> split_tag_list(std::string_view cell) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  for (std::size_t i = 0; i <= cell.size(); ++i) {
    char c = i < cell.size() ? cell[i] : ',';
    if (c == '"') {
      if (quoted && i + 1 < cell.size() && cell[i + 1] == '"') {
        current.push_back('"');
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      auto t = trim(current);
      if (!t.empty())
        out.emplace_back(t);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> split_on(std::string_view cell, std::string_view separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= cell.size()) {
    auto end = cell.find(separator, start);
    auto part = trim(cell.substr(start, end == std::string_view::npos ? end : end - start));
    if (!part.empty())
      out.emplace_back(part);
    if (end == std::string_view::npos)
      break;
    start = end + separator.size();
  }
  return out;
}

// The digits of a phone number (and a leading +), to see two spellings of
// one number as one.
std::string phone_key(std::string_view phone) {
  std::string out;
  for (char c : phone)
    if ((c >= '0' && c <= '9') || (c == '+' && out.empty()))
      out.push_back(c);
  return out;
}

// An attribute name from a label: what an attribute name cannot hold
// becomes '_' ("Kunden-Nr." stays, "Shoe size" is "Shoe_size").
std::string attribute_key(std::string_view label) {
  std::string out;
  for (char c : trim(label)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

ConsentEvidence::Action action_of(std::string_view name) {
  if (name == "request")
    return ConsentEvidence::Action::request;
  if (name == "withdraw")
    return ConsentEvidence::Action::withdraw;
  return ConsentEvidence::Action::grant;
}

} // namespace

std::string_view consent_action_name(ConsentEvidence::Action action) {
  switch (action) {
  case ConsentEvidence::Action::request:
    return "request";
  case ConsentEvidence::Action::grant:
    return "grant";
  case ConsentEvidence::Action::withdraw:
    return "withdraw";
  }
  return "grant";
}

std::span<const std::string_view> builtin_profile_names() { return k_names; }

const BuiltinProfile* find_builtin_profile(std::string_view name) {
  for (const auto& p : profiles())
    if (p.name == name)
      return &p;
  return nullptr;
}

const BuiltinProfile* recognise_profile(std::span<const std::string> columns) {
  std::vector<std::string> simple;
  simple.reserve(columns.size());
  for (const auto& c : columns)
    simple.push_back(simplified_column(c));
  for (const auto& p : profiles()) {
    bool all = std::all_of(p.signature.begin(), p.signature.end(), [&](std::string_view s) {
      return std::find(simple.begin(), simple.end(), simplified_column(s)) != simple.end();
    });
    if (all)
      return &p;
  }
  return nullptr;
}

std::string_view profile_name(const BuiltinProfile& profile) { return profile.name; }

std::optional<std::string_view> profile_encoding(const BuiltinProfile& profile) {
  if (profile.encoding.empty())
    return std::nullopt;
  return profile.encoding;
}

std::unique_ptr<RecordReader> reopen_legacy_export(const std::string& path, ReaderOptions options) {
  if (path == "-" || options.encoding)
    return nullptr;
  for (const auto& p : profiles()) {
    if (p.encoding.empty())
      continue;
    options.encoding = std::string(p.encoding);
    try {
      auto reader = open_reader(path, options);
      bool delimited = reader->format() == InputFormat::csv || reader->format() == InputFormat::tsv;
      if (delimited && recognise_profile(reader->columns()) == &p)
        return reader;
    } catch (const Error&) {
      // Not this export either: the caller reports the first error.
    }
  }
  return nullptr;
}

std::vector<std::string> split_multi_value(std::string_view cell) { return split_on(cell, ":::"); }

ProfileMapper::ProfileMapper(const BuiltinProfile& profile, std::span<const std::string> columns,
                             const std::function<bool(std::size_t)>& skip)
    : m_profile(&profile) {
  std::vector<std::string> patterns;
  patterns.reserve(profile.rules.size());
  for (const auto& rule : profile.rules)
    patterns.push_back(simplified_column(rule.column));
  m_columns.resize(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    Column& column = m_columns[i];
    column.name = columns[i];
    if (skip && skip(i))
      continue;
    std::string simple = simplified_column(columns[i]);
    for (std::size_t r = 0; r < profile.rules.size(); ++r) {
      std::string number;
      if (!matches(simple, patterns[r], number))
        continue;
      const Rule& rule = profile.rules[r];
      column.handled = true;
      column.role = rule.role;
      column.arg = rule.arg;
      column.group = number.empty() ? rule.group : number;
      break;
    }
  }
}

ProfileMapper::~ProfileMapper() = default;
ProfileMapper::ProfileMapper(ProfileMapper&&) noexcept = default;
ProfileMapper& ProfileMapper::operator=(ProfileMapper&&) noexcept = default;

bool ProfileMapper::handles(std::size_t index) const {
  return index < m_columns.size() && m_columns[index].handled;
}

void ProfileMapper::map(const std::vector<std::optional<std::string>>& values,
                        ProfileRow& out) const {
  out.changes = ContactChanges{};
  out.consent.clear();
  auto& fields = out.changes.fields;
  auto& attrs = out.changes.attrs;
  auto set_field = [&](std::string_view name, std::string value) {
    for (const auto& f : fields)
      if (f.first == name)
        return;
    fields.emplace_back(std::string(name), std::move(value));
  };
  auto set_attr = [&](std::string_view name, std::string value) {
    for (const auto& a : attrs)
      if (a.first == name)
        return;
    attrs.emplace_back(std::string(name), std::move(value));
  };
  auto value_of = [&](std::size_t i) -> std::string_view {
    if (i >= values.size() || !values[i] || !m_columns[i].handled)
      return {};
    auto v = trim(*values[i]);
    if (m_profile->outlook_dates && (v == "0/0/00" || v == "0.0.00"))
      return {};
    return v;
  };

  // Labels first: Google marks the primary email or phone on the label.
  std::vector<std::string> starred_email, starred_phone;
  for (std::size_t i = 0; i < m_columns.size(); ++i) {
    auto role = m_columns[i].role;
    if (role != Role::email_label && role != Role::phone_label)
      continue;
    auto v = value_of(i);
    if (v.starts_with('*'))
      (role == Role::email_label ? starred_email : starred_phone).push_back(m_columns[i].group);
  }
  auto starred = [](const std::vector<std::string>& groups, const std::string& group) {
    return std::find(groups.begin(), groups.end(), group) != groups.end();
  };

  struct Candidate {
    std::string value;
    bool primary;
  };
  std::vector<Candidate> emails, phones;
  struct Address {
    std::string group;
    std::string street, city, postcode, region, country;
    bool any() const {
      return !street.empty() || !city.empty() || !postcode.empty() || !country.empty();
    }
  };
  std::vector<Address> addresses;
  auto address = [&](const std::string& group) -> Address& {
    for (auto& a : addresses)
      if (a.group == group)
        return a;
    addresses.push_back({group, {}, {}, {}, {}, {}});
    return addresses.back();
  };
  std::string display_name, birth_year, birth_month, birth_day;
  std::vector<std::pair<std::string, std::string>> custom_labels, custom_values; // by group
  struct Consent {
    std::string time, ip, column;
  };
  std::array<Consent, 3> consent{};

  for (std::size_t i = 0; i < m_columns.size(); ++i) {
    const Column& column = m_columns[i];
    auto v = value_of(i);
    if (v.empty())
      continue;
    switch (column.role) {
    case Role::field:
      set_field(column.arg, std::string(v));
      break;
    case Role::attr:
      set_attr(column.arg, std::string(v));
      break;
    case Role::ignore:
    case Role::email_label:
    case Role::phone_label:
      break;
    case Role::email:
    case Role::primary_email: {
      // Of a starred cell "a ::: b", a is the primary.
      bool primary = column.role == Role::primary_email || starred(starred_email, column.group);
      for (auto& part : split_multi_value(v)) {
        // Outlook writes an Exchange contact's address as its directory
        // name (/o=ExchangeLabs/ou=...): no email, but kept.
        if (part.starts_with("/o=") || part.starts_with("/O=")) {
          set_attr("exchange_address", std::move(part));
          continue;
        }
        emails.push_back({std::move(part), primary});
        primary = false;
      }
      break;
    }
    case Role::phone:
    case Role::primary_phone: {
      bool primary = column.role == Role::primary_phone || starred(starred_phone, column.group);
      for (auto& part : split_multi_value(v)) {
        phones.push_back({std::move(part), primary});
        primary = false;
      }
      break;
    }
    case Role::street:
    case Role::street_more: {
      auto parts = split_multi_value(v);
      if (parts.empty())
        break;
      auto& street = address(column.group).street;
      if (column.role == Role::street)
        street = street.empty() ? parts[0] : parts[0] + ", " + street;
      else
        street = street.empty() ? parts[0] : street + ", " + parts[0];
      break;
    }
    case Role::city:
    case Role::postcode:
    case Role::region:
    case Role::country: {
      auto parts = split_multi_value(v);
      if (parts.empty())
        break;
      auto& a = address(column.group);
      auto& slot = column.role == Role::city       ? a.city
                   : column.role == Role::postcode ? a.postcode
                   : column.role == Role::region   ? a.region
                                                   : a.country;
      if (slot.empty())
        slot = parts[0];
      break;
    }
    case Role::tags: {
      auto tags = column.arg == "list" ? split_tag_list(v) : split_on(v, trim(column.arg));
      for (auto& tag : tags) {
        // Google's system groups: every contact is in myContacts.
        if (tag.starts_with("* ")) {
          tag.erase(0, 2);
          if (tag == "myContacts" || tag == "My Contacts")
            continue;
        }
        if (!tag.empty())
          out.changes.add_tags.push_back(std::move(tag));
      }
      break;
    }
    case Role::birthdate:
      if (v.starts_with("--")) {
        set_attr("birthday", std::string(v)); // Google: a birthday without a year
      } else if (column.arg == "md") {
        // Mailchimp's MM/DD, kept like Google's "--MM-DD".
        int month = 0, day = 0;
        auto slash = v.find('/');
        if (slash == std::string_view::npos || !parse_int(v.substr(0, slash), month) ||
            !parse_int(v.substr(slash + 1), day) || !make_date(2000, month, day))
          throw Error(Exit::data,
                      fmt::format("invalid {} '{}': expected MM/DD", column.name, std::string(v)));
        set_attr("birthday", fmt::format("--{:02}-{:02}", month, day));
      } else
        set_field("birthdate", read_date(v, column.arg, column.name));
      break;
    case Role::birth_year:
      birth_year = v;
      break;
    case Role::birth_month:
      birth_month = v;
      break;
    case Role::birth_day:
      birth_day = v;
      break;
    case Role::custom_label:
      custom_labels.emplace_back(column.group, v);
      break;
    case Role::custom_value:
      custom_values.emplace_back(column.group, v);
      break;
    case Role::display_name:
      if (display_name.empty())
        display_name = v;
      break;
    case Role::consent_time:
    case Role::consent_ip: {
      auto& c = consent[static_cast<std::size_t>(action_of(column.arg))];
      if (column.role == Role::consent_time) {
        c.time = read_time(v, column.name);
        c.column = column.name;
      } else {
        c.ip = v;
      }
      break;
    }
    }
  }

  // The primary, else the first; the others, in order, as attributes.
  std::stable_partition(emails.begin(), emails.end(), [](const auto& c) { return c.primary; });
  std::vector<std::string> seen;
  std::size_t n = 0;
  for (const auto& e : emails) {
    auto key = lower_ascii(e.value);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      continue;
    seen.push_back(key);
    if (n++ == 0)
      set_field("email", e.value);
    else
      set_attr(fmt::format("email_{}", n), e.value);
  }
  std::stable_partition(phones.begin(), phones.end(), [](const auto& c) { return c.primary; });
  seen.clear();
  n = 0;
  for (const auto& p : phones) {
    auto key = phone_key(p.value);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      continue;
    seen.push_back(key);
    if (n++ == 0)
      set_field("phone", p.value);
    else
      set_attr(fmt::format("phone_{}", n), p.value);
  }

  // The first address the row has, whole: parts of two addresses are never mixed.
  for (const auto& a : addresses) {
    if (!a.any())
      continue;
    if (!a.street.empty())
      set_field("street", a.street);
    if (!a.postcode.empty())
      set_field("postcode", a.postcode);
    if (!a.city.empty())
      set_field("city", a.city);
    if (!a.region.empty())
      set_attr("region", a.region);
    if (!a.country.empty()) {
      if (auto code = country_code(a.country))
        set_field("country", *code);
      else
        set_attr("country_name", a.country);
    }
    break;
  }

  if (!birth_month.empty() && !birth_day.empty()) {
    int year = 0, month = 0, day = 0;
    bool numbers = parse_int(birth_month, month) && parse_int(birth_day, day) &&
                   (birth_year.empty() || parse_int(birth_year, year));
    std::optional<std::string> date;
    if (numbers && !birth_year.empty())
      date = make_date(year, month, day);
    else if (numbers && month >= 1 && month <= 12 && day >= 1 && day <= 31)
      date = fmt::format("--{:02}-{:02}", month, day);
    if (!date)
      throw Error(Exit::data, fmt::format("invalid birthday: year '{}', month '{}', day '{}'",
                                          birth_year, birth_month, birth_day));
    if (date->starts_with("--"))
      set_attr("birthday", *date);
    else
      set_field("birthdate", *date);
  }

  // "Custom Field 1 - Label" = "Kundennummer", "... - Value" = "K-1":
  // attr.Kundennummer; without a label, attr.custom_1.
  for (const auto& [group, value] : custom_values) {
    std::string key;
    for (const auto& [g, label] : custom_labels)
      if (g == group)
        key = attribute_key(label);
    set_attr(key.empty() ? "custom_" + group : key, value);
  }

  bool named = std::any_of(fields.begin(), fields.end(), [](const auto& f) {
    return f.first == "first_name" || f.first == "last_name";
  });
  if (!named && !display_name.empty())
    set_attr("display_name", display_name);

  for (std::size_t a = 0; a < consent.size(); ++a) {
    if (consent[a].time.empty())
      continue;
    out.consent.push_back({static_cast<ConsentEvidence::Action>(a), consent[a].time, consent[a].ip,
                           consent[a].column});
  }
}

} // namespace crm
