#!/usr/bin/env bash
# crm journey: the event table of the schema contract, its identity index and
# its place among personal data (delete and merge take a contact's events);
# journey log, import, show and map; event() in the filter language. The
# map is checked against journey_map_check.py, which computes it in Python
# from the generated CSV the database was loaded from.
# shellcheck source-path=SCRIPTDIR
HERE=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/lib.sh"

crm init
crm contact add --first-name Ada --email ada@example.org
crm contact add --first-name Bo --email bo@example.org

begin "the event table has the contract's columns"
cols=$(sqlite3 crm.db "SELECT group_concat(name, ',') FROM pragma_table_info('event')")
if [ "$cols" = "id,contact_id,touchpoint,channel,phase,at,amount,rating,campaign,attrs,batch_id" ]; then
  ok
else
  fail "columns: $cols"
fi

begin "the same event twice is one event"
sqlite3 crm.db "INSERT OR IGNORE INTO event (contact_id, touchpoint, channel, phase, at)
  VALUES (1, 'page_view', 'web', 'information', '2026-03-01T10:00:00Z'),
         (1, 'page_view', 'web', 'information', '2026-03-01T10:00:00Z'),
         (1, 'page_view', NULL, NULL, '2026-03-02T10:00:00Z'),
         (1, 'page_view', NULL, NULL, '2026-03-02T10:00:00Z'),
         (2, 'purchase', 'shop', 'action', '2026-03-03T10:00:00Z');"
n=$(sqlite3 crm.db "SELECT count(*) FROM event")
if [ "$n" = 3 ]; then ok; else fail "events: $n"; fi

begin "a rating outside 0-10 is refused by the table"
if sqlite3 crm.db "INSERT INTO event (contact_id, touchpoint, at, rating)
     VALUES (1, 'survey', '2026-03-04T10:00:00Z', 11)" 2>/dev/null; then
  fail "rating 11 stored"
else
  ok
fi

begin "a contact with events is deleted only with --force"
before=$(sqlite3 crm.db .dump)
crm contact delete 2
expect_status 65
expect_err "crm: cannot delete contact 2: it has history (1 rows in event)
use --force to delete it with its history, or 'crm contact erase' for a GDPR erasure"
if [ "$(sqlite3 crm.db .dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "deleting a contact deletes its events"
crm contact delete 2 --force
expect_status 0
n=$(sqlite3 crm.db "SELECT count(*) FROM event WHERE contact_id = 2")
if [ "$n" = 0 ]; then ok; else fail "events left: $n"; fi


# ---------------------------------------------------------------------------
# log, show, import and map, in a database and config of their own.
mkdir journey && cd journey || exit 1
cat >crm.toml <<'TOML'
[journey]
phases = ["activation", "information", "action", "retention"]
[journey.touchpoints.page_view]
phase = "information"
channel = "web"
[journey.touchpoints.ad_view]
phase = "activation"
channel = "social"
[journey.touchpoints.purchase]
phase = "action"
channel = "shop"
[journey.touchpoints.survey]
phase = "retention"
channel = "email"
TOML
crm init -q
crm contact add --first-name Ada --email ada@example.org --external-id A-1 --country DE
crm contact add --first-name Bo --email bo@example.org --external-id B-2 --country FR
dump() { sqlite3 crm.db .dump; }

begin "journey log fills phase and channel from the config, amount in cents"
crm journey log ada@example.org purchase --amount 49.9 --rating 9 --at 2026-03-05T10:00:00Z
expect_status 0
expect_out 1
expect_err ""
row=$(sqlite3 crm.db "SELECT contact_id, touchpoint, channel, phase, at, amount, rating, attrs, ifnull(batch_id, 'null') FROM event")
if [ "$row" = "1|purchase|shop|action|2026-03-05T10:00:00Z|4990|9|{}|null" ]; then ok; else fail "row: $row"; fi

begin "journey log takes a phase, channel, campaign and attributes, and prints json"
crm journey log ext:A-1 page_view --channel email --phase activation --campaign spring \
  --attr topic=shoes --attr page=/a --at 2026-03-01 -f json
expect_status 0
expect_out '[
{"id":2,"contact_id":1,"touchpoint":"page_view","channel":"email","phase":"activation","at":"2026-03-01T00:00:00Z","amount":null,"rating":null,"campaign":"spring","attrs":"{\"page\":\"/a\",\"topic\":\"shoes\"}","batch_id":null}
]'

