#!/usr/bin/env bash
# crm contact: add, show, list, search, update, delete, tag, untag, note,
# history, exists, references from stdin, normalisation and bad input.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
dump() { sqlite3 crm.db .dump; }

begin "add prints the new id"
crm contact add --first-name Anna --last-name Müller --email " Anna.Mueller@Example.com " \
  --phone "030 1234567" --country de --city Berlin --attr industry=retail --tag vip
expect_status 0
expect_out 1

begin "add normalises email, phone, country and keeps the display email"
crm contact show 1 --fields id,email,phone,country,tags,attr.industry -f csv
expect_out 'id,email,phone,country,tags,attr.industry
1,Anna.Mueller@Example.com,+49301234567,DE,vip,retail'

begin "names are stored in Unicode NFC"
crm contact add --first-name $'Jo\xcc\x88rg' --last-name $'Gro\xcc\x88\xc3\x9f' --email jg@example.de --country DE
expect_out 2
crm contact show 2 --fields first_name,last_name -f csv --no-header
expect_out $'J\xc3\xb6rg,Gr\xc3\xb6\xc3\x9f'

begin "phone uses the contact's own country as region"
crm contact add --first-name Élodie --email elodie@example.fr --phone "01 42 68 53 00" --country FR
crm contact show 3 --fields phone --no-header
expect_out "+33142685300"

begin "phone without country uses [defaults].country"
cat >crm.toml <<'TOML'
[defaults]
country = "AT"
TOML
crm contact add --first-name Kurt --email kurt@example.at --phone "01 5880 0"
crm contact show 4 --fields phone,country --no-header
expect_out "+43158800	"
rm crm.toml

begin "json output of add is the whole record"
crm contact add --first-name Ben --last-name Mueller --email ben@example.at --country AT \
  --company "Muster AG" --stage lead -f json
expect_out '[
{"id":5,"external_id":null,"email":"ben@example.at","phone":null,"first_name":"Ben","last_name":"Mueller","company":"Muster AG","street":null,"postcode":null,"city":null,"country":"AT","birthdate":null,"stage":"lead","owner":null,"source":null,"created_at":"2026-11-22T09:30:00Z","updated_at":"2026-11-22T09:30:00Z","tags":[]}
]'

begin "bad email is rejected with the reason and nothing changes"
before=$(dump)
crm contact add --first-name X --email not-an-email
expect_status 65
expect_err "crm: invalid email 'not-an-email': no '@'"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "bad phone is rejected"
crm contact add --first-name X --phone 12
expect_status 65
expect_err "crm: invalid phone '12': not a valid number for its region (read with region DE)"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "bad country is rejected"
crm contact add --first-name X --country XX
expect_status 65
expect_err "crm: invalid country 'XX': not an ISO 3166 alpha-2 code
use two letters, like DE, AT, CH, FR, GB, US"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "bad birthdate is rejected"
crm contact add --first-name X --birthdate 2026-02-30
expect_status 65
expect_err "crm: invalid birthdate '2026-02-30': expected a date YYYY-MM-DD"

begin "an email that another contact has is a conflict"
crm contact add --email ANNA.MUELLER@example.com
expect_status 65
expect_err "crm: email 'ANNA.MUELLER@example.com' already belongs to contact 1
change that contact with 'crm contact update 1'"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "unknown contact is exit 2 and names it"
crm contact show 99
expect_status 2
expect_err "crm: no contact '99'"
crm contact update nobody@example.com --city Bonn
expect_status 2
expect_err "crm: no contact 'nobody@example.com'"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "references: id, email (any case), ext:, tel:"
crm contact update 1 --external-id CRM-0001
crm contact show ANNA.mueller@example.COM --fields id --no-header
expect_out 1
crm contact show ext:CRM-0001 --fields id --no-header
expect_out 1
crm contact show "tel:030 1234567" --fields id --no-header
expect_out 1
crm contact show "tel:+49 30 1234567" --fields id --no-header
expect_out 1

begin "a malformed reference is 65"
crm contact show bob
expect_status 65
expect_err "crm: invalid contact reference 'bob'
use an id (42), an email, ext:EXTERNAL_ID or tel:PHONE"

begin "update records what changed; no change, no history"
crm contact update 1 --city Potsdam --attr size=12
expect_out 1
crm contact update 1 --city Potsdam
expect_out 1
crm contact history 1 --fields action,detail -f tsv --no-header
expect_out 'add	{"email":[null,"Anna.Mueller@Example.com"],"phone":[null,"+49301234567"],"first_name":[null,"Anna"],"last_name":[null,"Müller"],"city":[null,"Berlin"],"country":[null,"DE"],"attr.industry":[null,"retail"],"tags":{"added":["vip"]}}
update	{"external_id":[null,"CRM-0001"]}
update	{"city":["Berlin","Potsdam"],"attr.size":[null,"12"]}'

begin "update --unset clears a field and an attribute"
crm contact update 1 --unset city --unset attr.size
crm contact show 1 --fields city,attr.size -f csv --no-header
expect_out ","

begin "update with nothing to change is a usage error"
crm contact update 1
expect_status 64
expect_err "crm: nothing to change
give fields to set, like --email or --attr key=value"

