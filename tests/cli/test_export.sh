#!/usr/bin/env bash
# crm export KIND, export report and db query: round trips through import
# for every format, the options, -o, a closed pipe, reports, read-only SQL
# and every bad input with its exit code.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
# Names with quotes, commas, tabs, newlines, backslashes, non-Latin scripts.
printf '%s\n' \
  'external_id,email,first_name,last_name,company,city,country,tags,industry,phone,street,postcode,birthdate' \
  'X1,a@x.de,"Jo ""Q"", Jr","Mü	ller","Acme, Inc.; Ltd",Köln,DE,"x;y",retail,+49 30 1234567,"Hauptstr. 1, Hof",50667,1980-02-29' \
  'X2,b@y.de,Анна,"Line1' 'Line2",東京商事,,,,,,,,' \
  'X3,c@z.de,李,"back\slash",,العين,AE,vip,food,,,,' >in.csv
crm contact import in.csv
expect_status 0
FIELDS=external_id,email,phone,first_name,last_name,company,street,postcode,city,country,birthdate,tags

# shape FILE DB: the contacts of DB as csv with the fields a card keeps.
shape() {
  crm --db "$2" export contacts -f csv --fields "$FIELDS$3"
  printf '%s\n' "$OUT" >"$1"
}

shape want.csv crm.db ",attr.*"
shape want_card.csv crm.db ""
for format in csv tsv json ndjson vcard; do
  begin "round trip: $format export imports back to the same contacts"
  if [ "$format" = vcard ]; then
    crm export contacts -f vcard -o out.vcard
  else
    crm export contacts -f "$format" -o "out.$format" --fields "id,$FIELDS,stage,owner,source,created_at,updated_at,attr.*"
  fi
  expect_status 0
  rm -f back.db*
  crm --db back.db init
  crm --db back.db contact import "out.$format" --input-format "$format"
  expect_status 0
  expect_err_contains "inserted 3, updated 0, unchanged 0, rejected 0"
  if [ "$format" = vcard ]; then
    shape got.csv back.db ""
    same_file want_card.csv got.csv
  else
    shape got.csv back.db ",attr.*"
    same_file want.csv got.csv
  fi
done

begin "csv quotes and keeps every character"
crm export contacts -f csv --fields id,first_name,last_name,company
expect_status 0
expect_out 'id,first_name,last_name,company
1,"Jo ""Q"", Jr",Mü	ller,"Acme, Inc.; Ltd"
2,Анна,"Line1
Line2",東京商事
3,李,back\slash,'

begin "tsv escapes tab, newline and backslash"
crm export contacts -f tsv --fields id,last_name
expect_out 'id	last_name
1	Mü\tller
2	Line1\nLine2
3	back\\slash'

begin "json nests attributes and gives tags as an array"
crm export contacts -f json --fields id,tags,attr.industry --where 'id = 1'
expect_out '[
{"id":1,"tags":["x","y"],"attr":{"industry":"retail"}}
]'

begin "vcard: one card per contact, escaped, CRLF"
crm export contacts -f vcard --where 'id = 1'
expect_status 0
want=$(printf '%s\r\n' BEGIN:VCARD VERSION:3.0 X-CRM-ID:1 UID:X1 \
  'N:Mü	ller;Jo "Q"\, Jr;;;' 'FN:Jo "Q"\, Jr Mü	ller' 'ORG:Acme\, Inc.\; Ltd' \
  'EMAIL;TYPE=INTERNET:a@x.de' TEL:+49301234567 'ADR:;;Hauptstr. 1\, Hof;Köln;;50667;DE' \
  BDAY:1980-02-29 CATEGORIES:x,y REV:2026-11-22T09:30:00Z \
  END:VCARD)
if [ "$OUT" = "$want" ]; then ok; else fail "unexpected card"; fi

begin "--where, --sort, --limit and --fields"
crm export contacts -f csv --no-header --fields id,email --where 'country = "DE" or country = "AE"' --sort -id --limit 1
expect_out "3,c@z.de"

begin "--from/--to compare created_at, the end exclusive"
crm export contacts -f csv --no-header --fields id --from 2026-11-22T09:30:00Z --to 2026-11-23
expect_out "1
2
3"
crm export contacts -f csv --no-header --fields id --to 2026-11-22T09:30:00Z
expect_status 0
expect_out ""

begin "--fields help lists the columns"
crm export tasks --fields help
expect_out "id
contact_id
owner
due_at
text
created_at
done_at"

begin "tasks belong to a contact and filter by it"
crm contact task add 3 "call back" --due 2026-12-01
crm contact task add 1 "send offer" --due 2026-12-02
crm export tasks -f csv --fields contact_id,text,due_at --where 'country = "AE"'
expect_out "contact_id,text,due_at
3,call back,2026-12-01T00:00:00Z"
crm export tasks -f csv --no-header --fields id --from 2026-12-02
expect_out "2"