begin "journey log of an unknown touchpoint warns and logs it"
crm journey log 1 webinar --at 2026-03-02
expect_status 0
expect_out 3
expect_err "crm: touchpoint 'webinar' is not in the config ([journey.touchpoints]); logged all the same"
row=$(sqlite3 crm.db "SELECT ifnull(phase, 'null'), ifnull(channel, 'null') FROM event WHERE id = 3")
if [ "$row" = "null|null" ]; then ok; else fail "row: $row"; fi

begin "journey log without --at takes the clock"
crm journey log 2 ad_view
expect_status 0
expect_out 4
at=$(sqlite3 crm.db "SELECT at FROM event WHERE id = 4")
if [ "$at" = 2026-11-22T09:30:00Z ]; then ok; else fail "at: $at"; fi

begin "journey log of the same event again changes nothing"
before=$(dump)
crm journey log ada@example.org purchase --amount 49.9 --rating 9 --at 2026-03-05T10:00:00Z
expect_status 0
expect_out 1
expect_err "crm: the same event is logged already (event 1); nothing changed"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "journey log refuses bad values with 65 and changes nothing"
before=$(dump)
crm journey log 1 survey --rating 11
expect_status 65
expect_err "crm: invalid rating '11': expected an integer from 0 to 10"
crm journey log 1 survey --rating -1
expect_status 65
crm journey log 1 survey --rating 7.5
expect_status 65
expect_err "crm: invalid rating '7.5': expected an integer from 0 to 10"
crm journey log 1 purchase --amount 12.345
expect_status 65
expect_err "crm: invalid amount '12.345': expected a decimal like 12.30"
crm journey log 1 purchase --amount 1,50
expect_status 65
crm journey log 1 purchase --at yesterday
expect_status 65
expect_err_contains "yesterday"
crm journey log 1 purchase --attr "bad key=1"
expect_status 65
expect_err_contains "invalid attribute name 'bad key'"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "journey log: an unknown contact or phase is 2, a malformed --attr 64"
before=$(dump)
crm journey log nobody@example.org purchase
expect_status 2
expect_err "crm: no contact 'nobody@example.org'"
crm journey log 1 purchase --phase checkout
expect_status 2
expect_err "crm: unknown phase 'checkout': expected one of activation, information, action, retention"
crm journey log 1 purchase --attr novalue
expect_status 64
crm journey log 1
expect_status 64
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "journey log with [journey].strict refuses an unknown touchpoint with 2"
before=$(dump)
sed 's/^phases = .*/&\nstrict = true/' crm.toml >strict.toml
crm --config strict.toml journey log 1 webinar
expect_status 2
expect_err "crm: unknown touchpoint 'webinar' ([journey].strict is on)
add it as [journey.touchpoints.webinar] to the config"
crm --config strict.toml journey log 1 survey --rating 3 --at 2026-03-09
expect_status 0
expect_out 5
sqlite3 crm.db "DELETE FROM event WHERE id = 5"
if [ "$(dump | grep -v sqlite_sequence)" = "$(grep -v sqlite_sequence <<<"$before")" ]; then ok; else
  fail "database changed"
fi

begin "journey show prints the timeline oldest first with phase changes"
crm journey show ada@example.org --fields at,touchpoint,phase,amount,phase_change
expect_status 0
expect_out "at	touchpoint	phase	amount	phase_change
2026-03-01T00:00:00Z	page_view	activation		-> activation
2026-03-02T00:00:00Z	webinar			
2026-03-05T10:00:00Z	purchase	action	49.90	activation -> action"
crm journey show nobody@example.org
expect_status 2
crm journey show 2 --fields help
expect_status 0
expect_out_contains "phase_change"
crm journey show 1 --fields nope
expect_status 64

