# Shared helpers of the CLI suites: each suite sources this file, runs the
# real binary in a fresh temp dir with a clean environment, and compares
# stdout with golden files (UPDATE_GOLDEN=1 rewrites them).
# shellcheck shell=bash

set -u

: "${CRM_BIN:?CRM_BIN must name the crm binary}"
SUITE=$(basename "$0" .sh)
GOLDEN_DIR="$(cd "$(dirname "$0")" && pwd)/golden/$SUITE"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
mkdir -p home/.config
# The schema version this crm creates, read from a scratch database, so the
# suites need no change when a migration is added.
mkdir "$WORK/.schema"
(cd "$WORK/.schema" && "$CRM_BIN" -q --db v.db init >/dev/null 2>&1)
SCHEMA=$(sqlite3 "$WORK/.schema/v.db" 'PRAGMA user_version')
rm -rf "$WORK/.schema"
export SCHEMA
# In the sanitizer build, LeakSanitizer's stop-the-world tracer now and then
# crashes at exit ("Tracer caught signal 11") on this kernel, turning a good
# run into exit 1 (a CI run failed on it once in ~3000 invocations). The
# suites run the binary with leak checking off; ASan and UBSan stay on, and
# the unit tests (same core code, in process) keep detect_leaks=1.
export ASAN_OPTIONS=detect_leaks=0
FAILURES=0
PASSES=0
CASE=""

# crm ARGS...: runs crm in the clean environment; sets STATUS, OUT, ERR.
crm() {
  # shellcheck disable=SC2086 # EXTRA_ENV holds VAR=value words
  env -i PATH=/usr/bin:/bin HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" \
    LC_ALL=C TZ=UTC CRM_NOW="${TEST_NOW:-2026-11-22T09:30:00Z}" ASAN_OPTIONS="$ASAN_OPTIONS" ${EXTRA_ENV:-} \
    "$CRM_BIN" "$@" >"$WORK/.out" 2>"$WORK/.err" <"${STDIN_FILE:-/dev/null}"
  STATUS=$?
  OUT=$(cat "$WORK/.out")
  ERR=$(cat "$WORK/.err")
}

# crm_in TEXT ARGS...: like crm, with TEXT on stdin.
crm_in() {
  local input=$1
  shift
  printf '%s' "$input" >"$WORK/.in"
  STDIN_FILE="$WORK/.in" crm "$@"
}

begin() { CASE=$1; }

fail() {
  echo "FAIL [$SUITE] $CASE: $*" >&2
  echo "  exit: $STATUS" >&2
  echo "  stdout: $(head -c 2000 "$WORK/.out")" >&2
  echo "  stderr: $(head -c 2000 "$WORK/.err")" >&2
  FAILURES=$((FAILURES + 1))
}

ok() { PASSES=$((PASSES + 1)); }

expect_status() {
  if [ "$STATUS" -eq "$1" ]; then ok; else fail "expected exit $1"; fi
}

expect_out() {
  if [ "$OUT" = "$1" ]; then ok; else fail "expected stdout: $1"; fi
}

expect_err() {
  if [ "$ERR" = "$1" ]; then ok; else fail "expected stderr: $1"; fi
}

expect_err_contains() {
  case "$ERR" in *"$1"*) ok ;; *) fail "expected stderr to contain: $1" ;; esac
}

expect_out_contains() {
  case "$OUT" in *"$1"*) ok ;; *) fail "expected stdout to contain: $1" ;; esac
}

# golden NAME: stdout must equal golden/SUITE/NAME.
golden() {
  local file="$GOLDEN_DIR/$1"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    mkdir -p "$GOLDEN_DIR"
    cp "$WORK/.out" "$file"
    ok
  elif [ ! -f "$file" ]; then
    fail "no golden file $file (run with UPDATE_GOLDEN=1)"
  elif cmp -s "$WORK/.out" "$file"; then
    ok
  else
    fail "stdout differs from $file: $(diff "$file" "$WORK/.out" | head -20)"
  fi
}

# same_file A B: two files have the same bytes.
same_file() {
  if cmp -s "$1" "$2"; then ok; else fail "$1 and $2 differ"; fi
}

finish() {
  echo "$PASSES passed, $FAILURES failed"
  [ "$FAILURES" -eq 0 ]
}
