#!/usr/bin/env bash
# Crash safety: crm is killed with SIGKILL at random points of contact
# import, consent import, score run, campaign select and contact erase.
# After each kill the database passes `crm db check`, no half-done batch or
# run is visible, the consent chain verifies, and running the command again
# completes. The delays are drawn from a seeded generator: FAULT_SEED=N
# repeats a run (the seed is printed), FAULT_ITERATIONS=N sets the kills per
# command (default 5, 25 in the Release job; a long run uses a few hundred).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

SEED=${FAULT_SEED:-$(($(date +%s) % 32768))}
# CRM_TEST_LARGE=1 (scripts/test, Release only) kills more often.
if [ "${CRM_TEST_LARGE:-}" = 1 ]; then ITERATIONS=${FAULT_ITERATIONS:-25}; else ITERATIONS=${FAULT_ITERATIONS:-5}; fi
RANDOM=$SEED
echo "test_faults: seed $SEED, $ITERATIONS kills per command (FAULT_SEED=$SEED repeats this run)"

N=${FAULT_CONTACTS:-2000} # contacts in the import file
BATCH=100                 # rows per import transaction
q() { sqlite3 "$1" "$2"; }

cat >crm.toml <<'TOML'
[consent.purposes.news]
channels = ["email"]
double_opt_in = false
[score]
requires_consent = ""
[campaigns.mail]
channel = "email"
purpose = "news"
segment = 'country = "DE"'
holdout = 0.1
TOML

awk -v n="$N" 'BEGIN {
  print "email,first_name,last_name,country,city"
  for (i = 1; i <= n; i++)
    printf "p%d@example.com,First%d,Last%d,%s,City%d\n", i, i, i, i % 3 ? "DE" : "FR", i % 50
}' >people.csv
awk -v n="$N" 'BEGIN {
  print "email,purpose,channel,action,at,source,proof"
  for (i = 1; i <= n; i++)
    printf "p%d@example.com,news,email,grant,2026-01-01T00:00:00Z,fair,form %d\n", i, i
}' >consents.csv

# Templates: an empty database; one with the contacts; one with contacts,
# purchases and consents (for score run, campaign select and erase).
crm --db empty.db init
crm --db people.db init
crm --db people.db contact import people.csv -q
crm --db full.db init
crm --db full.db contact import people.csv -q
crm --db full.db consent import consents.csv -q
q full.db "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 4)
  INSERT INTO event (contact_id, touchpoint, channel, at, amount)
  SELECT c.id, 'purchase', 'shop', strftime('%Y-%m-%dT%H:%M:%SZ', '2026-11-01', '-' || ((c.id * 7 + k.i * 31) % 300) || ' days'),
         100 * ((c.id * 13 + k.i) % 97 + 1)
  FROM contact c, k WHERE c.id % 5 != 0"
for t in empty people full; do
  if [ ! -e "$t.db-wal" ]; then ok; else fail "template $t.db left a WAL file"; fi
done

# fresh NAME TEMPLATE: a copy of a template database.
fresh() {
  rm -f "$1" "$1-wal" "$1-shm"
  cp -p "$2.db" "$1"
}

# now_ms: a monotonic-enough clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# timed ARGS...: runs crm to completion; sets STATUS and ELAPSED (ms).
timed() {
  local t0
  t0=$(now_ms)
  crm "$@"
  ELAPSED=$(($(now_ms) - t0))
}

# kill_after MS ARGS...: starts crm, sends SIGKILL after MS milliseconds.
# Sets KILLED (1 if it was still running) and STATUS.
kill_after() {
  local ms=$1 pid
  shift
  env -i PATH=/usr/bin:/bin HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" \
    LC_ALL=C TZ=UTC CRM_NOW="${TEST_NOW:-2026-11-22T09:30:00Z}" ASAN_OPTIONS="$ASAN_OPTIONS" \
    "$CRM_BIN" "$@" >"$WORK/.out" 2>"$WORK/.err" <"${STDIN_FILE:-/dev/null}" &
  pid=$!
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  STATUS=$?
  if [ "$STATUS" -eq 137 ]; then KILLED=1; else KILLED=0; fi
  OUT=$(cat "$WORK/.out")
  ERR=$(cat "$WORK/.err")
}

# delay LIMIT_MS: a random delay in [0, LIMIT_MS] from the seeded generator.
delay() { echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1))); }

# healthy DB: `db check` passes and the consent chain verifies.
healthy() {
  crm --db "$1" db check
  if [ "$STATUS" -eq 0 ] && [ -z "$OUT" ]; then ok; else fail "db check failed on $1"; fi
  crm --db "$1" consent verify
  if [ "$STATUS" -eq 0 ]; then ok; else fail "consent verify failed on $1"; fi
}