begin "event() in the filter language"
crm contact list --where 'event("purchase", within = 365d)' --fields id --no-header
expect_status 0
expect_out 1
crm contact list --where 'event("ad_view", channel = "social") and not event("purchase")' --fields id --no-header
expect_out 2
crm contact list --where 'event("page_view", min_count = 2)' --fields id --no-header
expect_out ""
crm contact list --where 'event("purchase", within = -30d)'
expect_status 65
expect_err_contains "within takes an unsigned duration"

# A fresh set for import and map.
sqlite3 crm.db "DELETE FROM event"

begin "journey import reads csv, references contacts three ways, rejects bad rows"
cat >events.csv <<'CSV'
contact_id,external_id,email,touchpoint,at,amount,rating,campaign,note
1,,,ad_view,2026-01-01T08:00:00Z,,,,first
,A-1,,page_view,2026-01-02T08:00:00Z,,8,,
,,ADA@example.org,purchase,2026-01-03T08:00:00Z,19.99,10,spring,
,B-2,,ad_view,2026-01-01T09:00:00Z,,3,,
,B-2,,page_view,2026-01-04T09:00:00Z,,,,
,NOPE,,page_view,2026-01-04T09:00:00Z,,,,
,B-2,,purchase,2026-01-05T09:00:00Z,,11,,
,B-2,,,2026-01-05T09:00:00Z,,,,
,B-2,,purchase,2026-01-05,x,,,
,B-2,,page_view,2026-01-06T09:00:00Z,,,,
7,,,page_view,2026-01-06T09:00:00Z,,,,
CSV
crm journey import events.csv --rejects rejects.csv
expect_status 0
expect_out ""
expect_err "inserted 6, unchanged 0, rejected 5 (see rejects.csv); batch 1"
expect_rejects='contact_id,external_id,email,touchpoint,at,amount,rating,campaign,note,line,reason
,NOPE,,page_view,2026-01-04T09:00:00Z,,,,,7,no contact with external_id '"'NOPE'"'
,B-2,,purchase,2026-01-05T09:00:00Z,,11,,,8,invalid rating '"'11'"': expected an integer from 0 to 10
,B-2,,,2026-01-05T09:00:00Z,,,,,9,no touchpoint
,B-2,,purchase,2026-01-05,x,,,,10,invalid amount '"'x'"': expected a decimal like 12.30
7,,,page_view,2026-01-06T09:00:00Z,,,,,12,no contact with id '"'7'"''
if [ "$(cat rejects.csv)" = "$expect_rejects" ]; then ok; else fail "rejects: $(cat rejects.csv)"; fi
mode=$(stat -c %a rejects.csv)
if [ "$mode" = 600 ]; then ok; else fail "rejects.csv mode $mode"; fi
row=$(sqlite3 crm.db "SELECT contact_id, touchpoint, channel, phase, amount, rating, campaign, attrs, batch_id FROM event WHERE touchpoint = 'purchase'")
if [ "$row" = '1|purchase|shop|action|1999|10|spring|{}|1' ]; then ok; else fail "purchase: $row"; fi
attrs=$(sqlite3 crm.db "SELECT attrs FROM event WHERE touchpoint = 'ad_view' AND contact_id = 1")
if [ "$attrs" = '{"note":"first"}' ]; then ok; else fail "attrs: $attrs"; fi

begin "journey import of the same file again adds nothing"
before=$(dump | grep -v -e import_batch -e sqlite_sequence)
crm journey import events.csv --rejects rejects.csv
expect_status 0
expect_err "inserted 0, unchanged 6, rejected 5 (see rejects.csv); batch 2"
if [ "$(dump | grep -v -e import_batch -e sqlite_sequence)" = "$before" ]; then ok; else fail "events changed"; fi

