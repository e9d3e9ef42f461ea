#!/usr/bin/env bash
# End to end: the cron example (examples/cron/) through a simulated quarter,
# 13 weekly selections piped into the stand-in mailer and 13 nightly imports
# of its results, with CRM_NOW stepping from week to week. Checks that caps
# and the pressure cap hold, that a retried run returns the same members and
# records nothing, that an unsubscribe withdraws the consent and later runs
# leave the contact out, and that holdout contacts stay in control.
# shellcheck source-path=SCRIPTDIR
HERE="$(cd "$(dirname "$0")" && pwd)"
EXAMPLE="$(cd "$HERE/../../examples/cron" && pwd)"
source "$HERE/lib.sh"

cp "$EXAMPLE/crm.toml" crm.toml
crm init
{
  echo "email,first_name,country"
  for i in $(seq 1 300); do
    if [ $((i % 3)) -eq 0 ]; then country=FR; else country=DE; fi
    echo "p$i@example.com,P$i,$country"
  done
} >people.csv
crm contact import people.csv
# Contacts 1-270 may be mailed.
seq 1 270 >granted.txt
STDIN_FILE=granted.txt crm consent grant - --purpose newsletter --channel email --at 2025-12-01
q() { sqlite3 crm.db "$1"; }

# job WHEN SCRIPT: runs an example script as cron would, at CRM_NOW=WHEN.
job() {
  env -i PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C TZ=UTC CRM_NOW="$1" \
    ASAN_OPTIONS="$ASAN_OPTIONS" CRM="$CRM_BIN" "$EXAMPLE/$2" >"$WORK/.out" 2>"$WORK/.err"
  STATUS=$?
  OUT=$(cat "$WORK/.out")
  ERR=$(cat "$WORK/.err")
}

begin "a quarter of weekly runs and nightly imports succeeds"
failed=0
for week in $(seq 0 12); do
  monday=$(date -u -d "2026-01-05 +$((week * 7)) days" +%Y-%m-%d)
  tuesday=$(date -u -d "$monday +1 day" +%Y-%m-%d)
  job "${monday}T06:00:00Z" weekly-campaigns.sh
  [ "$STATUS" -eq 0 ] || { failed=1; fail "weekly run $monday"; }
  if [ "$week" -eq 4 ]; then
    # A retry of the same week's job, an hour later.
    before=$(q "SELECT count(*) FROM campaign_run"):$(q "SELECT count(*) FROM campaign_member"):$(q "SELECT count(*) FROM history")
    job "${monday}T07:00:00Z" weekly-campaigns.sh
    [ "$STATUS" -eq 0 ] || { failed=1; fail "retried weekly run $monday"; }
    case "$ERR" in *"was sent already"*) ;; *) failed=1; fail "the mailer sent a retried run again" ;; esac
    after=$(q "SELECT count(*) FROM campaign_run"):$(q "SELECT count(*) FROM campaign_member"):$(q "SELECT count(*) FROM history")
    [ "$before" = "$after" ] || { failed=1; fail "the retry recorded: $before -> $after"; }
    retry_week=$monday
  fi
  job "${tuesday}T02:00:00Z" nightly.sh
  [ "$STATUS" -eq 0 ] || { failed=1; fail "nightly run $tuesday"; }
