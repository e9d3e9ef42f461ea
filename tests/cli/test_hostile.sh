#!/usr/bin/env bash
# Hostile input (issue 11): SQL in filters and import values, control
# characters and invalid UTF-8, 10 MB fields, 100k columns, deeply nested
# filters, reports that try to write, config values of the wrong type. Each
# case checks the exact error, the exit code and that the database is
# unchanged (its full dump hashes the same) where crm refuses.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
crm contact add --email ann@example.com --first-name Ann --country DE
crm contact add --email bob@example.com --first-name Bob --country AT
# The database's content, for "nothing changed".
dump() { sqlite3 crm.db .dump | sha256sum; }
unchanged() {
  if [ "$(dump)" = "$BEFORE" ]; then ok; else fail "the database changed"; fi
}
tables() { sqlite3 crm.db "SELECT count(*) FROM sqlite_master WHERE type = 'table'"; }
TABLES=$(tables)

begin "SQL in a filter string is a plain value"
BEFORE=$(dump)
crm contact list --fields email --no-header --where "first_name = \"'; DROP TABLE contact; --\""
expect_status 0
expect_out ""
unchanged

begin "SQL outside a string in a filter is a syntax error (65), nothing runs"
crm contact list --where "first_name = ''; DROP TABLE contact; --"
expect_status 65
expect_err_contains "crm: bad filter expression: unexpected character ';' at column 16"
unchanged

begin "SQL in a filter's attribute name and function arguments stays data"
crm contact list --fields email --no-header \
  --where "attr.x = \"1) OR 1=1 --\" or has_tag(\"x'); DELETE FROM contact; --\")"
expect_status 0
expect_out ""
unchanged

begin "SQL in import values is stored as given"
printf '%s\n' 'email,first_name,company' \
  "sql@example.com,\"'; DROP TABLE contact; --\",\"Robert'); DELETE FROM contact;--\"" >sql.csv
crm contact import sql.csv
expect_status 0
crm contact show sql@example.com -f json
expect_out_contains "\"first_name\":\"'; DROP TABLE contact; --\""
expect_out_contains "\"company\":\"Robert'); DELETE FROM contact;--\""
if [ "$(tables)" = "$TABLES" ] && [ "$(sqlite3 crm.db 'SELECT count(*) FROM contact')" = 3 ]; then
  ok
else
  fail "tables or contacts lost"
fi

begin "the stored SQL text is found by a filter as plain text"
crm contact list --fields email --no-header --where "first_name = \"'; DROP TABLE contact; --\""
expect_status 0
expect_out "sql@example.com"

begin "control characters and invalid UTF-8 in import values are rejected with the reason"
BEFORE=$(dump)
printf 'email,first_name\nc1@example.com,"x\001y"\nc2@example.com,\377\376\nc3@example.com,"esc\033[31m"\nc4@example.com,"del\177"\n' >ctl.csv
crm contact import ctl.csv --max-rejects 0
expect_status 65
expect_err_contains "crm: line 2: invalid first_name: contains a control character"
unchanged
crm contact import ctl.csv --rejects rejects.csv
expect_status 0
expect_err_contains "rejected 4"
if [ "$(sqlite3 crm.db "SELECT count(*) FROM contact WHERE email LIKE 'c_@example.com'")" = 0 ]; then
  ok
else
  fail "a bad row was stored"
fi
if grep -q "invalid UTF-8 in column 'first_name'" rejects.csv; then ok; else fail "no UTF-8 reason"; fi

begin "tab and newline inside a quoted value are kept as given"
printf 'email,first_name,company\nt@example.com,"tab\there","two\nlines"\n' >ws.csv
crm contact import ws.csv
expect_status 0
if [ "$(sqlite3 crm.db "SELECT hex(company) FROM contact WHERE email = 't@example.com'")" \
  = "74776F0A6C696E6573" ]; then ok; else fail "company not stored as given"; fi

begin "a NUL byte in a json value is rejected"
BEFORE=$(dump)
printf '[{"email": "nul@example.com", "first_name": "a\\u0000b"}]' >nul.json
crm contact import nul.json --max-rejects 0
expect_status 65
expect_err_contains "contains a control character"
unchanged

begin "a 10 MB field imports in one piece"
head -c 10485760 /dev/zero | tr '\0' 'A' >big.txt
{
  printf 'email,first_name,memo\nbig@example.com,Big,'
  cat big.txt
  printf '\n'
} >big.csv
crm contact import big.csv
expect_status 0
if [ "$(sqlite3 crm.db "SELECT length(a.value) FROM contact_attr a JOIN contact c ON c.id = \
  a.contact_id WHERE c.email = 'big@example.com'")" = 10485760 ]; then
  ok
else
  fail "the 10 MB value was not stored whole"
fi

begin "a 120 kB filter string (about what one argument may carry) is a plain value"
BEFORE=$(dump)
crm contact list --fields email --no-header \
  --where "first_name = \"$(head -c 120000 big.txt)\" or email = \"bob@example.com\""
expect_status 0
expect_out "bob@example.com"
unchanged

begin "an unterminated 10 MB quoted field is one reject"
BEFORE=$(dump)
{
  printf 'email,first_name\nq@example.com,"'
  cat big.txt
} >unterminated.csv
crm contact import unterminated.csv --max-rejects 0
expect_status 65
expect_err_contains "unterminated quoted field"
unchanged