begin "tag and untag"
crm contact tag 1 customer fair-2026
crm contact untag 1 vip
crm contact show 1 --fields tags --no-header
expect_out "customer;fair-2026"
crm contact tag 1 "a;b"
expect_status 65
expect_err "crm: invalid tag 'a;b': contains ';'
';' separates tags in text output"

begin "note is searchable and in the history"
crm contact note 5 "Wants a quote for 40 seats at the Bäckerei"
expect_out 5
crm contact search backerei --fields id --no-header
expect_out 5
crm contact history 5 --fields action --no-header
expect_out "add
note"

begin "search: diacritics and case insensitive, prefixes, ranked"
crm contact search muller --fields id,last_name --no-header
expect_out "1	Müller"
crm contact search gro --fields id --no-header
expect_out 2
crm contact search MUEL --fields id --no-header
if [ "$(sort <<<"$OUT")" = $'1\n5' ]; then ok; else fail "expected contacts 1 and 5"; fi
crm contact search '"; DROP TABLE contact; --' --fields id --no-header
expect_status 0
crm contact list --fields id --no-header
expect_out "1
2
3
4
5"

begin "list with --where, --sort and --limit"
crm contact list --where 'country = "de"' --fields id --no-header
expect_out "1
2"
crm contact list --sort -id --limit 2 --fields id --no-header
expect_out "5
4"
crm contact list --where 'email = "ANNA.MUELLER@example.com"' --fields id --no-header
expect_out 1
crm contact list --where 'has_tag("customer") or attr.industry = "retail"' --fields id --no-header
expect_out 1
crm contact list --where 'created_at >= 2026-11-01 and created_at < +1d' --fields id --no-header
expect_out "1
2
3
4
5"
crm contact list --sort nope
expect_status 64

begin "a filter value with quotes and SQL matches nothing and breaks nothing"
crm contact list --where 'first_name = "x\" or 1=1 --"' --fields id --no-header
expect_status 0
expect_out ""
crm contact list --where "company ~ \"*'; DELETE FROM contact; --\"" --fields id --no-header
expect_status 0
expect_out ""
crm contact list --fields id --no-header
expect_out "1
2
3
4
5"

begin "a bad filter shows a caret under the bad token"
crm contact list --where 'country = "DE" and or'
expect_status 65
expect_err "crm: bad filter expression: unexpected 'or' at column 20: expected a field, a function or '('
  country = \"DE\" and or
                     ^"

begin "in_campaign() of a campaign without runs matches nobody; a bad one is 65"
crm contact list --where 'in_campaign("winback")' --fields id --no-header
expect_status 0
expect_out ""
crm contact list --where 'in_campaign(winback)'
expect_status 65

begin "consent() names an unknown purpose with a caret"
crm contact list --where 'consent("newsletter")'
expect_status 65
expect_err_contains "unknown purpose 'newsletter'"

begin "references from stdin are one transaction"
crm_in $'id\n1\n5\n' contact tag - batch
expect_status 0
expect_out ""
expect_err "tagged 2, unchanged 0"
before=$(dump)
crm_in $'email\nanna.mueller@example.com\nghost@example.com\n' contact tag - never
expect_status 2
expect_err "crm: no contact 'ghost@example.com'"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi
crm_in $'{"external_id":"CRM-0001"}\n{"id":5}\n' contact untag - batch --ids
expect_out "1
5"

begin "listings feed mutations"
crm contact list --where 'country = "AT"' --fields id --no-header
printf '%s\n' "$OUT" >ids.txt
STDIN_FILE=ids.txt crm contact update - --owner anna
expect_err "updated 1, unchanged 0"
crm contact list --where 'owner = "anna"' --fields id --no-header
expect_out "5"

begin "exists answers by exit status"
crm contact exists elodie@example.fr
expect_status 0
crm contact exists ghost@example.com
expect_status 1
crm_in $'1\n99\n' contact exists -
expect_status 1
expect_out $'1\tyes\n99\tno'

begin "delete removes a contact without history"
crm contact delete 4
expect_out 4
crm contact exists 4
expect_status 1
crm contact search kurt --fields id --no-header
expect_out ""

begin "an id is never given twice"
crm contact delete 5 --force
crm contact add --first-name Neu
expect_out 6

begin "--fields help lists the fields"
crm contact list --fields help
expect_out_contains "attr.NAME"

begin "read paths do not load libphonenumber; writing a phone does"
EXTRA_ENV="LD_DEBUG=libs" crm contact show 1
expect_status 0
case "$ERR" in *phonenumber*) fail "contact show loaded libphonenumber" ;; *) ok ;; esac
EXTRA_ENV="LD_DEBUG=libs" crm contact list --where 'city = "Berlin"'
case "$ERR" in *phonenumber*) fail "contact list loaded libphonenumber" ;; *) ok ;; esac
EXTRA_ENV="LD_DEBUG=libs" crm --version
case "$ERR" in *phonenumber*) fail "--version loaded libphonenumber" ;; *) ok ;; esac
EXTRA_ENV="LD_DEBUG=libs" crm contact update 1 --phone "030 7654321"
case "$ERR" in *libphonenumber*) ok ;; *) fail "writing a phone did not load libphonenumber" ;; esac
if ldd "$CRM_BIN" | grep -q phonenumber; then fail "crm links libphonenumber"; else ok; fi

finish
