#!/usr/bin/env bash
# Campaign selection (crm campaign): consent is never bypassed, caps,
# pressure, a stable holdout, idempotent run ids, dry runs, explanations,
# concurrent selects and exit codes.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
cat >crm.toml <<'TOML'
[database]
busy_timeout_ms = 5000
[consent.purposes.newsletter]
channels = ["email", "sms"]
[pressure]
max = "2 per 7d"
[campaigns.winback]
channel = "email"
purpose = "newsletter"
segment = 'country = "DE"'
cap = "1 per 30d"
holdout = 0.25
priority = 10
schedule = "weekly"
[campaigns.promo]
channel = "email"
purpose = "newsletter"
schedule = "daily"
[campaigns.launch]
channel = "email"
purpose = "newsletter"
limit = 3
variants = ["a", "b"]
[campaigns.everyone]
channel = "email"
purpose = "newsletter"
segment = 'consent("newsletter") or not consent("newsletter")'
schedule = "monthly"
TOML
{
  echo "email,first_name,country"
  for i in $(seq 1 40); do
    if [ $((i % 4)) -eq 0 ]; then country=FR; else country=DE; fi
    echo "p$i@example.com,P$i,$country"
  done
} >people.csv
crm contact import people.csv
# Contacts 1-30 may be mailed; 31-40 never said yes; 5 withdrew.
seq 1 30 >granted.txt
STDIN_FILE=granted.txt crm consent grant - --purpose newsletter --channel email --at 2026-01-01
crm consent withdraw 5 --purpose newsletter --channel email --at 2026-06-01
q() { sqlite3 crm.db "$1"; }
# The contacts of the database that may be mailed now (the ledger's view).
allowed_now() {
  crm contact list --where 'consent("newsletter", "email")' --fields id --no-header -f tsv
  printf '%s\n' "$OUT"
}
allowed_now >allowed.txt

begin "an unknown campaign is 2 for show and select, naming the known ones"
crm campaign show nosuch
expect_status 2
expect_err_contains "crm: no campaign 'nosuch'"
crm campaign select nosuch
expect_status 2
expect_err_contains "campaigns: everyone, launch, promo, winback"

begin "a missing subcommand or name is 64"
crm campaign
expect_status 64
crm campaign select
expect_status 64
crm campaign select winback --limit 0
expect_status 64

begin "list shows every campaign of the config"
crm campaign list -f tsv --fields name,schedule,holdout,cap,runs --no-header
expect_out "$(printf 'everyone\tmonthly\t0\t\t0\nlaunch\tonce\t0\t\t0\npromo\tdaily\t0\t\t0\nwinback\tweekly\t0.25\t1 per 30d\t0')"

begin "show prints the definition and the run id a select would use now"
crm campaign show winback -f tsv --no-header
expect_out_contains "$(printf 'segment\tcountry = "DE"')"
expect_out_contains "$(printf 'next_run_id\twinback-2026-W47')"
expect_out_contains "$(printf 'runs\t0')"

begin "the default run id follows the schedule (daily, monthly, once)"
crm campaign show promo -f tsv --no-header
expect_out_contains "$(printf 'next_run_id\tpromo-2026-11-22')"
crm campaign show everyone -f tsv --no-header
expect_out_contains "$(printf 'next_run_id\teveryone-2026-11')"
crm campaign show launch -f tsv --no-header
expect_out_contains "$(printf 'next_run_id\tlaunch')"
TEST_NOW=2027-01-01T12:00:00Z crm campaign show winback -f tsv --no-header
expect_out_contains "$(printf 'next_run_id\twinback-2026-W53')"

begin "--dry-run prints the audience and records nothing"
crm campaign select winback --dry-run --fields contact_id --no-header -f tsv
expect_status 0
printf '%s\n' "$OUT" >dry.txt
expect_err_contains "run winback-2026-W47 (dry run: nothing recorded)"
if [ "$(q 'SELECT count(*) FROM campaign_run') $(q 'SELECT count(*) FROM campaign_member')" = "0 0" ]; then ok; else fail "a dry run recorded"; fi

begin "select prints the members and records the run, the holdout too"
crm campaign select winback -f tsv
expect_status 0
printf '%s\n' "$OUT" >run1.txt
expect_err_contains "; run winback-2026-W47"
tail -n +2 run1.txt | cut -f1 >run1.ids
same_file dry.txt run1.ids
head -1 run1.txt >header.txt
if [ "$(cat header.txt)" = "$(printf 'contact_id\temail\tfirst_name\tlast_name\tvariant')" ]; then ok; else fail "header $(cat header.txt)"; fi
members=$(q "SELECT count(*) FROM campaign_member WHERE holdout = 0")
holdout=$(q "SELECT count(*) FROM campaign_member WHERE holdout = 1")
if [ "$members" = "$(wc -l <run1.ids)" ] && [ "$holdout" -gt 0 ]; then ok; else fail "members $members holdout $holdout"; fi
expect_err_contains "selected $members, holdout $holdout"