begin "journey import --dry-run and --max-rejects change nothing"
before=$(dump)
sed 's/2026-01/2026-02/' events.csv >february.csv
crm journey import february.csv --dry-run
expect_status 0
expect_err_contains "dry run: inserted 6, unchanged 0, rejected 5; nothing was written"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed by --dry-run"; fi
crm journey import february.csv --max-rejects 4 --rejects r.csv
expect_status 65
expect_err "crm: too many rejected rows: more than 4 (--max-rejects); nothing was imported
the rejected rows are listed above or in the --rejects file"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed by --max-rejects"; fi
crm journey import february.csv --max-rejects 4 --batch 2 --rejects r.csv
expect_status 65
expect_err_contains "its committed batches were removed"
# Only the id counters remember the removed batch.
if [ "$(dump | grep -v sqlite_sequence)" = "$(grep -v sqlite_sequence <<<"$before")" ]; then ok; else fail "database changed by --max-rejects with --batch"; fi

begin "journey import reads ndjson from stdin and an export of events"
crm_in '{"email": "bo@example.org", "touchpoint": "survey", "at": "2026-01-09T09:00:00Z", "rating": 2}
{"external_id": "A-1", "touchpoint": "survey", "at": "2026-01-09T10:00:00Z", "rating": "9", "attr": {"q": "nps"}}
' journey import -
expect_status 0
expect_err "inserted 2, unchanged 0, rejected 0; batch 4"
crm export events -f csv -o events-export.csv
expect_status 0
crm journey import events-export.csv
expect_status 0
expect_err "inserted 0, unchanged 8, rejected 0; batch 5"
crm journey import missing.csv
expect_status 66
crm journey import events.csv --map "note=nonsense"
expect_status 64

begin "journey map: reach, moving on, satisfaction, NPS per phase and touchpoint"
crm journey map -f tsv
expect_status 0
expect_out "phase	touchpoint	contacts	events	moved_on	moved_on_pct	ratings	satisfaction	nps	weakest
activation	ad_view	2	2	2	100	1	3	-100	
information	page_view	2	3	2	100	1	8	0	
action	purchase	1	1	1	100	1	10	100	
retention	survey	2	2			2	5.5	0	"
crm journey map -f tsv --min-ratings 1 --fields touchpoint,nps,weakest --no-header
expect_out "ad_view	-100	weakest
page_view	0	
purchase	100	
survey	0	"
crm journey map -f tsv --where 'country = "FR"' --fields touchpoint,contacts,moved_on --no-header
expect_out "ad_view	1	1
page_view	1	1
survey	1	"
crm journey map -f tsv --from 2026-01-02 --to 2026-01-04 --fields phase,touchpoint,events --no-header
expect_out "information	page_view	1
action	purchase	1"
crm journey map --where 'country = '
expect_status 65
crm journey map --from soon
expect_status 65

begin "journey map -f svg is well-formed XML with every phase; -f html holds it"
crm journey map -f svg --min-ratings 1
expect_status 0
if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$WORK/.out"; then ok; else
  fail "the svg is not well-formed XML"
fi
for word in activation information action retention ad_view page_view purchase survey WEAKEST \
  "NPS -100" '<svg xmlns="http://www.w3.org/2000/svg"'; do
  expect_out_contains "$word"
done
crm journey map -f html
expect_status 0
expect_out_contains "<!DOCTYPE html>"
expect_out_contains "<svg xmlns"
expect_out_contains "<td>page_view</td>"
EXTRA_ENV="CRM_FORMAT=svg" crm journey map
expect_status 0
expect_out_contains "</svg>"
crm journey map -f xml
expect_status 64
expect_err_contains "unknown format 'xml'"