done
if [ "$failed" = 0 ]; then ok; fi
runs=$(q "SELECT count(*) FROM campaign_run")
if [ "$runs" = 26 ]; then ok; else fail "expected 26 runs, found $runs"; fi
if [ -z "$(ls spool/*.csv 2>/dev/null)" ] && [ "$(find spool/done -name '*.csv' | wc -l)" = 26 ]; then ok; else fail "spool not drained"; fi
responses=$(q "SELECT count(*) FROM campaign_response")
if [ "$responses" -gt 0 ]; then ok; else fail "no responses imported"; fi
rejected=$(cat spool/rejects/*.csv 2>/dev/null | wc -l)
if [ "$rejected" = 0 ]; then ok; else fail "$rejected rejected result rows"; fi

begin "a retried run returns the same members"
week=$(date -u -d "$retry_week" +%G-W%V)
TEST_NOW="${retry_week}T08:00:00Z" crm campaign select winback --run-id "winback-$week" -f csv --fields contact_id,email
expect_status 0
printf '%s\n' "$OUT" >again.csv
same_file again.csv "outbox/winback-$week.csv"
expect_err_contains "recorded before: the same members, nothing new recorded"

begin "the campaign cap holds: no winback member twice within 14 days"
over=$(q "SELECT count(*) FROM campaign_member a JOIN campaign_member b ON a.contact_id = b.contact_id AND a.campaign = b.campaign AND a.at < b.at WHERE a.campaign = 'winback' AND a.holdout = 0 AND b.holdout = 0 AND julianday(b.at) - julianday(a.at) < 14")
if [ "$over" = 0 ]; then ok; else fail "$over pairs over the cap"; fi
twice=$(q "SELECT count(*) FROM (SELECT contact_id FROM campaign_member WHERE campaign = 'winback' AND holdout = 0 GROUP BY contact_id HAVING count(*) > 1)")
if [ "$twice" -gt 0 ]; then ok; else fail "no contact got winback twice: the cap check proves nothing"; fi

begin "the pressure cap holds: at most one message per contact in 6 days"
over=$(q "SELECT count(*) FROM campaign_member a JOIN campaign_member b ON a.contact_id = b.contact_id AND (a.at < b.at OR (a.at = b.at AND a.run < b.run)) WHERE a.holdout = 0 AND b.holdout = 0 AND julianday(b.at) - julianday(a.at) < 6")
if [ "$over" = 0 ]; then ok; else fail "$over pairs over the pressure cap"; fi
both=$(q "SELECT count(*) FROM (SELECT contact_id FROM campaign_member WHERE holdout = 0 GROUP BY contact_id HAVING count(DISTINCT campaign) = 2)")
if [ "$both" -gt 0 ]; then ok; else fail "no contact got both campaigns"; fi

begin "an unsubscribe withdraws the consent and later runs leave the contact out"
mapfile -t gone < <(q "SELECT DISTINCT contact_id FROM campaign_response WHERE type = 'unsubscribed' ORDER BY 1")
if [ "${#gone[@]}" -gt 0 ]; then ok; else fail "nobody unsubscribed"; fi
for id in "${gone[@]}"; do
  TEST_NOW=2026-04-01T00:00:00Z crm consent check "$id" --purpose newsletter --channel email
  [ "$STATUS" -eq 1 ] || fail "contact $id still has consent"
done
ok
src=$(q "SELECT DISTINCT source FROM consent WHERE action = 'withdraw'")
case "$src" in "campaign "*) ok ;; *) fail "withdrawal source $src" ;; esac
later=$(q "SELECT count(*) FROM campaign_member m JOIN campaign_response r ON r.contact_id = m.contact_id AND r.type = 'unsubscribed' WHERE m.at > r.at")
if [ "$later" = 0 ]; then ok; else fail "$later memberships after an unsubscribe"; fi
crm consent verify
expect_status 0

begin "a hard bounce keeps the address out of later runs"
later=$(q "SELECT count(*) FROM campaign_member m JOIN undeliverable u ON u.contact_id = m.contact_id AND u.channel = 'email' WHERE m.at > u.at")
if [ "$later" = 0 ] && [ "$(q "SELECT count(*) FROM undeliverable")" -gt 0 ]; then ok; else fail "$later memberships after a hard bounce"; fi

begin "holdout contacts stay in control across runs and are never mailed"
mixed=$(q "SELECT count(*) FROM (SELECT contact_id FROM campaign_member WHERE campaign = 'winback' GROUP BY contact_id HAVING count(DISTINCT holdout) > 1)")
if [ "$mixed" = 0 ]; then ok; else fail "$mixed contacts switched between control and treated"; fi
control=$(q "SELECT count(*) FROM (SELECT contact_id FROM campaign_member WHERE campaign = 'winback' AND holdout = 1 GROUP BY contact_id HAVING count(*) > 1)")
if [ "$control" -gt 0 ]; then ok; else fail "no contact was in control twice"; fi
mailed=$(q "SELECT group_concat(contact_id) FROM campaign_member WHERE campaign = 'winback' AND holdout = 1")
sent=$(cat outbox/winback-*.csv | grep -v '^contact_id' | cut -d, -f1 | sort -u)
for id in ${mailed//,/ }; do
  if printf '%s\n' "$sent" | grep -qx "$id"; then fail "control contact $id was mailed"; break; fi
done
ok

begin "the report of the quarter has a row per run and an uplift"
crm campaign report winback -f json
expect_status 0
printf '%s\n' "$OUT" >report.json
if python3 "$HERE/campaign_report_check.py" crm.db winback report.json 30 >check.txt 2>&1; then ok; else fail "checker: $(cat check.txt)"; fi
crm campaign report winback -f tsv --no-header --fields run_id
if [ "$(printf '%s\n' "$OUT" | wc -l)" = 13 ]; then ok; else fail "expected 13 report rows"; fi

finish
