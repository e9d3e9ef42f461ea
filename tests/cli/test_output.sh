#!/usr/bin/env bash
# Output formats, --fields, --no-header, the default format and golden files.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
crm contact add --first-name 'Anna "Nan"' --last-name 'Müller, Jr.' --email anna@example.com \
  --country DE --city Berlin --attr industry=retail --attr note=$'a\tb' --tag vip --tag b2b
crm contact add --first-name 山田 --last-name 太郎 --email yamada@example.jp --country JP \
  --company $'Line1\nLine2' --tag newsletter
crm contact add --first-name Ζωή --email zoe@example.gr --country GR --street 'C:\\path'

for f in csv tsv json ndjson table; do
  begin "contact list -f $f"
  crm contact list -f "$f" --fields 'id,first_name,last_name,company,street,country,tags,attr.*'
  expect_status 0
  golden "list.$f"
done

begin "without --format and not on a terminal: tsv with a header"
crm contact list --fields id,email
expect_out $'id\temail\n1\tanna@example.com\n2\tyamada@example.jp\n3\tzoe@example.gr'

begin "CRM_FORMAT overrides the default; --format overrides CRM_FORMAT"
EXTRA_ENV="CRM_FORMAT=csv" crm contact list --fields id,email --limit 1
expect_out $'id,email\n1,anna@example.com'
EXTRA_ENV="CRM_FORMAT=csv" crm contact list --fields id,email --limit 1 -f ndjson
expect_out '{"id":1,"email":"anna@example.com"}'

begin "on a terminal the default is table, or [defaults].format"
if command -v script >/dev/null; then
  env -i ASAN_OPTIONS=detect_leaks=0 PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C TERM=dumb \
    script -qec "$CRM_BIN contact list --fields id,email --limit 1" /dev/null >"$WORK/.tty"
  out=$(tr -d '\r' <"$WORK/.tty")
  if [ "$out" = $'id  email\n 1  anna@example.com' ]; then ok; else fail "table on a terminal: $out"; fi
  printf '[defaults]\nformat = "json"\n' >crm.toml
  env -i ASAN_OPTIONS=detect_leaks=0 PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C TERM=dumb \
    script -qec "$CRM_BIN contact list --fields id --limit 1" /dev/null >"$WORK/.tty"
  out=$(tr -d '\r' <"$WORK/.tty")
  if [ "$out" = $'[\n{"id":1}\n]' ]; then ok; else fail "[defaults].format on a terminal: $out"; fi
  crm contact list --fields id --limit 1
  expect_out $'id\n1'
  rm crm.toml
else
  echo "skip: script(1) not installed, cannot test terminal output" >&2
fi

begin "--no-header"
crm contact list --fields id,country --no-header -f csv
expect_out $'1,DE\n2,JP\n3,GR'

begin "global options go before or after the command"
crm -f csv --fields id contact list --limit 1
expect_out $'id\n1'
crm contact list --limit 1 -f csv --fields id
expect_out $'id\n1'

begin "--fields with an unknown field is a usage error"
crm contact list --fields id,colour
expect_status 64
expect_err "crm: unknown field 'colour'
'--fields help' lists the fields"

begin "null is empty in csv and null in json"
crm contact list --fields id,birthdate -f csv --limit 1
expect_out $'id,birthdate\n1,'
crm contact list --fields id,birthdate -f json --limit 1
expect_out $'[\n{"id":1,"birthdate":null}\n]'

begin "--color always bolds the table header; NO_COLOR wins"
crm contact list --fields id --limit 1 -f table --color always
expect_out $'\e[1mid\e[0m\n 1'
EXTRA_ENV="NO_COLOR=1" crm contact list --fields id --limit 1 -f table --color always
expect_out $'id\n 1'

begin "help and version everywhere"
crm --help
expect_status 0
expect_out_contains "contact"
crm contact list --help
expect_status 0
expect_out_contains "--where"
crm help contact add
expect_status 0
expect_out_contains "--email"
crm contact add -V
expect_status 0
expect_out "$("$CRM_BIN" --version)"

finish