begin "-o writes the file whole with mode 0600"
crm export contacts -f csv -o out/../exported.csv
expect_status 73
crm export contacts -o exported.csv
expect_status 0
expect_out ""
crm export contacts -f csv
if [ "$(cat exported.csv)" = "$OUT" ]; then ok; else fail "-o differs from stdout (csv from .csv)"; fi
if [ "$(stat -c %a exported.csv)" = 600 ]; then ok; else fail "mode $(stat -c %a exported.csv)"; fi
if [ -z "$(find . -maxdepth 1 -name '.exported.csv.*')" ]; then ok; else fail "temp file left"; fi

begin "-o: a failed export leaves the existing file as it was"
echo "old" >kept.csv
crm export contacts -o kept.csv --where 'country = '
expect_status 65
if [ "$(cat kept.csv)" = old ]; then ok; else fail "kept.csv changed"; fi
crm export contacts -o kept.csv --fields nope
expect_status 64
expect_err "crm: unknown field 'nope' for contacts
'crm export contacts --fields help' lists them"
if [ "$(cat kept.csv)" = old ]; then ok; else fail "kept.csv changed"; fi
if [ -z "$(find . -maxdepth 1 -name '.kept.csv.*')" ]; then ok; else fail "temp file left"; fi

begin "-o into a folder that does not exist: 73"
crm export contacts -o nowhere/x.csv
expect_status 73
expect_err_contains "crm: cannot create 'nowhere/x.csv'"

begin "bad input: exit codes"
crm export contacts --sort tags
expect_status 64
expect_err "crm: cannot sort contacts by 'tags'
'crm export contacts --fields help' lists the fields"
crm export contacts --from yesterday
expect_status 65
crm export contacts -f vcard --fields id
expect_status 64
expect_err "crm: --fields does not apply to vcard: a card has every field"
crm export tasks -f vcard
expect_status 64
expect_err "crm: format 'vcard' is not available here
formats: table, csv, tsv, json, ndjson"
crm export contacts -f svg
expect_status 64
crm export nothing
expect_status 64
crm export members --from 2026-01-01
expect_status 64

begin "a kind whose table this database lacks: 2, naming it"
sqlite3 crm.db 'select 1 from event' >/dev/null 2>&1 || {
  crm export events
  expect_status 2
  expect_err "crm: no events in this database yet: it has no table 'event'
this kind comes with a capability this database was not made with"
}

begin "a kind whose table exists exports it (events, by the schema contract)"
cp crm.db ev.db
# The tables are made here only while this crm has no journey or consent
# capability; with it, its own migrations made them and the rows go in as
# the contract of the schema names them.
sqlite3 ev.db "CREATE TABLE IF NOT EXISTS event (id INTEGER PRIMARY KEY, contact_id INTEGER,
  touchpoint TEXT, channel TEXT, phase TEXT, at TEXT, amount INTEGER, rating INTEGER,
  campaign TEXT, attrs TEXT, batch_id INTEGER);
  INSERT INTO event (id, contact_id, touchpoint, channel, phase, at, amount, rating, campaign, attrs)
  VALUES (1, 1, 'purchase', 'shop', 'action', '2026-03-01T10:00:00Z', 1999, 9, 'spring', '{}'),
         (2, 3, 'page_view', 'web', 'information', '2026-04-01T10:00:00Z', NULL, NULL, NULL, '{}');"
crm --db ev.db export events -f csv --fields id,contact_id,touchpoint,at,amount,rating --from 2026-03-15
expect_out "id,contact_id,touchpoint,at,amount,rating
2,3,page_view,2026-04-01T10:00:00Z,,"
crm --db ev.db export events -f ndjson --fields id,amount --where 'country = "DE"'
expect_out '{"id":1,"amount":19.99}'

begin "a closed pipe ends the export quietly with 0"
sqlite3 crm.db "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 30000)
  INSERT INTO contact (first_name, created_at, updated_at)
  SELECT 'P' || i, '2026-11-22T09:30:00Z', '2026-11-22T09:30:00Z' FROM k;"
env -i ASAN_OPTIONS=detect_leaks=0 PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C CRM_NOW=2026-11-22T09:30:00Z \
  "$CRM_BIN" export contacts -f ndjson --fields id 2>pipe.err | head -n 1 >pipe.out
status=${PIPESTATUS[0]}
STATUS=$status
expect_status 0
if [ "$(cat pipe.out)" = '{"id":1}' ] && [ ! -s pipe.err ]; then ok; else fail "pipe: $(cat pipe.out pipe.err)"; fi

# ---------------------------------------------------------------------------
# Reports.

begin "report summary: contacts per stage; sections without tables are named"
crm export report summary -f csv
expect_status 0
expect_out_contains "section,key,value
contacts,total,30003"
crm export report summary -f table
expect_out_contains "contacts"
expect_out_contains "█"
crm export report summary -f svg
case "$OUT" in "<svg xmlns="*"</svg>") ok ;; *) fail "not an svg" ;; esac
crm export report summary -f html
case "$OUT" in "<!DOCTYPE html>"*"</html>") ok ;; *) fail "not html" ;; esac