begin "journey funnel: contacts per step, each step after the one before"
crm journey funnel -f tsv
expect_status 0
expect_out "step	phase	contacts	of_previous_pct	of_first_pct
1	activation	2		100
2	information	2	100	100
3	action	1	50	50
4	retention	1	100	50"
crm journey funnel -f tsv --phases information,retention --by channel
expect_status 0
expect_out "channel	step	phase	contacts	of_previous_pct	of_first_pct
web	1	information	2		100
web	2	retention	2	100	100"
crm journey funnel -f tsv --phases action,information --no-header
expect_out "1	action	1		100
2	information	0	0	0"
crm journey funnel -f tsv --where 'country = "FR"' --fields phase,contacts --no-header
expect_out "activation	1
information	1
action	0
retention	0"
crm journey funnel --phases checkout
expect_status 2
expect_err "crm: unknown phase 'checkout': expected one of activation, information, action, retention"
crm journey funnel --phases action,action
expect_status 64
crm journey funnel --by owner
expect_status 64

begin "journey attribution credits the conversion to the touches before it"
crm journey attribution -f tsv --model linear
expect_status 0
expect_out "touchpoint	conversions	share_pct	revenue
ad_view	0.5	50	9.995
page_view	0.5	50	9.995"
expect_err "1 conversions (purchase), revenue 19.99 EUR; model linear, window 30d"
crm journey attribution -f tsv --no-header
expect_out "page_view	1	100	19.99
ad_view	0	0	0"
crm journey attribution -f tsv --no-header --model first --by channel
expect_out "social	1	100	19.99
web	0	0	0"
crm journey attribution -f tsv --no-header --by campaign --model position
expect_out "(none)	1	100	19.99"
crm journey attribution -f tsv --no-header --window 12h
expect_out "(none)	1	100	19.99"
crm journey attribution -f tsv --no-header --from 2026-02-01
expect_out ""
crm journey attribution --model magic
expect_status 64
crm journey attribution --window soon
expect_status 64

begin "journey stage sets stages from the rules, first match wins, in the history"
cp crm.toml stages.toml
cat >>stages.toml <<'TOML'
[[journey.stages]]
name = "customer"
when = 'event("purchase", within = 365d)'
[[journey.stages]]
name = "lead"
when = 'event("page_view")'
TOML
crm --config stages.toml journey stage --ids
expect_status 0
expect_out "1
2"
expect_err "changed 2, unchanged 0"
crm contact list --fields id,stage --no-header -f tsv
expect_out "1	customer
2	lead"
crm contact history 1 -f tsv --fields action,source,detail --no-header
expect_out_contains 'stage	journey stage	{"stage":[null,"customer"]}'
crm --config stages.toml journey stage
expect_status 0
expect_out ""
expect_err "changed 0, unchanged 2"

begin "journey stage keeps a stage set by hand unless --force"
crm contact update 2 --stage vip
crm --config stages.toml journey stage
expect_err "changed 0, unchanged 1, kept 1 (set by hand; --force recomputes them)"
crm contact show 2 -f tsv --fields stage --no-header
expect_out vip
crm --config stages.toml journey stage --force --where 'id = 2' --ids
expect_status 0
expect_out 2
expect_err "changed 1, unchanged 0"
crm contact show 2 -f tsv --fields stage --no-header
expect_out lead

begin "journey stage: no rules or a bad rule is 78, a bad --where 65; nothing changes"
before=$(dump)
crm journey stage
expect_status 78
expect_err_contains "no [[journey.stages]]"
sed 's/event("page_view")/event(page_view)/' stages.toml >bad.toml
crm --config bad.toml journey stage
expect_status 78
expect_err_contains "journey.stages[1].when (stage 'lead'): bad filter expression"
crm --config stages.toml journey stage --where 'id ='
expect_status 65
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "journey import of many rows counts duplicates and unknown touchpoints exactly"
# 150 rows: written 64 to an INSERT, the rest one by one; rows 100-109
# repeat rows 90-99 and every 7th time is a touchpoint the config lacks.
python3 - >many.csv <<'PY'
print("contact_id,touchpoint,at")
for i in range(150):
    j = i - 10 if 100 <= i < 110 else i
    tp = "webinar" if j % 7 == 0 else "page_view"
    print(f"1,{tp},2025-06-01T00:{j // 60:02}:{j % 60:02}Z")