# Counters for the summary table printed at the end.
declare -A TRIED MID PARTIAL
tally() {
  TRIED[$1]=$((${TRIED[$1]:-0} + 1))
  MID[$1]=$((${MID[$1]:-0} + KILLED))
  if [ "$KILLED" -eq 1 ] || [ "$STATUS" -eq 0 ]; then ok; else fail "$1 exited $STATUS"; fi
}

begin "contact import --batch $BATCH killed at random points"
fresh ref.db empty
timed --db ref.db contact import people.csv --batch "$BATCH" -q
expect_status 0
limit=$((ELAPSED * 11 / 10 + 20))
for i in $(seq 1 "$ITERATIONS"); do
  ms=$(delay "$limit")
  begin "contact import killed after ${ms} ms (iteration $i)"
  fresh k.db empty
  kill_after "$ms" --db k.db contact import people.csv --batch "$BATCH" -q
  tally "contact import"
  healthy k.db
  n=$(q k.db "SELECT count(*) FROM contact")
  if [ $((n % BATCH)) -eq 0 ]; then ok; else fail "$n contacts: not whole batches of $BATCH"; fi
  if [ "$n" -gt 0 ] && [ "$n" -lt "$N" ]; then PARTIAL["contact import"]=$((${PARTIAL["contact import"]:-0} + 1)); fi
  state=$(q k.db "SELECT count(*), coalesce(sum(inserted), 0), count(finished_at) FROM import_batch")
  changes=$(q k.db "SELECT coalesce(sum(last_id - first_id + 1), 0) FROM import_created")
  # (healthy's db check holds the full-text index to the contacts.)
  if [ "$n" -eq 0 ]; then want="0|0|0"; else want="1|$n|1"; fi
  if [ "$state" = "$want" ] && [ "$changes" = "$n" ]; then ok; else
    fail "half a batch: $n contacts, batches $state, changes $changes"
  fi
  crm --db k.db contact import people.csv --batch "$BATCH" -q
  expect_status 0
  if [ "$(q k.db 'SELECT count(*) FROM contact')" = "$N" ]; then ok; else fail "re-run did not complete"; fi
done

begin "consent import --batch $BATCH killed at random points"
fresh ref.db people
timed --db ref.db consent import consents.csv --batch "$BATCH" -q
expect_status 0
limit=$((ELAPSED * 11 / 10 + 20))
for i in $(seq 1 "$ITERATIONS"); do
  ms=$(delay "$limit")
  begin "consent import killed after ${ms} ms (iteration $i)"
  fresh k.db people
  kill_after "$ms" --db k.db consent import consents.csv --batch "$BATCH" -q
  tally "consent import"
  healthy k.db
  n=$(q k.db "SELECT count(*) FROM consent")
  if [ $((n % BATCH)) -eq 0 ]; then ok; else fail "$n ledger entries: not whole batches of $BATCH"; fi
  if [ "$n" -gt 0 ] && [ "$n" -lt "$N" ]; then PARTIAL["consent import"]=$((${PARTIAL["consent import"]:-0} + 1)); fi
  crm --db k.db consent import consents.csv --batch "$BATCH" -q
  expect_status 0
  if [ "$(q k.db 'SELECT count(*) FROM consent')" = "$N" ]; then ok; else fail "re-run did not complete"; fi
  crm --db k.db consent verify
  expect_status 0
done

begin "score run killed at random points"
fresh ref.db full
timed --db ref.db score run
expect_status 0
ref_counts=$(q ref.db "SELECT model || ':' || count(*) FROM score GROUP BY model ORDER BY model")
q ref.db "SELECT * FROM score ORDER BY model, contact_id" >ref-scores.txt
q ref.db "SELECT * FROM score_part ORDER BY model, contact_id, ord" >ref-parts.txt
if [ -n "$ref_counts" ]; then ok; else fail "the reference run stored no scores"; fi
limit=$((ELAPSED * 11 / 10 + 20))
for i in $(seq 1 "$ITERATIONS"); do
  ms=$(delay "$limit")
  begin "score run killed after ${ms} ms (iteration $i)"
  fresh k.db full
  kill_after "$ms" --db k.db score run
  tally "score run"
  healthy k.db
  # Each model is stored in one transaction: all of its rows or none.
  for entry in $ref_counts; do
    model=${entry%%:*}
    have=$(q k.db "SELECT count(*) || ':' || count(DISTINCT at) FROM score WHERE model = '$model'")
    case "$have" in "0:0" | "${entry#*:}:1") ok ;; *) fail "model $model half stored: $have of ${entry#*:}" ;; esac
  done
  stored=$(q k.db "SELECT count(DISTINCT model) FROM score")
  if [ "$stored" -gt 0 ] && [ "$stored" -lt "$(echo "$ref_counts" | wc -w)" ]; then
    PARTIAL["score run"]=$((${PARTIAL["score run"]:-0} + 1))
  fi
  crm --db k.db score run
  expect_status 0
  q k.db "SELECT * FROM score ORDER BY model, contact_id" >k-scores.txt
  q k.db "SELECT * FROM score_part ORDER BY model, contact_id, ord" >k-parts.txt
  same_file ref-scores.txt k-scores.txt
  same_file ref-parts.txt k-parts.txt