begin "report consent-coverage and rfm over a ledger and scores"
cp crm.db cov.db
sqlite3 cov.db "CREATE TABLE IF NOT EXISTS consent (id INTEGER PRIMARY KEY, contact_id INTEGER,
  purpose TEXT, channel TEXT, action TEXT, at TEXT, source TEXT, proof TEXT, recorded_at TEXT,
  digest TEXT, chain TEXT);
  CREATE TABLE IF NOT EXISTS score (contact_id INTEGER, model TEXT, value REAL, label TEXT, at TEXT);
  INSERT INTO consent (contact_id, purpose, channel, action, at, source, proof, recorded_at,
    digest, chain) VALUES
    (1, 'newsletter', 'email', 'grant', '2026-01-01T00:00:00Z', 'test', 'p1', '2026-01-01T00:00:00Z', 'd1', 'c1'),
    (2, 'newsletter', 'email', 'grant', '2026-01-01T00:00:00Z', 'test', 'p2', '2026-01-01T00:00:00Z', 'd2', 'c2'),
    (2, 'newsletter', 'email', 'withdraw', '2026-02-01T00:00:00Z', 'test', 'p3', '2026-02-01T00:00:00Z', 'd3', 'c3'),
    (3, 'newsletter', 'email', 'request', '2026-01-01T00:00:00Z', 'test', 'p4', '2026-01-01T00:00:00Z', 'd4', 'c4'),
    (3, 'newsletter', 'email', 'confirm', '2026-01-02T00:00:00Z', 'test', 'p5', '2026-01-02T00:00:00Z', 'd5', 'c5');
  INSERT INTO score (contact_id, model, value, label, at) VALUES
    (1, 'rfm', 555, 'champions', '2026-01-01T00:00:00Z'), (2, 'rfm', 111, 'lost', '2026-01-01T00:00:00Z');"
crm --db cov.db export consents -f csv --fields contact_id,action --where 'id = 3'
expect_out "contact_id,action
3,request
3,confirm"
crm --db cov.db export scores -f csv --fields contact_id,label --from 2026-01-01
expect_out "contact_id,label
1,champions
2,lost"
crm --db cov.db export report consent-coverage -f csv
expect_out "purpose,channel,contacts,share
newsletter,email,2,1e-04
profiling,,0,0"
crm --db cov.db export report rfm -f csv
expect_out "segment,contacts,share
champions,1,0.5
lost,1,0.5"
crm --db cov.db export report abc -f csv
expect_status 0
expect_err "crm: abc: no abc scores yet: run 'crm score run abc'"

begin "report from the config with :name parameters"
cat >crm.toml <<'TOML'
[reports.by_country]
sql = "select country, count(*) as n from contact where country is not null and created_at >= :since group by country order by country"
[reports.wipe]
sql = "delete from contact"
[reports.two]
sql = "select 1; select 2"
[reports.sneaky]
sql = "pragma query_only = 0"
TOML
crm export report by_country --param since=2026-01-01 -f csv
expect_status 0
expect_out "country,n
AE,1
DE,1"
crm export report by_country --param since=2026-01-01 -f svg
expect_out_contains "<rect"

begin "a report that would write: 78 naming it, nothing changed"
before=$(sqlite3 crm.db 'select count(*) from contact')
crm export report wipe
expect_status 78
expect_err "crm: report 'wipe' would change data; it may only read
crm.toml:4: reports.wipe.sql"
crm export report sneaky
expect_status 78
crm export report two
expect_status 78
expect_err_contains "crm: report 'two' must be one statement"
if [ "$(sqlite3 crm.db 'select count(*) from contact')" = "$before" ]; then ok; else fail "changed"; fi

begin "report parameters and names: 64 and 2"
crm export report by_country
expect_status 64
expect_err "crm: report 'by_country' needs --param since=VALUE"
crm export report by_country --param since=2026-01-01 --param extra=1
expect_status 64
expect_err "crm: report 'by_country' has no parameter ':extra'"
crm export report by_country --param since
expect_status 64
crm export report nope
expect_status 2
expect_err_contains "crm: no report 'nope'"
rm crm.toml

begin "db query: one read-only statement, numbers bound as numbers"
crm db query 'select id, first_name from contact where id <= :n order by id' --param n=2 -f csv
expect_status 0
expect_out 'id,first_name
1,"Jo ""Q"", Jr"
2,Анна'
crm db query 'select 1.5 as x, null as y, :t as t' --param t=abc -f json
expect_out '[
{"x":1.5,"y":null,"t":"abc"}
]'

begin "db query refuses writes, several statements and ATTACH with 65"
crm db query 'delete from contact'
expect_status 65
expect_err "crm: query would change data; it may only read"
crm db query "attach 'other.db' as o"
expect_status 65
crm db query 'select 1; delete from contact'
expect_status 65
crm db query 'selec 1'
expect_status 65
if [ "$(sqlite3 crm.db 'select count(*) from contact')" = "$before" ] && [ ! -e other.db ]; then ok; else
  fail "changed"
fi

finish