begin "100k columns in a header: --strict refuses it (65)"
BEFORE=$(dump)
python3 -c "
import sys
n = 100000
sys.stdout.write('email,' + ','.join('c%d' % i for i in range(n)) + '\n')
sys.stdout.write('wide@example.com,' + ','.join('v' for i in range(n)) + '\n')" >wide.csv
crm contact import wide.csv --strict
expect_status 65
expect_err_contains "crm: unmapped column 'c0'"
unchanged

begin "100k columns in a header: a short row is a reject naming the count"
python3 -c "
import sys
sys.stdout.write('email,' + ','.join('c%d' % i for i in range(100000)) + '\nw@example.com,v\n')" \
  >wide-short.csv
crm contact import wide-short.csv --max-rejects 0
expect_status 65
expect_err_contains "crm: line 2: expected 100001 fields, found 2"
unchanged

begin "100k columns with a full row are read, stored, and a second time unchanged"
python3 -c "
import sys
n = 100000
sys.stdout.write('email,' + ','.join('c%d' % i for i in range(n)) + '\n')
sys.stdout.write('wide@example.com,' + ','.join('v' for i in range(n)) + '\n')" >wide100k.csv
crm --db wide.db init
crm --db wide.db contact import wide100k.csv
expect_status 0
expect_err_contains "inserted 1"
if [ "$(sqlite3 wide.db "SELECT count(*) FROM contact_attr")" = 100000 ]; then ok; else fail "attributes lost"; fi
crm --db wide.db contact import wide100k.csv
expect_err_contains "unchanged 1"

nest() { python3 -c "import sys; n = int(sys.argv[1]); print('(' * n + 'country = \"DE\"' + ')' * n)" "$1"; }

begin "100 nested parentheses are allowed"
crm contact list --fields email --no-header --where "$(nest 99)"
expect_status 0
expect_out "ann@example.com"

begin "101 nested parentheses are 65 with the limit"
crm contact list --where "$(nest 101)"
expect_status 65
expect_err_contains "crm: bad filter expression: expression nested deeper than 100 levels at column 101"

begin "100k '(' are 65, not a stack overflow"
BEFORE=$(dump)
crm contact list --where "$(python3 -c "print('(' * 100000)")"
expect_status 65
expect_err_contains "expression nested deeper than 100 levels"
unchanged

begin "30k 'not' are 65, not a stack overflow"
crm contact list --where "$(python3 -c "print('not ' * 30000 + 'country = \"DE\"')")"
expect_status 65
expect_err_contains "expression nested deeper than 100 levels"

begin "a chain of 6000 'or' terms runs (no SQLite depth error)"
crm contact list --fields email --no-header \
  --where "$(python3 -c "print(' or '.join(['country = \"XX\"'] * 6000) + ' or country = \"AT\"')")"
expect_status 0
expect_out "bob@example.com"

# Reports from the config that try to write: refused with 78 naming the key.
cat >crm.toml <<'TOML'
[reports.wipe]
sql = "DELETE FROM contact"
[reports.drop]
sql = "DROP TABLE contact"
[reports.two]
sql = "SELECT 1; DELETE FROM contact"
[reports.attach]
sql = "ATTACH DATABASE 'other.db' AS other"
[reports.pragma]
sql = "PRAGMA writable_schema = 1"
[reports.cte]
sql = "WITH x AS (SELECT 1) INSERT INTO contact_tag SELECT 1, 'x'"
[reports.count]
sql = "SELECT count(*) AS n FROM contact"
TOML
BEFORE=$(dump)
for r in wipe:"report 'wipe' would change data; it may only read" \
  drop:"report 'drop' would change data; it may only read" \
  two:"report 'two' must be one statement" \
  attach:"report 'attach': not authorized" \
  pragma:"report 'pragma': not authorized" \
  cte:"report 'cte' would change data; it may only read"; do
  name=${r%%:*}
  begin "report '$name' that tries to write is refused (78)"
  crm export report "$name"
  expect_status 78
  expect_err_contains "crm: ${r#*:}"
  # the key with its line: the sql line follows its [reports.NAME] header
  line=$(($(grep -n "^\[reports.$name\]" crm.toml | cut -d: -f1) + 1))
  expect_err_contains "crm.toml:$line: reports.$name.sql"
  unchanged
done
if [ ! -e other.db ]; then ok; else fail "ATTACH created a file"; fi

begin "a reading report still runs"
crm export report count -f tsv --no-header
expect_status 0
expect_out "5"

# Config values of the wrong type: 78 naming file:line:col and the key.
rm crm.toml
for c in 'database.busy_timeout_ms|[database]\nbusy_timeout_ms = "5000"|2:19|expected an integer, got a string' \
  'defaults.country|[defaults]\ncountry = 49|2:11|expected a string, got an integer' \
  'journey.strict|[journey]\nstrict = "yes"|2:10|expected a boolean, got a string' \
  'owners.anna.capacity|[owners.anna]\ncapacity = 1.5|2:12|expected an integer, got a float' \
  'consent.purposes.newsletter.channels|[consent.purposes.newsletter]\nchannels = "email"|2:12|expected an array of strings, got a string' \
  'pressure.max|[pressure]\nmax = 3|2:7|expected a string, got an integer' \
  'reports.x.sql|[reports.x]\nsql = 1|2:7|expected a string, got an integer'; do
  IFS='|' read -r key body pos why <<<"$c"
  begin "config: $key of the wrong type is 78"
  printf '%b\n' "$body" >bad.toml
  crm --config bad.toml contact list
  expect_status 78
  expect_err "crm: bad.toml:$pos: key '$key': $why"
  unchanged
done

begin "the database is intact after all of it"
crm db check
expect_status 0

finish