begin "consent is never bypassed, whatever the segment says"
crm campaign select everyone --fields contact_id --no-header -f tsv --include-holdout
expect_status 0
printf '%s\n' "$OUT" | sort -n >everyone.txt
extra=$(comm -23 everyone.txt <(sort -n allowed.txt))
if [ -z "$extra" ] && [ -s everyone.txt ]; then ok; else fail "members without consent: $extra"; fi
if grep -qx 5 everyone.txt; then fail "contact 5 withdrew but was selected"; else ok; fi
if grep -qx 35 everyone.txt; then fail "contact 35 never consented but was selected"; else ok; fi
bad=$(q "SELECT count(*) FROM campaign_member WHERE contact_id > 30 OR contact_id = 5")
if [ "$bad" = 0 ]; then ok; else fail "$bad recorded members lack consent"; fi

begin "the same run id returns the same members and records nothing new"
before=$(q "SELECT count(*) FROM campaign_member"):$(q "SELECT count(*) FROM campaign_run"):$(q "SELECT count(*) FROM history")
crm campaign select winback -f tsv
expect_status 0
printf '%s\n' "$OUT" >run1again.txt
same_file run1.txt run1again.txt
expect_err_contains "recorded before: the same members, nothing new recorded"
after=$(q "SELECT count(*) FROM campaign_member"):$(q "SELECT count(*) FROM campaign_run"):$(q "SELECT count(*) FROM history")
if [ "$before" = "$after" ]; then ok; else fail "recorded again: $before -> $after"; fi

begin "each membership is in the contact's history"
first=$(grep -vx -e 2 -e 3 run1.ids | head -1)
crm contact history "$first" -f tsv --fields action,detail --no-header
expect_out_contains "$(printf 'campaign member\tcampaign winback run winback-2026-W47')"

begin "--explain names why each contact of the segment was left out"
# Contact 2 bounced for good on email; contact 3 is erased and came back.
q "INSERT INTO undeliverable (contact_id, channel, at, source) VALUES (2, 'email', '2026-11-20T00:00:00Z', 'test')"
crm contact erase 3
crm contact add --email p3@example.com --country DE --allow-erased
new3=$(printf '%s' "$OUT" | tail -1)
crm consent grant "$new3" --purpose newsletter --channel email --at 2026-01-01
TEST_NOW=2026-11-29T09:30:00Z crm campaign select winback --explain -f tsv --no-header
expect_status 0
printf '%s\n' "$OUT" >explain.txt
reason() { awk -F'\t' -v id="$1" '$1 == id { print $2 }' explain.txt; }
if [ "$(reason 5)" = "no consent" ]; then ok; else fail "5: $(reason 5)"; fi
if [ "$(reason 33)" = "no consent" ]; then ok; else fail "33: $(reason 33)"; fi
if [ "$(reason 2)" = "undeliverable" ]; then ok; else fail "2: $(reason 2)"; fi
if [ "$(reason "$new3")" = "suppressed" ]; then ok; else fail "$new3: $(reason "$new3")"; fi
if [ "$(reason "$first")" = "capped" ]; then ok; else fail "$first: $(reason "$first")"; fi
if grep -q "$(printf '\tholdout$')" explain.txt; then ok; else fail "no holdout reason"; fi
if awk -F'\t' '$1 % 4 == 0' explain.txt | grep -q .; then fail "FR contacts are not in the segment"; else ok; fi
if [ "$(q "SELECT count(*) FROM campaign_run WHERE run_id = 'winback-2026-W48'")" = 0 ]; then ok; else fail "--explain recorded"; fi

begin "caps: next week's run leaves out last week's members"
TEST_NOW=2026-11-29T09:30:00Z crm campaign select winback --fields contact_id --no-header -f tsv
expect_status 0
expect_err_contains "run winback-2026-W48"
printf '%s\n' "$OUT" >run2.ids
both=$(comm -12 <(sort run1.ids) <(sort run2.ids))
if [ -z "$both" ]; then ok; else fail "capped contacts selected again: $both"; fi

begin "the holdout is stable across runs"
h1=$(q "SELECT group_concat(contact_id) FROM (SELECT m.contact_id FROM campaign_member m JOIN campaign_run r ON r.id = m.run WHERE r.run_id = 'winback-2026-W47' AND m.holdout = 1 AND m.contact_id <> 2 ORDER BY 1)")
h2=$(q "SELECT group_concat(contact_id) FROM (SELECT m.contact_id FROM campaign_member m JOIN campaign_run r ON r.id = m.run WHERE r.run_id = 'winback-2026-W48' AND m.holdout = 1 AND m.contact_id <> 2 ORDER BY 1)")
if [ -n "$h1" ] && [ "$h1" = "$h2" ]; then ok; else fail "holdout $h1 then $h2"; fi
crm campaign select winback --run-id winback-2026-W48 --include-holdout -f tsv --fields contact_id,variant --no-header
ctl=$(printf '%s\n' "$OUT" | awk -F'\t' '$2 == "control" { print $1 }' | sort -n | paste -sd,)
if [ "$ctl" = "$h2" ]; then ok; else fail "--include-holdout printed $ctl, expected $h2"; fi

