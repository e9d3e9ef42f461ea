#!/usr/bin/env bash
# Every file crm writes that holds personal data is created 0600 under the
# common umask 022: the database and its -wal and -shm, exports with -o
# (every kind and format, new or replacing a 0644 file), `export subject`
# and `export report` with -o, rejects files of every import, and backups.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

umask 022
mode() { stat -c %a "$1"; }
# private FILE...: each file exists with mode 600.
private() {
  local f
  for f in "$@"; do
    if [ ! -e "$f" ]; then
      fail "$f was not written"
    elif [ "$(mode "$f")" = 600 ]; then
      ok
    else
      fail "$f has mode $(mode "$f"), not 600"
    fi
  done
}

cat >crm.toml <<'TOML'
[consent.purposes.news]
channels = ["email"]
double_opt_in = false
[score]
requires_consent = ""
[campaigns.mail]
channel = "email"
purpose = "news"
[reports.people]
sql = "SELECT id, email FROM contact ORDER BY id"
TOML

begin "init under umask 022: the database is 0600"
crm init
expect_status 0
private crm.db

begin "the -wal and -shm files of a running crm are 0600"
awk 'BEGIN {
  print "email,first_name,country"
  for (i = 1; i <= 30000; i++) printf "w%d@example.com,W%d,DE\n", i, i
}' >many.csv
crm --db wal.db init
env -i PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C TZ=UTC ASAN_OPTIONS="$ASAN_OPTIONS" \
  "$CRM_BIN" --db wal.db contact import many.csv --batch 500 -q &
pid=$!
for _ in $(seq 1 1000); do
  [ -e wal.db-wal ] && [ -e wal.db-shm ] && break
  sleep 0.01
done
# Stopped with SIGKILL, crm leaves both files as they were while it ran.
kill -KILL "$pid" 2>/dev/null
wait "$pid"
private wal.db wal.db-wal wal.db-shm

printf 'email,first_name,country\na@example.com,Ann,DE\nb@example.com,Bob,DE\nbad,Cy,DE\n' >people.csv
crm contact import people.csv --rejects contact-rejects.csv -q
expect_status 0
printf 'email,purpose,channel,action,at\na@example.com,news,email,grant,2026-01-01\nnobody@example.com,news,email,grant,2026-01-01\n' >consents.csv
crm consent import consents.csv --rejects consent-rejects.csv -q
expect_status 0
printf 'email,touchpoint,at,amount\na@example.com,purchase,2026-10-01,10.00\nnobody@example.com,purchase,2026-10-01,5.00\n' >events.csv
crm journey import events.csv --rejects journey-rejects.csv -q
expect_status 0
crm score run -q
crm campaign select mail -q
crm contact task add 1 "call back" --due 2026-12-01 --owner sam -q

begin "rejects files of contact, consent and journey import are 0600"
private contact-rejects.csv consent-rejects.csv journey-rejects.csv

begin "rejects replacing an existing 0644 file are 0600"
printf 'old\n' >old-rejects.csv
chmod 644 old-rejects.csv
crm contact import people.csv --rejects old-rejects.csv -q
private old-rejects.csv

begin "export -o of every kind and format is 0600"
for kind in contacts events consents scores runs members tasks; do
  for format in csv tsv json ndjson table; do
    crm export "$kind" -f "$format" -o "export-$kind.$format"
    expect_status 0
    private "export-$kind.$format"
  done
done
crm export contacts -f vcard -o export.vcf
expect_status 0
private export.vcf

begin "export -o replacing an existing 0644 file leaves it 0600"
printf 'old\n' >old.csv
chmod 644 old.csv
crm export contacts -f csv -o old.csv
expect_status 0
private old.csv

begin "export subject -o and export report -o are 0600"
crm export subject 1 -o subject.json
expect_status 0
private subject.json
crm export report people -o report.csv -f csv
expect_status 0
private report.csv
crm export report summary -o summary.csv -f csv
expect_status 0
private summary.csv

begin "db backup is 0600"
crm db backup backup.db
expect_status 0
private backup.db

begin "no temporary file of any of these is left behind"
left=$(find . -maxdepth 1 -name '.*.??????' -o -maxdepth 1 -name '*.tmp' | head -5)
if [ -z "$left" ]; then ok; else fail "left behind: $left"; fi

finish
