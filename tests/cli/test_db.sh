#!/usr/bin/env bash
# crm init and crm db: creation, modes, migrations, check, backup, vacuum, stats.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

mode() { stat -c %a "$1"; }

begin "init creates a 0600 database and a starter config that checks clean"
crm init
expect_status 0
expect_err "created config crm.toml
created database crm.db (schema version $SCHEMA)"
if [ "$(mode crm.db)" = 600 ]; then ok; else fail "crm.db has mode $(mode crm.db)"; fi
crm config check
expect_status 0
expect_err "crm.toml: ok"

begin "init is idempotent and keeps an existing config"
echo '# mine' >>crm.toml
cp crm.toml before.toml
crm init
expect_status 0
expect_err "database crm.db is ready (schema version $SCHEMA)"
same_file crm.toml before.toml

begin "init honours --db, even under a permissive umask"
(umask 000 && env -i ASAN_OPTIONS=detect_leaks=0 PATH=/usr/bin:/bin HOME="$WORK/home" "$CRM_BIN" -q --db other.db init)
if [ "$(mode other.db)" = 600 ]; then ok; else fail "other.db has mode $(mode other.db)"; fi

begin "the database path comes from [database].path relative to the config's folder"
mkdir -p proj/sub
printf '[database]\npath = "data/people.db"\n' >proj/crm.toml
mkdir -p proj/data
crm --config proj/crm.toml init
if [ -f proj/data/people.db ]; then ok; else fail "proj/data/people.db not created"; fi
EXTRA_ENV="CRM_CONFIG=proj/crm.toml" crm contact add --email a@example.com
expect_status 0
crm --config proj/crm.toml contact list --fields email --no-header
expect_out "a@example.com"

begin "--db wins over CRM_DB, which wins over the config"
EXTRA_ENV="CRM_DB=other.db" crm --config proj/crm.toml contact list --fields id --no-header
expect_out ""
EXTRA_ENV="CRM_DB=other.db" crm --db proj/data/people.db contact list --fields id --no-header
expect_out "1"

begin "a database readable by others gets a warning"
cp other.db open.db
chmod 644 open.db
crm --db open.db contact list
expect_status 0
expect_err "crm: warning: database 'open.db' is readable by others; it holds personal data (chmod 600 'open.db')"
crm -q --db open.db contact list
expect_err ""

begin "db migrate reports the schema version"
crm db migrate
expect_status 0
expect_err "schema version $SCHEMA (this crm knows up to $SCHEMA)"

begin "an old database is migrated on open"
sqlite3 old.db "PRAGMA user_version = 0" && chmod 600 old.db
crm --db old.db db migrate
expect_status 0
if [ "$(sqlite3 old.db 'PRAGMA user_version')" = "$SCHEMA" ]; then ok; else fail "old.db not migrated"; fi
if [ "$(sqlite3 old.db 'PRAGMA journal_mode')" = wal ]; then ok; else fail "old.db not in WAL mode"; fi

begin "db check passes on a good database"
crm contact add --email b@example.com
crm db check
expect_status 0
expect_out ""

begin "db backup writes a 0600 copy that opens and has the data"
crm db backup backup.db
expect_status 0
if [ "$(mode backup.db)" = 600 ]; then ok; else fail "backup.db has mode $(mode backup.db)"; fi
crm --db backup.db contact list --fields email --no-header
expect_out "b@example.com"
if [ ! -e backup.db-wal ]; then ok; else fail "backup left a WAL file"; fi

begin "db vacuum keeps the data"
crm db vacuum
expect_status 0
crm contact list --fields email --no-header
expect_out "b@example.com"

begin "db stats lists sizes and row counts"
crm db stats -f csv
expect_status 0
expect_out_contains "schema_version,$SCHEMA"
expect_out_contains "rows.contact,1"

finish