PY
crm journey import many.csv
expect_status 0
expect_err_contains "touchpoints not in the config ([journey.touchpoints]): webinar (21)
inserted 140, unchanged 10, rejected 0; batch"
crm journey import many.csv
expect_status 0
expect_err_contains "inserted 0, unchanged 150, rejected 0; batch"
case "$ERR" in *warning*) fail "a file imported again warns: $ERR" ;; *) ok ;; esac
n=$(sqlite3 crm.db "SELECT count(*) FROM event WHERE at LIKE '2025-06-01%'")
if [ "$n" = 140 ]; then ok; else fail "events: $n"; fi
sqlite3 crm.db "DELETE FROM event WHERE at LIKE '2025-06-01%'"

begin "journey map over generated data equals an independent computation"
GEN="$HERE/../../../shared/data/gen_crm_data.py"
[ -f "$GEN" ] || GEN="${CRM_SOURCE_DIR:-$HERE/../..}/../shared/data/gen_crm_data.py"
if [ ! -f "$GEN" ] || ! command -v python3 >/dev/null; then
  echo "SKIP [$SUITE] generated data: ../shared/data/gen_crm_data.py or python3 is absent" >&2
  ok
else
  mkdir gen && cd gen || exit 1
  python3 "$GEN" --contacts 400 --events-per-contact 6 --seed 7 --clean --out data >/dev/null
  cat >crm.toml <<'TOML'
[journey]
[journey.touchpoints.newsletter_signup]
phase = "activation"
[journey.touchpoints.ad_view]
phase = "activation"
[journey.touchpoints.page_view]
phase = "information"
[journey.touchpoints.email_open]
phase = "information"
[journey.touchpoints.email_click]
phase = "information"
[journey.touchpoints.cart_add]
phase = "action"
[journey.touchpoints.purchase]
phase = "action"
[journey.touchpoints.survey]
phase = "retention"
[journey.touchpoints.support_ticket]
phase = "retention"
TOML
  TOUCH=newsletter_signup,ad_view,page_view,email_open,email_click,cart_add,purchase,survey,support_ticket
  PHASES=activation,information,action,retention
  crm init -q
  crm contact import data/contacts.csv --key external_id -q
  expect_status 0
  crm journey import data/events.csv --batch 500
  expect_status 0
  expect_err_contains ", rejected 0; batch"
  crm journey map -f tsv
  expect_status 0
  if check=$(python3 "$HERE/journey_map_check.py" data/events.csv "$WORK/.out" --phases $PHASES \
    --touchpoints $TOUCH); then ok; else fail "map differs: $check"; fi
  crm journey map -f tsv --from 2026-03-01 --to 2026-09-01 --min-ratings 3
  if check=$(python3 "$HERE/journey_map_check.py" data/events.csv "$WORK/.out" --phases $PHASES \
    --touchpoints $TOUCH --from 2026-03-01T00:00:00Z --to 2026-09-01T00:00:00Z \
    --min-ratings 3); then ok; else fail "map with --from/--to differs: $check"; fi
  for model in last first linear time_decay position; do
    for by in touchpoint channel campaign; do
      crm journey attribution -f tsv --model $model --by $by
      if check=$(python3 "$HERE/journey_attribution_check.py" data/events.csv "$WORK/.out" \
        --model $model --by $by); then ok; else fail "attribution $model by $by differs: $check"; fi
    done
  done
  crm journey attribution -f tsv --model time_decay --window 8w
  if check=$(python3 "$HERE/journey_attribution_check.py" data/events.csv "$WORK/.out" \
    --model time_decay --by touchpoint --window-days 56); then ok; else
    fail "attribution with --window 8w differs: $check"
  fi
  cd .. || exit 1
fi

finish
