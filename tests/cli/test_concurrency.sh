#!/usr/bin/env bash
# Several crm processes on one database at once: contact importers (each a
# file of its own, in batches), a consent importer, score runs, campaign
# selects of one campaign and one period, and exports. With the default
# busy timeout all finish with 0; with a tiny one each finishes with 0 or
# 75 and a one-line message. Either way the end state is one that the same
# commands run one after another could leave: whole import batches, one
# campaign run whose members every select printed alike, exports that show
# whole batches only, a consent chain that verifies and a clean db check.
# CONC_CONTACTS sets the size of the database (default 2000); CRM_TEST_LARGE=1
# (set by scripts/test for the Release build only) makes it 100,000.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

if [ "${CRM_TEST_LARGE:-}" = 1 ]; then BASE=${CONC_CONTACTS:-100000}; else BASE=${CONC_CONTACTS:-2000}; fi
ADD=300    # contacts in each importer's file
BATCH=50   # their --batch
IMPORTERS=3
ROUNDS=3   # score runs, selects and exports per worker
echo "test_concurrency: $BASE contacts, $IMPORTERS importers of $ADD in batches of $BATCH"
q() { sqlite3 crm.db "$1"; }

cat >crm.toml <<'TOML'
[database]
busy_timeout_ms = 60000
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
schedule = "weekly"
TOML
sed 's/busy_timeout_ms = 60000/busy_timeout_ms = 1/' crm.toml >impatient.toml

# people FILE PREFIX COUNT: a contact file.
people() {
  awk -v p="$2" -v n="$3" 'BEGIN {
    print "email,first_name,last_name,country"
    for (i = 1; i <= n; i++) printf "%s%d@example.com,F%d,L%d,%s\n", p, i, i, i, i % 4 ? "DE" : "FR"
  }' >"$1"
}
# grants FILE PREFIX COUNT: consent grants for those contacts.
grants() {
  awk -v p="$2" -v n="$3" 'BEGIN {
    print "email,purpose,channel,action,at,source"
    for (i = 1; i <= n; i++) printf "%s%d@example.com,news,email,grant,2026-01-01T00:00:00Z,fair\n", p, i
  }' >"$1"
}

people base.csv base "$BASE"
grants base-grants.csv base "$BASE"
for k in $(seq 1 "$IMPORTERS"); do people "imp$k.csv" "imp${k}_" "$ADD"; done
crm init
crm contact import base.csv -q
crm consent import base-grants.csv -q
q "INSERT INTO event (contact_id, touchpoint, channel, at, amount)
   SELECT id, 'purchase', 'shop', strftime('%Y-%m-%dT%H:%M:%SZ', '2026-11-01', '-' || (id % 300) || ' days'),
          100 * (id % 97 + 1)
   FROM contact WHERE id % 3 = 0"
cp -p crm.db start.db

# worker NAME CONFIG ARGS...: runs crm (at most 300 s) with its own output
# files, and appends "NAME STATUS" to statuses.txt.
worker() {
  local name=$1 config=$2
  shift 2
  env -i PATH=/usr/bin:/bin HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" \
    LC_ALL=C TZ=UTC CRM_NOW=2026-11-22T09:30:00Z ASAN_OPTIONS="$ASAN_OPTIONS" \
    timeout 300 "$CRM_BIN" --config "$config" "$@" >"out.$name" 2>"err.$name" </dev/null
  echo "$name $?" >>statuses.txt
}

# swarm CONFIG: all workers at once on crm.db; returns when all are done.
swarm() {
  local config=$1 k r
  rm -f statuses.txt out.* err.*
  for k in $(seq 1 "$IMPORTERS"); do
    worker "import$k" "$config" contact import "imp$k.csv" --batch "$BATCH" -q &
  done
  worker consents "$config" consent import base-grants.csv --batch "$BATCH" -q &
  for r in $(seq 1 "$ROUNDS"); do
    worker "score$r" "$config" score run -q &
    worker "select$r" "$config" campaign select mail -f csv &
    worker "export$r" "$config" export contacts -f csv --fields email -o "export$r.csv" &
    worker "list$r" "$config" contact list --fields email --no-header -f tsv &
  done
  wait
}

# whole_batches FILE: the contacts a listing shows are the base plus whole
# import batches (one header line in csv exports).
whole_batches() {
  local n
  n=$(grep -c '@' "$1")
  if [ $(((n - BASE) % BATCH)) -eq 0 ] && [ "$n" -ge "$BASE" ]; then ok; else
    fail "$1 shows $n contacts: not the base plus whole batches"
  fi
}

