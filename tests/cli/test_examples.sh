#!/usr/bin/env bash
# The examples of examples/ work as their comments say: the small shop's
# crm.toml loads, the sample data imports into it without a reject, and each
# pipeline of examples/pipelines/ makes what it promises.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

SRC=${CRM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
EXAMPLES="$SRC/examples"

# The scripts call `crm` by name.
mkdir -p "$WORK/bin"
ln -s "$CRM_BIN" "$WORK/bin/crm"
for lib in "$(dirname "$CRM_BIN")"/*.so; do
  [ -e "$lib" ] && ln -s "$lib" "$WORK/bin/"
done
# run SCRIPT ARGS...: runs an example script as a user would, beside crm.toml.
run() {
  # shellcheck disable=SC2086 # EXTRA_ENV holds VAR=value words
  env -i PATH="$WORK/bin:/usr/bin:/bin" HOME="$WORK/home" LC_ALL=C TZ=UTC \
    CRM_NOW=2026-11-22T09:30:00Z ASAN_OPTIONS="$ASAN_OPTIONS" ${EXTRA_ENV:-} \
    sh "$@" >"$WORK/.out" 2>"$WORK/.err" </dev/null
  STATUS=$?
  OUT=$(cat "$WORK/.out")
  ERR=$(cat "$WORK/.err")
}

begin "the small shop's crm.toml is a valid config"
cp "$EXAMPLES/shop.toml" crm.toml
crm config check
expect_status 0

begin "the sample data imports into it without a reject"
if ! command -v python3 >/dev/null; then
  echo "SKIP [$SUITE] python3 is absent: the sample data and pipelines are not tried" >&2
  ok
  finish
  exit
fi
python3 "$EXAMPLES/make-sample-data.py" --out data
crm init -q
expect_status 0
crm contact import data/contacts.csv
expect_status 0
expect_err_contains "rejected 0"
crm journey import data/events.csv
expect_status 0
expect_err_contains "rejected 0"
crm consent import data/consents.csv
expect_status 0
expect_err_contains "rejected 0"
n=$(sqlite3 crm.db "SELECT count(*) FROM contact")
if [ "$n" = 1000 ]; then ok; else fail "$n contacts"; fi

begin "the same arguments make the same sample data"
python3 "$EXAMPLES/make-sample-data.py" --out again
if cmp -s data/events.csv again/events.csv && cmp -s data/contacts.csv again/contacts.csv; then ok; else
  fail "make-sample-data.py is not deterministic"
fi

begin "pipelines/top-customers.sh writes the A customers as CSV, mode 0600"
umask 022
run "$EXAMPLES/pipelines/top-customers.sh" top.csv
expect_status 0
expect_err_contains "A customers in top.csv"
if [ "$(head -n 1 top.csv)" = "external_id,first_name,last_name,company,email,city,country" ]; then ok; else
  fail "header: $(head -n 1 top.csv)"
fi
a=$(sqlite3 crm.db "SELECT count(*) FROM score WHERE model = 'abc' AND label = 'A'")
rows=$(($(wc -l <top.csv) - 1))
if [ "$a" -gt 0 ] && [ "$rows" = "$a" ]; then ok; else fail "$rows rows for $a A customers"; fi
mode=$(stat -c %a top.csv)
if [ "$mode" = 600 ]; then ok; else fail "top.csv mode $mode"; fi

begin "pipelines/consent-coverage-mail.sh hands a mail with the HTML report to the mailer"
EXTRA_ENV="REPORT_TO=dpo@example.com SENDMAIL=cat" run "$EXAMPLES/pipelines/consent-coverage-mail.sh"
expect_status 0
expect_out_contains "To: dpo@example.com"
expect_out_contains "Content-Type: text/html; charset=utf-8"
expect_out_contains "<td>newsletter</td><td>email</td>"
run "$EXAMPLES/pipelines/consent-coverage-mail.sh"
if [ "$STATUS" != 0 ]; then ok; else fail "no REPORT_TO: status 0"; fi
expect_err_contains "set REPORT_TO"

begin "pipelines/journey-map-page.sh writes the last 90 days' map as an HTML page"
run "$EXAMPLES/pipelines/journey-map-page.sh" map.html
expect_status 0
expect_err "journey map since 2026-08-24T09:30:00Z in map.html"
case "$(head -c 15 map.html)" in "<!DOCTYPE html>") ok ;; *) fail "not an HTML page: $(head -c 40 map.html)" ;; esac
for phase in activation information action retention; do
  if grep -q "$phase" map.html; then ok; else fail "map.html lacks phase $phase"; fi
done
if [ ! -e map.html.tmp ]; then ok; else fail "map.html.tmp left behind"; fi

finish
