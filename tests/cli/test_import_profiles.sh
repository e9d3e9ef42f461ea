#!/usr/bin/env bash
# crm contact import of the exports people have: the built-in profiles, with
# and without --profile, recognition from the header, and turning it off.
# The fixtures are small files in each export's shape (real header, invented
# values), with the BOM, CRLF, ';', cp1252 and UTF-16 the exports come with.
# shellcheck source-path=SCRIPTDIR
FIXTURES="$(cd "$(dirname "$0")" && pwd)/fixtures"
source "$(dirname "$0")/lib.sh"

cp "$FIXTURES"/*.csv .
contact_fields='email,phone,first_name,last_name,company,street,postcode,city,country,birthdate,tags'

# check_profile NAME FILE ATTRS: imports FILE into a fresh NAME.db as a new
# user would (no options), then into NAME-explicit.db with --profile NAME;
# both must give the same contacts, and a second import changes nothing.
check_profile() {
  local name=$1 file=$2 attrs=$3 inserted=$4 rejected=${5:-0} prefix consent
  prefix=$(rejects_of "$name")
  consent=$(consent_of "$name")
  [ -z "$prefix" ] || prefix+=$'\n'
  begin "$name: recognised from the header"
  crm --db "$name.db" init
  crm --db "$name.db" contact import "$file"
  expect_status 0
  expect_out ""
  expect_err "${prefix}inserted $inserted, updated 0, unchanged 0, rejected $rejected; profile $name${consent}; batch 1"
  if [ "$(sqlite3 "$name.db" "SELECT profile FROM import_batch")" = "$name" ]; then ok; else fail "batch profile"; fi

  begin "$name: a second import changes nothing"
  local history
  history=$(sqlite3 "$name.db" "SELECT count(*) FROM history")
  crm --db "$name.db" contact import "$file"
  expect_err "${prefix}inserted 0, updated 0, unchanged $inserted, rejected $rejected; profile $name; batch 2"
  if [ "$(sqlite3 "$name.db" "SELECT count(*) FROM history")" = "$history" ]; then ok; else fail "history grew"; fi

  begin "$name: --profile $name gives the same contacts"
  crm --db "$name-explicit.db" init
  crm --db "$name-explicit.db" contact import "$file" --profile "$name"
  expect_status 0
  expect_err "${prefix}inserted $inserted, updated 0, unchanged 0, rejected $rejected; profile $name${consent}; batch 1"
  crm --db "$name.db" contact list -f tsv --fields "$contact_fields,$attrs"
  local recognised=$OUT
  crm --db "$name-explicit.db" contact list -f tsv --fields "$contact_fields,$attrs"
  if [ "$OUT" = "$recognised" ]; then ok; else fail "the contacts differ: $recognised"; fi
}

# The stderr line of the row a fixture rejects on purpose.
rejects_of() {
  case $1 in
  mailchimp) echo "crm: line 4: invalid OPTIN_TIME '2024-13-40 25:00:00': expected YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339" ;;
  esac
}

# The summary's consent part for a fixture with consent evidence (the
# starter config's one email purpose, newsletter, takes it).
consent_of() {
  case $1 in
  mailchimp) echo "; 3 consent entries for newsletter" ;;
  esac
}

# show DB REF FIELDS: the contact as json.
show() { crm --db "$1" contact show "$2" -f json --fields "$3"; }

check_profile google google.csv attr.email_2,attr.email_3,attr.phone_2,attr.job_title,attr.nickname,attr.note,attr.website,attr.birthday,attr.country_name,attr.Kundennummer 2
begin "google: the starred email and phone, the rest kept as attributes, labels as tags"
show google.db greta@nordlicht.example "id,$contact_fields,attr.email_2,attr.email_3,attr.phone_2,attr.job_title,attr.nickname,attr.note,attr.website,attr.Kundennummer"
expect_out '[
{"id":1,"email":"greta@nordlicht.example","phone":"+491712345678","first_name":"Greta","last_name":"Lindqvist","company":"Nordlicht GmbH","street":"Torstraße 12, Hof links","postcode":"10119","city":"Berlin","country":"DE","birthdate":"1984-03-09","tags":["Kunden","starred"],"attr":{"email_2":"greta.private@example.org","email_3":"einkauf@nordlicht.example","phone_2":"030 9876543","job_title":"Einkauf","nickname":"Gre","note":"met at the fair","website":"https://nordlicht.example","Kundennummer":"K-4711"}}
]'
begin "google: a birthday without a year and an unknown country are kept as attributes"
show google.db tomas@example.es "$contact_fields,attr.phone_2,attr.birthday,attr.country_name"
expect_out '[
{"email":"tomas@example.es","phone":"+34612345678","first_name":"Tomás","last_name":"Ortega","company":null,"street":null,"postcode":null,"city":"Sevilla","country":null,"birthdate":null,"tags":[],"attr":{"phone_2":"+34 911 222 333","birthday":"--07-21","country_name":"Narnia"}}
]'

check_profile google-legacy google-legacy.csv attr.email_2,attr.email_3,attr.job_title,attr.display_name 2
begin "google-legacy: UTF-16 with a BOM; Type '* Work' marks the primary"
show google-legacy.db jonas@brenner-holz.example "$contact_fields,attr.email_2,attr.email_3,attr.job_title"
expect_out '[
{"email":"jonas@brenner-holz.example","phone":"+497614567890","first_name":"Jonas","last_name":"Brenner","company":"Brenner Holzbau","street":"Kaiser-Joseph-Straße 5","postcode":"79098","city":"Freiburg","country":"DE","birthdate":"1979-11-30","tags":["Lieferanten"],"attr":{"email_2":"jonas.b@example.net","email_3":"jb@example.net","job_title":"Meister"}}
]'
begin "google-legacy: a contact with only a display name keeps it"
show google-legacy.db mo@example.org "first_name,last_name,tags,attr.display_name"
expect_out '[
{"first_name":null,"last_name":null,"tags":[],"attr":{"display_name":"Mo"}}
]'

check_profile outlook outlook.csv attr.email_2,attr.phone_2,attr.title,attr.job_title,attr.region,attr.note,attr.website,attr.anniversary,attr.Gender 2
begin "outlook: the business address whole, M/D/YYYY, categories, no Outlook defaults"
show outlook.db priya@harbor.example "$contact_fields,attr.email_2,attr.phone_2,attr.title,attr.job_title,attr.region,attr.note,attr.website,attr.anniversary,attr.Gender,attr.priority"
expect_out '[
{"email":"priya@harbor.example","phone":"+12065550142","first_name":"Priya","last_name":"Raman","company":"Harbor Analytics","street":"200 Pier Ave, Suite 4","postcode":"98101","city":"Seattle","country":"US","birthdate":"1985-07-14","tags":["Board","Clients"],"attr":{"email_2":"praman@example.com","phone_2":"+1 206 555 0199","title":"Ms.","job_title":"CFO","region":"WA","note":"prefers mornings","website":"harbor.example","anniversary":null,"Gender":null,"priority":null}}
]'
begin "outlook: Primary Phone wins; a second spelling of it is not a second phone"
show outlook.db liam@example.ie "phone,street,postcode,city,country,attr.phone_2,attr.phone_3"
expect_out '[
{"phone":"+35391555123","street":"14 Quay St","postcode":"H91 X2Y3","city":"Galway","country":"IE","attr":{"phone_2":"+353 87 555 4567","phone_3":null}}
]'

begin "outlook-de: recognised although cp1252; ';' sniffed"
crm --db outlook-de.db init
crm --db outlook-de.db contact import outlook-de.csv
expect_status 0
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; profile outlook-de; batch 1"
crm --db outlook-de.db contact import outlook-de.csv --encoding cp1252
expect_err "inserted 0, updated 0, unchanged 2, rejected 0; profile outlook-de; batch 2"
begin "outlook-de: from stdin, or with recognition off, the header is not UTF-8 (65, nothing changed)"
STDIN_FILE=outlook-de.csv crm --db outlook-de.db contact import -
expect_status 65
expect_err "crm: -:1: the header is not valid UTF-8
give the file's encoding, e.g. --encoding cp1252"
crm --db outlook-de.db contact import outlook-de.csv --no-profile
expect_status 65
expect_err "crm: outlook-de.csv:1: the header is not valid UTF-8
give the file's encoding, e.g. --encoding cp1252"
if [ "$(sqlite3 outlook-de.db "SELECT count(*) FROM contact"):$(sqlite3 outlook-de.db "SELECT count(*) FROM import_batch")" = 2:2 ]; then ok; else fail "database changed"; fi
begin "a latin-1 file that is no known export still gets the encoding hint"
printf 'Vorname,Stra\xdfe\nA,B\n' >latin.csv
crm --db outlook-de.db contact import latin.csv
expect_status 65
expect_err "crm: latin.csv:1: the header is not valid UTF-8
give the file's encoding, e.g. --encoding cp1252"
begin "outlook-de: --profile outlook-de reads cp1252 by itself"
crm --db outlook-de-explicit.db init
crm --db outlook-de-explicit.db contact import outlook-de.csv --profile outlook-de
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; profile outlook-de; batch 1"
de_fields="$contact_fields,attr.phone_2,attr.email_2,attr.title,attr.job_title,attr.note,attr.anniversary"
crm --db outlook-de.db contact list -f tsv --fields "$de_fields"
recognised=$OUT
crm --db outlook-de-explicit.db contact list -f tsv --fields "$de_fields"
if [ "$OUT" = "$recognised" ]; then ok; else fail "the contacts differ: $recognised"; fi
begin "outlook-de: German names, D.M.YYYY, Deutschland and Österreich"
expect_out "email	phone	first_name	last_name	company	street	postcode	city	country	birthdate	tags	attr.phone_2	attr.email_2	attr.title	attr.job_title	attr.note	attr.anniversary
juergen@baeckerei-weiss.example	+492211234567	Jürgen	Weiß	Bäckerei Weiß KG	Marktstraße 3	50667	Köln	DE	1971-02-03	Köln;Lieferant	0171 7654321		Frau	Inhaber	Brötchen ab 5 Uhr	
zoe.brandt@example.at	+43316987654	Zoë	Brandt		Gartenweg 8	8010	Graz	AT				zb@example.at				"

check_profile outlook-com outlook-com.csv attr.email_2,attr.job_title,attr.note 2
begin "outlook-com: UTF-8 with a BOM; the home address when there is no business one"
show outlook-com.db amelie@example.fr "$contact_fields,attr.email_2,attr.job_title,attr.note"
expect_out '[
{"email":"amelie@example.fr","phone":"+33612345678","first_name":"Amélie","last_name":"Durand","company":"Atelier Durand","street":"5 rue des Lilas","postcode":"69003","city":"Lyon","country":"FR","birthdate":"1990-04-02","tags":[],"attr":{"email_2":"a.durand@atelier.example","job_title":"Architecte","note":"met at BAU"}}
]'

check_profile thunderbird thunderbird.csv attr.email_2,attr.phone_2,attr.nickname,attr.job_title,attr.note,attr.Custom_1,attr.display_name,attr.birthday 2
begin "thunderbird: Primary Email, birth year/month/day, custom columns as attributes"
show thunderbird.db ingrid@fjord.example "$contact_fields,attr.email_2,attr.phone_2,attr.nickname,attr.job_title,attr.note,attr.Custom_1"
expect_out '[
{"email":"ingrid@fjord.example","phone":"+4722123456","first_name":"Ingrid","last_name":"Solberg","company":"Fjord Consulting AS","street":"Karl Johans gate 7","postcode":"0154","city":"Oslo","country":"NO","birthdate":"1988-12-01","tags":[],"attr":{"email_2":"ingrid.s@example.no","phone_2":"+47 412 34 567","nickname":"Inga","job_title":"Partner","note":"Christmas card","Custom_1":"tier A"}}
]'
show thunderbird.db support@tools.example "first_name,birthdate,attr.display_name,attr.birthday"
expect_out '[
{"first_name":null,"birthdate":null,"attr":{"display_name":"Support Desk","birthday":"--05-17"}}
]'

check_profile mailchimp mailchimp.csv attr.mailchimp_rating,attr.mailchimp_leid,attr.mailchimp_euid,attr.address,attr.birthday,attr.LATITUDE 2 1
begin "mailchimp: TAGS as tags, Mailchimp's ids kept, its location guesses not"
show mailchimp.db nora@example.com "$contact_fields,attr.mailchimp_rating,attr.mailchimp_leid,attr.mailchimp_euid,attr.address,attr.birthday,attr.LATITUDE,attr.TIMEZONE,attr.CC"
expect_out '[
{"email":"nora@example.com","phone":"+493411234567","first_name":"Nora","last_name":"Quist","company":"Quist & Co","street":null,"postcode":null,"city":null,"country":null,"birthdate":null,"tags":["Leipzig Fair","VIP"],"attr":{"mailchimp_rating":"4","mailchimp_leid":"123456789","mailchimp_euid":"a1b2c3d4e5","address":"Hauptstr. 1  Apt 2  Leipzig    04109  DE","birthday":"--04-23","LATITUDE":null,"TIMEZONE":null,"CC":null}}
]'
begin "mailchimp: OPTIN and CONFIRM time and IP become ledger entries with that proof"
crm --db mailchimp.db consent history nora@example.com -f tsv
expect_out_contains "newsletter	email	request	2025-03-14T09:12:31Z"
expect_out_contains "OPTIN_TIME 203.0.113.7"
expect_out_contains "newsletter	email	grant	2025-03-14T09:14:02Z"
expect_out_contains "CONFIRM_TIME 203.0.113.7"
crm --db mailchimp.db consent check nora@example.com --purpose newsletter --channel email
expect_status 0
crm --db mailchimp.db consent verify
expect_status 0

begin "mailchimp: --undo of the batch takes its own consent entries along (blanked, the chain verifies)"
crm --db mc-undo.db init
crm --db mc-undo.db contact import mailchimp.csv -q
crm --db mc-undo.db contact import --undo 1
expect_status 0
n=$(sqlite3 mc-undo.db "SELECT count(*) FROM consent WHERE contact_id IS NOT NULL OR proof IS NOT NULL")
if [ "$n" = 0 ]; then ok; else fail "$n entries still name a contact"; fi
crm --db mc-undo.db consent verify
expect_status 0

begin "mailchimp: a row with an invalid OPTIN_TIME goes to the rejects file as it was"
crm --db mailchimp.db contact import mailchimp.csv --rejects mc-rejects.csv
expect_err "inserted 0, updated 0, unchanged 2, rejected 1 (see mc-rejects.csv); profile mailchimp; batch 3"
if [ "$(tail -n +2 mc-rejects.csv)" = "$(sed -n 4p mailchimp.csv),4,invalid OPTIN_TIME '2024-13-40 25:00:00': expected YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339" ]; then ok; else fail "rejects: $(cat mc-rejects.csv)"; fi
if [ "$(sqlite3 mailchimp.db "SELECT count(*) FROM contact WHERE email = 'bad-time@example.org'")" = 0 ]; then ok; else fail "the bad row was imported"; fi

check_profile hubspot hubspot.csv attr.hubspot_id,attr.hubspot_owner,attr.job_title,attr.lead_status,attr.lifecycle_stage,attr.hubspot_created,attr.Marketing_contact_status 2
begin "hubspot: Record ID and owner as attributes, country names to codes"
show hubspot.db hana.novak@example.cz "$contact_fields,attr.hubspot_id,attr.hubspot_owner,attr.job_title,attr.lead_status,attr.lifecycle_stage,attr.hubspot_created,attr.Marketing_contact_status"
expect_out '[
{"email":"hana.novak@example.cz","phone":"+420601234567","first_name":"Hana","last_name":"Novak","company":"Novak s.r.o.","street":null,"postcode":null,"city":"Brno","country":"CZ","birthdate":null,"tags":[],"attr":{"hubspot_id":"51234001","hubspot_owner":"Anna Berger","job_title":"COO","lead_status":"OPEN","lifecycle_stage":"Lead","hubspot_created":"2025-02-11 08:30","Marketing_contact_status":"Marketing contact"}}
]'

begin "--no-profile turns recognition off: the columns map by name"
crm --db plain.db init
crm --db plain.db contact import google.csv --no-profile --dry-run
expect_status 0
expect_err "crm: line 2: no email (the import key)
crm: line 6: invalid birthdate '--07-21': expected a date YYYY-MM-DD
dry run: inserted 0, updated 0, unchanged 0, rejected 2; nothing was written"
crm --db plain.db contact import google.csv --no-profile --key none
expect_err "crm: line 6: invalid birthdate '--07-21': expected a date YYYY-MM-DD
inserted 1, updated 0, unchanged 0, rejected 1; batch 1"
crm --db plain.db contact list -f tsv --fields first_name,email,attr.E-mail_1_-_Value --no-header
expect_out "Greta		greta.private@example.org"

begin "--map turns recognition off too"
crm --db plain.db contact import hubspot.csv --map "Email=email"
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; batch 2"
crm --db plain.db contact show ravi@example.in -f tsv --fields attr.Record_ID --no-header
expect_out "51234002"

begin "--map with --profile: the user's mapping of a column wins"
crm --db map.db init
crm --db map.db contact import hubspot.csv --profile hubspot --map "Record ID=external_id"
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; profile hubspot; batch 1"
crm --db map.db contact show ext:51234001 -f tsv --fields email,attr.hubspot_id --no-header
expect_out "hana.novak@example.cz	"

begin "--strict: the columns a profile reads are mapped; any other is an error"
crm --db strict.db init
crm --db strict.db contact import thunderbird.csv --strict
expect_status 65
expect_err "crm: unmapped column 'Screen Name'
map it with --map \"COLUMN=field\" (or =- to ignore it), or drop --strict"
if [ "$(sqlite3 strict.db "SELECT count(*) FROM contact"):$(sqlite3 strict.db "SELECT count(*) FROM import_batch")" = 0:0 ]; then ok; else fail "database changed"; fi
crm --db strict.db contact import thunderbird.csv --profile thunderbird --strict --map "Screen Name=-" --map "Custom 1=attr.tier" \
  --map "Custom 2=-" --map "Custom 3=-" --map "Custom 4=-"
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; profile thunderbird; batch 1"
crm --db strict.db contact show ingrid@fjord.example -f tsv --fields first_name,attr.tier,attr.Custom_1 --no-header
expect_out "Ingrid	tier A	"

begin "--dry-run names the recognised profile and writes nothing"
crm --db dry.db init
crm --db dry.db contact import thunderbird.csv --dry-run
expect_err "dry run: inserted 2, updated 0, unchanged 0, rejected 0; profile thunderbird; nothing was written"
if [ "$(sqlite3 dry.db "SELECT count(*) FROM contact"):$(sqlite3 dry.db "SELECT count(*) FROM import_batch")" = 0:0 ]; then ok; else fail "database changed"; fi

begin "a value a profile cannot read rejects the row with the column named"
sed 's|7/14/1985|14/7/1985|' outlook.csv >outlook-bad.csv
crm --db bad.db init
crm --db bad.db contact import outlook-bad.csv
expect_status 0
expect_err "crm: line 2: invalid Birthday '14/7/1985': expected a date M/D/YYYY or YYYY-MM-DD
inserted 1, updated 0, unchanged 0, rejected 1; profile outlook; batch 1"
crm --db bad.db contact import outlook-bad.csv --max-rejects 0
expect_status 65
expect_err_contains "too many rejected rows: more than 0 (--max-rejects)"
if [ "$(sqlite3 bad.db "SELECT count(*) FROM contact"):$(sqlite3 bad.db "SELECT count(*) FROM import_batch")" = 1:1 ]; then ok; else fail "database changed"; fi

begin "--profile with a built-in name and a json input is a usage error"
printf '[{"email": "j@example.com"}]\n' >people.json
crm --db bad.db contact import people.json --profile google
expect_status 64
expect_err "crm: --profile google: the profile reads csv exports, not json"

begin "an unknown profile is 2 and the hint lists the built-in ones"
crm --db bad.db contact import hubspot.csv --profile gmail
expect_status 2
expect_err "crm: no import profile 'gmail'
built-in profiles: google, google-legacy, outlook, outlook-de, outlook-com, thunderbird, mailchimp, hubspot; others are the [import.profiles.NAME] tables of the config"

begin "--profile and --no-profile together are a usage error"
crm --db bad.db contact import hubspot.csv --profile hubspot --no-profile
expect_status 64
expect_err_contains "crm: --profile excludes --no-profile"

begin "a config profile may not take a built-in name (78, file:line:col)"
cat >clash.toml <<'TOML'
[defaults]
country = "DE"

[import.profiles.google]
map = { "E-Mail" = "email" }
TOML
before=$(sqlite3 bad.db "SELECT count(*) FROM contact")
crm --config clash.toml --db bad.db contact import hubspot.csv
expect_status 78
expect_err "crm: clash.toml:4:18: [import.profiles.google]: 'google' is a built-in import profile
choose another name for this profile"
if [ "$(sqlite3 bad.db "SELECT count(*) FROM contact")" = "$before" ]; then ok; else fail "database changed"; fi
crm --config clash.toml config check
expect_status 78

finish
