#!/usr/bin/env bash
# The database under faults of its storage: a full disk (a file-size limit,
# and a tiny tmpfs where mounting is allowed), a read-only file and a
# read-only folder (as an unprivileged user), bytes overwritten in the
# header, in a b-tree page and in the middle, and a database from a newer
# crm. Each gives its exit code of SPEC section 3 with a one-line message,
# never a crash, and leaves the database as it was.
# (test_exit_codes.sh has the basic corrupt-header and newer-version cases.)
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

q() { sqlite3 "$1" "$2"; }
SMALL="$WORK/small"
trap 'umount "$SMALL" 2>/dev/null; rm -rf "$WORK"' EXIT

awk 'BEGIN {
  print "email,first_name,last_name,country,city"
  for (i = 1; i <= 2000; i++)
    printf "p%d@example.com,First%d,Last%d,DE,City%d\n", i, i, i, i % 50
}' >people.csv
awk 'BEGIN {
  print "email,first_name,last_name,country,city"
  for (i = 1; i <= 8000; i++)
    printf "big%d@example.com,Big%d,Name%d,FR,Town%d\n", i, i, i, i % 70
}' >big.csv
printf 'email,first_name\nf1@example.com,F\nf2@example.com,G\n' >few.csv
printf 'email,purpose,channel,action,at\np5@example.com,news,email,grant,2026-01-01\n' >grants.csv
cat >crm.toml <<'TOML'
[consent.purposes.news]
channels = ["email"]
double_opt_in = false
[campaigns.mail]
channel = "email"
purpose = "news"
TOML
crm init
crm contact import people.csv -q
expect_status 0
# dump DB: the database's content, to show that nothing changed.
dump() { q "$1" "SELECT count(*), sum(id), group_concat(email, '') FROM contact; SELECT count(*) FROM import_batch"; }
before=$(dump crm.db)

# one_line: stderr is one 'crm: ' line, or that plus one hint line.
one_line() {
  case "$ERR" in
  "crm: "*) ok ;;
  *) fail "stderr is not a 'crm: ' message" ;;
  esac
  if [ "$(printf '%s\n' "$ERR" | wc -l)" -le 2 ]; then ok; else fail "stderr has more than two lines"; fi
}

begin "disk full (file-size limit): import gives 74, one line, and changes nothing"
cp -p crm.db full.db
limit_kb=$(($(stat -c %s full.db) / 1024 + 256))
# A write past RLIMIT_FSIZE fails (EFBIG) instead of raising SIGXFSZ, which
# is ignored here and stays ignored in crm.
(
  trap '' XFSZ
  ulimit -f "$limit_kb"
  crm --db full.db contact import big.csv
  echo "$STATUS" >status.txt
  printf '%s' "$ERR" >err.txt
)
STATUS=$(cat status.txt)
ERR=$(cat err.txt)
expect_status 74
one_line
crm --db full.db db check
expect_status 0
if [ "$(dump full.db)" = "$before" ]; then ok; else fail "full.db changed"; fi
crm --db full.db contact import big.csv -q
expect_status 0

begin "disk full (tmpfs): SQLITE_FULL is 74 'the disk is full', and nothing changes"
mkdir -p "$SMALL"
size_kb=$(($(stat -c %s crm.db) / 1024 + 512))
if mount -t tmpfs -o "size=${size_kb}k" tmpfs "$SMALL" 2>/dev/null; then
  cp -p crm.db "$SMALL/crm.db"
  crm --db "$SMALL/crm.db" contact import big.csv
  expect_status 74
  expect_err_contains "the disk is full"
  one_line
  crm --db "$SMALL/crm.db" db check
  expect_status 0
  if [ "$(dump "$SMALL/crm.db")" = "$before" ]; then ok; else fail "the database on the full disk changed"; fi
  # A small write that fits still works once the big one failed.
  crm --db "$SMALL/crm.db" contact add --email after@example.com
  expect_status 0
  umount "$SMALL"
else
  echo "SKIP [$SUITE] $CASE: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)"
fi

# as_nobody ARGS...: crm as an unprivileged user (root ignores file modes).
NOBODY=""
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups true 2>/dev/null; then
  NOBODY=yes
fi
as_nobody() {
  env -i PATH=/usr/bin:/bin HOME="$WORK/ro" LC_ALL=C TZ=UTC CRM_NOW=2026-11-22T09:30:00Z \
    ASAN_OPTIONS="$ASAN_OPTIONS" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    "$CRM_BIN" "$@" >"$WORK/.out" 2>"$WORK/.err" </dev/null
  STATUS=$?
  OUT=$(cat "$WORK/.out")
  ERR=$(cat "$WORK/.err")
}