# consistent: the end state of a swarm is one a serial order could leave.
consistent() {
  crm db check
  if [ "$STATUS" -eq 0 ] && [ -z "$OUT" ]; then ok; else fail "db check"; fi
  crm consent verify
  expect_status 0
  local n batches
  n=$(q "SELECT count(*) FROM contact")
  if [ $(((n - BASE) % BATCH)) -eq 0 ]; then ok; else fail "$n contacts: half a batch"; fi
  batches=$(q "SELECT count(*) FROM import_batch WHERE source LIKE '%imp%' AND inserted % $BATCH != 0")
  if [ "$batches" = 0 ]; then ok; else fail "$batches import batches hold half a batch"; fi
  if [ "$(q "SELECT count(*) FROM campaign_run WHERE campaign = 'mail'")" -le 1 ]; then ok; else
    fail "campaign mail has more than one run for one period"
  fi
  if [ "$(q "SELECT count(*) FROM campaign_member")" = "$(q "SELECT coalesce(sum(members + holdout), 0) FROM campaign_run")" ]; then ok; else
    fail "campaign members do not match their run"
  fi
  # Every select that succeeded printed the one recorded run's members.
  local first="" r
  for r in $(seq 1 "$ROUNDS"); do
    if grep -qx "select$r 0" statuses.txt; then
      if [ -z "$first" ]; then first="out.select$r"; else same_file "$first" "out.select$r"; fi
    fi
  done
  for r in $(seq 1 "$ROUNDS"); do
    if [ -f "export$r.csv" ]; then whole_batches "export$r.csv"; fi
    if grep -qx "list$r 0" statuses.txt; then whole_batches "out.list$r"; fi
  done
  local dup
  dup=$(q "SELECT count(*) FROM (SELECT contact_id, purpose, channel, action, at FROM consent
           GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1)")
  if [ "$dup" = 0 ]; then ok; else fail "$dup consent entries recorded twice"; fi
}

begin "with the default busy timeout every process finishes with 0"
swarm crm.toml
bad=$(grep -cv ' 0$' statuses.txt)
if [ "$bad" = 0 ] && [ "$(wc -l <statuses.txt)" = $((IMPORTERS + 1 + 4 * ROUNDS)) ]; then ok; else
  fail "not all finished with 0: $(grep -v ' 0$' statuses.txt | tr '\n' ' ') $(cat err.* | head -5)"
fi
consistent
if [ "$(q "SELECT count(*) FROM contact")" = $((BASE + IMPORTERS * ADD)) ]; then ok; else fail "contacts lost"; fi
if [ "$(q "SELECT count(*) FROM campaign_run")" = 1 ]; then ok; else fail "no campaign run"; fi

begin "the end state equals a serial run of the same commands"
cp -p start.db serial.db
for k in $(seq 1 "$IMPORTERS"); do crm --db serial.db contact import "imp$k.csv" --batch "$BATCH" -q; done
crm --db serial.db consent import base-grants.csv --batch "$BATCH" -q
crm --db serial.db score run -q
# Contacts by their content (ids follow the order the batches committed in).
for db in crm.db serial.db; do
  sqlite3 "$db" "SELECT email, first_name, last_name, country FROM contact ORDER BY email" >"$db.contacts"
  sqlite3 "$db" "SELECT count(*) FROM consent" >"$db.ledger"
done
same_file crm.db.contacts serial.db.contacts
same_file crm.db.ledger serial.db.ledger
crm score run -q
expect_status 0
for db in crm.db serial.db; do
  sqlite3 "$db" "SELECT model, count(*) FROM score GROUP BY model ORDER BY model" >"$db.scores"
done
same_file crm.db.scores serial.db.scores

begin "with a tiny busy timeout each process finishes with 0 or 75, and nothing is half done"
cp -p start.db crm.db
rm -f crm.db-wal crm.db-shm
swarm impatient.toml
bad=$(grep -cvE ' (0|75)$' statuses.txt)
if [ "$bad" = 0 ]; then ok; else fail "exit codes other than 0 and 75: $(grep -vE ' (0|75)$' statuses.txt | tr '\n' ' ')"; fi
busy=$(grep -c ' 75$' statuses.txt)
echo "test_concurrency: $busy of $(wc -l <statuses.txt) processes gave up with 75"
for f in err.*; do
  name=${f#err.}
  if grep -qx "$name 75" statuses.txt; then
    if head -1 "$f" | grep -q '^crm: .*: the database is locked$' && [ "$(wc -l <"$f")" -le 2 ]; then ok; else
      fail "$name: 75 without the one-line locked message: $(cat "$f")"
    fi
  fi
done
consistent

begin "after the swarm, the same commands run again complete"
for k in $(seq 1 "$IMPORTERS"); do crm contact import "imp$k.csv" --batch "$BATCH" -q; expect_status 0; done
crm consent import base-grants.csv -q
expect_status 0
crm campaign select mail -f csv
expect_status 0
if [ "$(q "SELECT count(*) FROM contact")" = $((BASE + IMPORTERS * ADD)) ]; then ok; else fail "contacts lost"; fi
if [ "$(q "SELECT count(*) FROM campaign_run")" = 1 ]; then ok; else fail "campaign runs: $(q "SELECT count(*) FROM campaign_run")"; fi
consistent

finish