begin "pressure: no contact gets more than 2 memberships in 7 days"
TEST_NOW=2026-11-29T10:00:00Z crm campaign select promo
expect_status 0
TEST_NOW=2026-11-29T11:00:00Z crm campaign select promo --run-id promo-extra
expect_status 0
TEST_NOW=2026-11-30T10:00:00Z crm campaign select promo --explain -f tsv --no-header
expect_out_contains "$(printf '\tpressure')"
TEST_NOW=2026-11-30T10:00:00Z crm campaign select promo
expect_status 0
over=$(q "SELECT count(*) FROM (SELECT contact_id FROM campaign_member WHERE holdout = 0 AND at > '2026-11-23T10:00:00Z' AND at <= '2026-11-30T10:00:00Z' GROUP BY contact_id HAVING count(*) > 2)")
if [ "$over" = 0 ]; then ok; else fail "$over contacts over the pressure cap"; fi

begin "limit and variants: at most N members, split by hash"
crm campaign select launch -f tsv --fields contact_id,variant --no-header
expect_status 0
if [ "$(printf '%s\n' "$OUT" | wc -l)" = 3 ]; then ok; else fail "expected 3 members"; fi
if printf '%s\n' "$OUT" | cut -f2 | grep -qvx '[ab]'; then fail "variants not a or b"; else ok; fi
crm campaign select launch --run-id launch-2 --limit 1 --dry-run -f tsv --no-header --explain
expect_out_contains "$(printf '\tlimit')"

begin "in_campaign() finds the members of recorded runs"
TEST_NOW=2026-11-30T00:00:00Z crm contact list --where 'in_campaign("winback", within = 3d)' --fields id --no-header -f tsv
printf '%s\n' "$OUT" >in.txt
sort -n run2.ids >run2.sorted
same_file in.txt run2.sorted

begin "a contact with memberships cannot be deleted plainly"
crm contact delete "$first"
expect_status 65

begin "export runs and members read the recorded runs"
crm export runs -f tsv --fields campaign,run_id --no-header
expect_out_contains "$(printf 'winback\twinback-2026-W47')"
crm export members -f tsv --no-header --fields run,contact_id,holdout
if [ "$(printf '%s\n' "$OUT" | wc -l)" = "$(q 'SELECT count(*) FROM campaign_member')" ]; then ok; else fail "member rows"; fi

begin "a segment that is not a valid filter is 65 naming the key"
cat >>crm.toml <<'TOML'
[campaigns.broken]
channel = "email"
purpose = "newsletter"
segment = 'country = '
[campaigns.fax]
channel = "fax"
purpose = "newsletter"
TOML
crm campaign select broken
expect_status 65
expect_err_contains "crm: campaigns.broken.segment: bad filter expression"

begin "a channel its purpose lacks is 78"
crm campaign select fax
expect_status 78
expect_err_contains "campaigns.fax"

begin "two selects at once: one run, the same members for both"
runs_before=$(q "SELECT count(*) FROM campaign_run")
for i in 1 2 3; do
  env -i PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C TZ=UTC CRM_NOW=2026-12-20T08:00:00Z \
    ASAN_OPTIONS="$ASAN_OPTIONS" "$CRM_BIN" campaign select promo -f tsv >"conc$i.out" 2>"conc$i.err" &
done
wait
codes_ok=1
for i in 1 2 3; do grep -q "^crm:" "conc$i.err" && codes_ok=0; done
if [ "$codes_ok" = 1 ]; then ok; else fail "a concurrent select failed: $(cat conc*.err)"; fi
same_file conc1.out conc2.out
same_file conc1.out conc3.out
if [ "$(q "SELECT count(*) FROM campaign_run")" = $((runs_before + 1)) ]; then ok; else fail "not one run"; fi
dups=$(q "SELECT count(*) FROM (SELECT contact_id FROM campaign_member WHERE campaign = 'promo' AND at = '2026-12-20T08:00:00Z' GROUP BY contact_id HAVING count(*) > 1)")
if [ "$dups" = 0 ]; then ok; else fail "duplicated members"; fi

begin "a select that cannot get the database in time is 75 and records nothing"
sed -i 's/busy_timeout_ms = 5000/busy_timeout_ms = 200/' crm.toml
runs_before=$(q "SELECT count(*) FROM campaign_run")
# The lock is held once sqlite3 has made the file "locked" (a fixed sleep
# was not enough on a loaded machine).
rm -f locked
{ echo "BEGIN IMMEDIATE;"; echo ".shell touch locked"; sleep 3; echo "COMMIT;"; } | sqlite3 crm.db &
locker=$!
while [ ! -e locked ]; do sleep 0.05; done
TEST_NOW=2026-12-21T08:00:00Z crm campaign select promo
expect_status 75
wait "$locker"
if [ "$(q "SELECT count(*) FROM campaign_run")" = "$runs_before" ]; then ok; else fail "recorded while locked"; fi

finish