begin "a read-only database file: reads work, writes give 74 'read-only'"
if [ -n "$NOBODY" ]; then
  chmod 711 "$WORK"
  mkdir -p ro
  cp -p crm.db ro/crm.db
  chown -R nobody ro
  chmod 400 ro/crm.db
  as_nobody --db ro/crm.db contact list --fields id --no-header -f csv
  expect_status 0
  if [ "$(printf '%s\n' "$OUT" | wc -l)" = 2000 ]; then ok; else fail "read of a read-only file"; fi
  as_nobody --db ro/crm.db contact add --email new@example.com
  expect_status 74
  expect_err_contains "read-only"
  one_line
  as_nobody --db ro/crm.db contact import big.csv
  expect_status 74
  one_line
  if [ "$(dump ro/crm.db)" = "$before" ]; then ok; else fail "the read-only database changed"; fi
else
  echo "SKIP [$SUITE] $CASE: no setpriv or no user nobody to drop root"
fi

begin "a read-only folder: a clear 74, and the database is unchanged"
if [ -n "$NOBODY" ]; then
  mkdir -p rodir
  cp -p crm.db rodir/crm.db
  chown -R nobody rodir
  chmod 500 rodir
  as_nobody --db rodir/crm.db contact add --email new@example.com
  expect_status 74
  one_line
  as_nobody --db rodir/crm.db contact list --fields id --no-header
  case "$STATUS" in 0 | 74) ok ;; *) fail "a read in a read-only folder exited $STATUS" ;; esac
  if [ "$STATUS" -ne 0 ]; then one_line; fi
  chmod 700 rodir
  if [ "$(dump rodir/crm.db)" = "$before" ]; then ok; else fail "the database in the read-only folder changed"; fi
else
  echo "SKIP [$SUITE] $CASE: no setpriv or no user nobody to drop root"
fi

# smash FILE OFFSET COUNT: overwrites COUNT bytes at OFFSET with a fixed pattern.
smash() { head -c "$3" /dev/zero | tr '\0' '\245' | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }

# Every command on a corrupt file: 74 (or 1 from db check, which prints the
# problem), a one-line message, never a crash or an internal error.
survive_all() {
  local db=$1 args
  for args in "contact list" "contact search First1" "contact show 1500" "contact history 7" \
    "export contacts" "export events" "export consents" "export subject 1500" "export report summary" \
    "contact add --email z@example.com" "contact update 1200 --city Bonn" "contact import few.csv" \
    "consent grant 1300 --purpose news --channel email" "consent import grants.csv" \
    "contact erase 1400" "contact dedupe" "journey map" "journey log 3 purchase --amount 5" \
    "score run" "score list rfm" "campaign select mail" "db check" "consent verify" "db stats" \
    "db backup backup-$db" "db vacuum"; do
    # shellcheck disable=SC2086 # args is a word list
    crm --db "$db" $args
    case "$STATUS" in
    0 | 74) ok ;;
    1) case "$args" in "db check" | "consent verify") ok ;; *) fail "$args on $db exited 1" ;; esac ;;
    *) fail "$args on $db exited $STATUS" ;;
    esac
    if [ "$STATUS" -eq 74 ]; then one_line; fi
  done
}

page=$(q crm.db "PRAGMA page_size")
pages=$(q crm.db "PRAGMA page_count")

begin "a corrupt header: every command gives 74"
cp -p crm.db head.db
smash head.db 16 8 # page size, format versions
survive_all head.db
crm --db head.db contact list
expect_status 74

begin "a corrupt b-tree page of the contact table: 74 or a reported problem, never a crash"
root=$(q crm.db "SELECT rootpage FROM sqlite_schema WHERE name = 'contact'")
cp -p crm.db btree.db
smash btree.db $(((root - 1) * page)) 16
survive_all btree.db
crm --db btree.db contact list
expect_status 74
crm --db btree.db db check
case "$STATUS" in 1 | 74) ok ;; *) fail "db check of a corrupt b-tree exited $STATUS" ;; esac

begin "bytes overwritten in the middle of the file and on several leaves: never a crash"
cp -p crm.db middle.db
half=$((pages / 2))
smash middle.db $((half * page + 100)) 512
survive_all middle.db
cp -p crm.db scattered.db
for p in 3 $((pages / 4)) $((pages / 3)) $((pages - 2)); do
  smash scattered.db $(((p - 1) * page + 8 + p % 200)) 64
done
survive_all scattered.db

begin "a database from a newer crm: 78 for writes and migrate too, and it is left alone"
cp -p crm.db newer.db
q newer.db "PRAGMA user_version = 999"
for args in "db migrate" "contact add --email z@example.com" "score run" "db check"; do
  # shellcheck disable=SC2086 # args is a word list
  crm --db newer.db $args
  expect_status 78
  expect_err_contains "was written by a newer crm (schema version 999"
done
if [ "$(q newer.db 'PRAGMA user_version')" = 999 ] && [ "$(dump newer.db)" = "$before" ]; then ok; else
  fail "newer.db was changed"
fi

finish
