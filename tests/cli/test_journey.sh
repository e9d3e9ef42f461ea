#!/usr/bin/env bash
# crm journey: the event table of the schema contract, its identity index and
# its place among personal data (delete and merge take a contact's events).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
crm contact add --first-name Ada --email ada@example.org
crm contact add --first-name Bo --email bo@example.org

begin "the event table has the contract's columns"
cols=$(sqlite3 crm.db "SELECT group_concat(name, ',') FROM pragma_table_info('event')")
if [ "$cols" = "id,contact_id,touchpoint,channel,phase,at,amount,rating,campaign,attrs,batch_id" ]; then
  ok
else
  fail "columns: $cols"
fi

begin "the same event twice is one event"
sqlite3 crm.db "INSERT OR IGNORE INTO event (contact_id, touchpoint, channel, phase, at)
  VALUES (1, 'page_view', 'web', 'information', '2026-03-01T10:00:00Z'),
         (1, 'page_view', 'web', 'information', '2026-03-01T10:00:00Z'),
         (1, 'page_view', NULL, NULL, '2026-03-02T10:00:00Z'),
         (1, 'page_view', NULL, NULL, '2026-03-02T10:00:00Z'),
         (2, 'purchase', 'shop', 'action', '2026-03-03T10:00:00Z');"
n=$(sqlite3 crm.db "SELECT count(*) FROM event")
if [ "$n" = 3 ]; then ok; else fail "events: $n"; fi

begin "a rating outside 0-10 is refused by the table"
if sqlite3 crm.db "INSERT INTO event (contact_id, touchpoint, at, rating)
     VALUES (1, 'survey', '2026-03-04T10:00:00Z', 11)" 2>/dev/null; then
  fail "rating 11 stored"
else
  ok
fi

begin "deleting a contact deletes its events"
crm contact delete 2 --force
expect_status 0
n=$(sqlite3 crm.db "SELECT count(*) FROM event WHERE contact_id = 2")
if [ "$n" = 0 ]; then ok; else fail "events left: $n"; fi

finish