done

begin "campaign select killed at random points"
fresh ref.db full
timed --db ref.db campaign select mail -f csv
expect_status 0
printf '%s\n' "$OUT" >ref-select.csv
ref_members=$(q ref.db "SELECT count(*) FROM campaign_member")
if [ "$ref_members" -gt 0 ]; then ok; else fail "the reference run selected nobody"; fi
limit=$((ELAPSED * 11 / 10 + 20))
for i in $(seq 1 "$ITERATIONS"); do
  ms=$(delay "$limit")
  begin "campaign select killed after ${ms} ms (iteration $i)"
  fresh k.db full
  kill_after "$ms" --db k.db campaign select mail -f csv
  tally "campaign select"
  healthy k.db
  run=$(q k.db "SELECT count(*) || ':' || coalesce(sum(members + holdout), 0) FROM campaign_run")
  members=$(q k.db "SELECT count(*) FROM campaign_member")
  case "$run:$members" in "0:0:0" | "1:$ref_members:$ref_members") ok ;; *) fail "run half recorded: runs:sum $run, members $members" ;; esac
  if [ "${run%%:*}" = 1 ]; then PARTIAL["campaign select"]=$((${PARTIAL["campaign select"]:-0} + 1)); fi
  crm --db k.db campaign select mail -f csv
  expect_status 0
  printf '%s\n' "$OUT" >k-select.csv
  same_file ref-select.csv k-select.csv
  if [ "$(q k.db 'SELECT count(*) FROM campaign_run')" = 1 ]; then ok; else fail "run recorded twice"; fi
done

begin "contact erase of many contacts killed at random points"
ERASE=$((N / 10))
seq 1 "$ERASE" >erase.txt
fresh ref.db full
STDIN_FILE=erase.txt timed --db ref.db contact erase - -q
expect_status 0
limit=$((ELAPSED * 11 / 10 + 20))
for i in $(seq 1 "$ITERATIONS"); do
  ms=$(delay "$limit")
  begin "contact erase killed after ${ms} ms (iteration $i)"
  fresh k.db full
  STDIN_FILE=erase.txt kill_after "$ms" --db k.db contact erase - -q
  tally "contact erase"
  healthy k.db
  state=$(q k.db "SELECT (SELECT count(*) FROM contact) || ':' || (SELECT count(*) FROM erasure)
    || ':' || (SELECT count(*) FROM event WHERE contact_id <= $ERASE)")
  case "$state" in "$N:0:"[1-9]* | "$((N - ERASE)):$ERASE:0") ok ;; *) fail "erasure half done: $state" ;; esac
  if [ "${state%%:*}" = $((N - ERASE)) ]; then PARTIAL["contact erase"]=$((${PARTIAL["contact erase"]:-0} + 1)); fi
  STDIN_FILE=erase.txt crm --db k.db contact erase - -q
  # Done already: every reference is unknown now (2) and nothing changes.
  if [ "$STATUS" -eq 0 ] || { [ "$STATUS" -eq 2 ] && [ "${state%%:*}" = $((N - ERASE)) ]; }; then ok; else
    fail "re-run of erase exited $STATUS"
  fi
  if [ "$(q k.db 'SELECT count(*) FROM contact')" = $((N - ERASE)) ]; then ok; else fail "re-run did not erase"; fi
  healthy k.db
done

# "done before the kill": some (not all) batches or models were committed
# (imports, score run), or the whole run or erasure was (select, erase).
echo "command | kills | still running when killed | done before the kill | failed checks"
for c in "contact import" "consent import" "score run" "campaign select" "contact erase"; do
  echo "$c | ${TRIED[$c]:-0} | ${MID[$c]:-0} | ${PARTIAL[$c]:--} | $FAILURES in the whole suite"
done
finish
