#!/usr/bin/env bash
# The consent ledger (crm consent), erasure (crm contact erase) and the
# privacy invariants of SPEC.md section 7 that they carry.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
cat >crm.toml <<'TOML'
[consent.purposes.newsletter]
channels = ["email", "sms"]
double_opt_in = true
confirm_within = "7d"
valid_for = "24mo"
[consent.purposes.calls]
channels = ["phone"]
[consent.purposes.profiling]
channels = []
TOML
crm contact add --email ann@example.com --first-name Ann --phone 030123456
crm contact add --email bob@example.com --first-name Bob
crm contact add --email cid@example.com --first-name Cid
ledger() { sqlite3 crm.db "SELECT count(*) FROM consent"; }

begin "consent import and journey import refuse a vCard (64) and record nothing"
printf 'BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEMAIL:ann@example.com\nEND:VCARD\n' >people.vcf
state=$(sqlite3 crm.db .dump)
crm consent import people.vcf
expect_status 64
expect_err "crm: consent import: ledger entries are csv, tsv, json or ndjson, not vCard"
STDIN_FILE=people.vcf crm journey import -
expect_status 64
expect_err "crm: journey import: events are csv, tsv, json or ndjson, not vCard"
if [ "$(sqlite3 crm.db .dump)" = "$state" ]; then ok; else fail "the database changed"; fi

begin "an unknown purpose is 2 and records nothing"
crm consent grant 1 --purpose nosuch --proof x
expect_status 2
expect_err_contains "crm: unknown purpose 'nosuch'"
if [ "$(ledger)" = 0 ]; then ok; else fail "ledger changed"; fi

begin "an unknown channel is 2"
crm consent grant 1 --purpose newsletter --channel fax --proof x
expect_status 2
expect_err_contains "crm: unknown channel 'fax' for purpose 'newsletter'"

begin "a channel on a purpose without channels is 2"
crm consent grant 1 --purpose profiling --channel email
expect_status 2

begin "grant on a double opt-in purpose without proof is 65 with a hint"
crm consent grant 1 --purpose newsletter --channel email
expect_status 65
expect_err_contains "needs double opt-in"
expect_err_contains "crm consent request"
if [ "$(ledger)" = 0 ]; then ok; else fail "ledger changed"; fi

begin "a bad --at is 65"
crm consent grant 1 --purpose calls --at yesterday
expect_status 65

begin "check answers by exit status: no consent yet"
crm consent check 1 --purpose newsletter --channel email
expect_status 1
expect_out ""

begin "grant with proof, back-dated; check says yes"
crm consent grant 1 --purpose newsletter --channel email --proof "form v3, 203.0.113.7" \
  --source "fair 2026" --at 2026-01-10T12:00:00Z
expect_status 0
crm consent check 1 --purpose newsletter --channel email
expect_status 0
crm consent check 1 --purpose newsletter
expect_status 0
crm consent check 1 --purpose newsletter --channel sms
expect_status 1

begin "the same entry twice is recorded once"
crm consent grant 1 --purpose newsletter --channel email --proof "form v3, 203.0.113.7" \
  --source "fair 2026" --at 2026-01-10T12:00:00Z
expect_status 0
expect_err_contains "already in the ledger"
if [ "$(ledger)" = 1 ]; then ok; else fail "ledger has $(ledger) entries"; fi

begin "show: the state per purpose and channel"
crm consent show 1 -f tsv
expect_status 0
expect_out "contact_id	purpose	channel	state	since	until	source
1	calls	phone	none			
1	newsletter	email	granted	2026-01-10T12:00:00Z	2028-01-10T12:00:00Z	fair 2026
1	newsletter	sms	none			
1	profiling		none			"

begin "expiry is computed when read: valid_for 24mo"
TEST_NOW=2028-02-01T00:00:00Z crm consent check 1 --purpose newsletter --channel email
expect_status 1
TEST_NOW=2028-02-01T00:00:00Z crm consent show 1 -f csv
expect_out_contains "newsletter,email,expired,2026-01-10T12:00:00Z,2028-01-10T12:00:00Z"

begin "withdraw without channel applies to every channel of the purpose"
crm consent withdraw 1 --purpose newsletter
expect_status 0
crm consent check 1 --purpose newsletter --channel email
expect_status 1

begin "a back-dated grant before the withdrawal does not win: times decide"
crm consent grant 1 --purpose newsletter --channel email --proof p2 --at 2026-02-01
crm consent check 1 --purpose newsletter --channel email
expect_status 1

begin "grant, withdraw, grant again: check follows each step"
crm consent grant 2 --purpose calls --channel phone --at 2026-03-01
crm consent check 2 --purpose calls --channel phone
expect_status 0
crm consent withdraw 2 --purpose calls --channel phone --at 2026-04-01
crm consent check 2 --purpose calls --channel phone
expect_status 1
crm consent show 2 -f csv
expect_out_contains "calls,phone,withdrawn,2026-04-01T00:00:00Z"
crm consent grant 2 --purpose calls --channel phone --at 2026-05-01
crm consent check 2 --purpose calls --channel phone
expect_status 0
crm consent show 2 -f csv
expect_out_contains "calls,phone,granted,2026-05-01T00:00:00Z"

begin "double opt-in: request prints a token, unconfirmed is no, confirm makes it yes"
crm consent request 2 --purpose newsletter --channel email
expect_status 0
token=$OUT
if [[ $token =~ ^[0-9a-f]{32}$ ]]; then ok; else fail "token: $token"; fi
crm consent check 2 --purpose newsletter --channel email
expect_status 1
crm consent show 2 -f csv
expect_out_contains "newsletter,email,pending,2026-11-22T09:30:00Z,2026-11-29T09:30:00Z"
crm consent confirm "$token"
expect_status 0
crm consent check 2 --purpose newsletter --channel email
expect_status 0
crm consent confirm "$token"
expect_status 0
expect_err_contains "already confirmed"

begin "the token is not stored, only its hash"
n=$(sqlite3 crm.db "SELECT count(*) FROM consent WHERE token = '$token' OR proof LIKE '%$token%'")
if [ "$n" = 0 ]; then ok; else fail "token stored in clear"; fi

begin "a request not confirmed within confirm_within is void"
crm consent request 3 --purpose newsletter --channel sms
token3=$OUT
TEST_NOW=2026-12-01T09:30:00Z crm consent confirm "$token3"
expect_status 65
expect_err_contains "is void"
TEST_NOW=2026-12-01T09:30:00Z crm consent show 3 -f csv
expect_out_contains "newsletter,sms,void"

begin "an unknown token is 2"
crm consent confirm 00000000000000000000000000000000
expect_status 2

begin "object without purpose applies to every purpose"
crm consent grant 3 --purpose calls --channel phone
crm consent check 3 --purpose calls
expect_status 0
crm consent object 3
expect_status 0
crm consent check 3 --purpose calls
expect_status 1
crm consent check 3 --purpose profiling
expect_status 1

begin "check - prints ref<TAB>yes|no and exits 0 only if all are yes"
crm_in "$(printf '1\n2\nbob@example.com\n')" consent check - --purpose newsletter --channel email
expect_status 1
expect_out "1	no
2	yes
bob@example.com	yes"
crm_in "$(printf '2\n')" consent check - --purpose newsletter --channel email
expect_status 0

begin "check of an unknown contact is 2"
crm consent check 99 --purpose calls
expect_status 2

begin "bulk grant from stdin is one transaction: an unknown ref changes nothing"
before=$(ledger)
crm_in "$(printf '1\n42\n')" consent grant - --purpose calls --channel phone
expect_status 2
if [ "$(ledger)" = "$before" ]; then ok; else fail "ledger changed"; fi

begin "the filter language: consent(purpose[, channel])"
crm contact list --where 'consent("newsletter", "email")' --fields id --no-header
expect_status 0
expect_out "2"
crm contact list --where 'not consent("calls")' --fields id --no-header
expect_out "1
3"

begin "every consent change is in the contact's history"
crm contact history 2 -f tsv --fields action
expect_out_contains "consent.request"
expect_out_contains "consent.confirm"

begin "history: the ledger of a contact with proof and digest"
crm consent history 1 -f csv --fields id,action,proof
expect_status 0
case "$OUT" in *"1,1,newsletter,email,grant,2026-01-10T12:00:00Z,fair 2026,\"form v3, 203.0.113.7\""*) ok ;; *) fail "history: $OUT" ;; esac

begin "verify: the chain verifies"
crm consent verify
expect_status 0
expect_out ""
expect_err_contains "consent ledger ok"

begin "the ledger refuses UPDATE and DELETE"
if sqlite3 crm.db "UPDATE consent SET proof = 'forged' WHERE id = 1" 2>/dev/null; then
  fail "update allowed"
else ok; fi
if sqlite3 crm.db "DELETE FROM consent WHERE id = 1" 2>/dev/null; then
  fail "delete allowed"
else ok; fi

begin "verify names the first entry that was changed"
cp crm.db forged.db
sqlite3 forged.db "DROP TRIGGER consent_no_update; UPDATE consent SET at = '2020-01-01T00:00:00Z' WHERE id = 3"
crm --db forged.db consent verify
expect_status 1
expect_out "entry 3: its content does not match its digest (changed)"

begin "verify notices a removed entry"
cp crm.db cut.db
sqlite3 cut.db "DROP TRIGGER consent_no_delete; DELETE FROM consent WHERE id = 2"
crm --db cut.db consent verify
expect_status 1
expect_out_contains "entry 3: the chain is broken"

begin "verify notices entries removed from the end"
cp crm.db tail.db
sqlite3 tail.db "DROP TRIGGER consent_no_delete; DELETE FROM consent WHERE id = (SELECT max(id) FROM consent)"
crm --db tail.db consent verify
expect_status 1
expect_out_contains "entries removed from the end"

begin "delete refuses a contact with consent entries, --force blanks them"
crm contact delete 3
expect_status 65
crm contact delete 3 --force
expect_status 0
n=$(sqlite3 crm.db "SELECT count(*) FROM consent WHERE contact_id = 3 OR (erased_at IS NOT NULL AND proof IS NOT NULL)")
if [ "$n" = 0 ]; then ok; else fail "$n entries left"; fi
crm consent verify
expect_status 0

begin "merge: a withdrawal on either side wins"
crm contact add --email dee@example.com
crm contact add --email dee2@example.com
crm consent grant 5 --purpose calls --channel phone --at 2026-01-01
crm consent withdraw 5 --purpose calls --at 2026-02-01
crm consent grant 4 --purpose calls --channel phone --at 2026-03-01
crm consent check 4 --purpose calls
expect_status 0
crm contact merge 4 5
expect_status 0
crm consent check 4 --purpose calls
expect_status 1
crm consent verify
expect_status 0

begin "merge: the duplicate's grants move to the survivor"
crm contact add --email eve@example.com
crm contact add --email eve2@example.com
crm consent grant 7 --purpose calls --channel phone
crm contact merge 6 7
crm consent check 6 --purpose calls
expect_status 0

begin "erase: the person is gone everywhere, a tombstone stays, the chain verifies"
crm contact add --email zed.zebra@example.com --first-name Zedekiah --last-name Zebrowski \
  --phone 030999888 --city Quedlinburg
zid=$OUT
crm contact note "$zid" "prefers xylophones"
crm consent grant "$zid" --purpose profiling --source "kiosk 7"
crm contact erase zed.zebra@example.com
expect_status 0
expect_out "$zid"
crm contact show "$zid"
expect_status 2
crm consent verify
expect_status 0
n=$(sqlite3 crm.db "SELECT count(*) FROM erasure")
if [ "$n" = 1 ]; then ok; else fail "tombstones: $n"; fi
n=$(sqlite3 crm.db "SELECT count(*) FROM history WHERE contact_id = $zid")
if [ "$n" = 0 ]; then ok; else fail "history left"; fi

begin "erase: export subject by the old email finds nothing"
crm export subject zed.zebra@example.com
expect_status 2
expect_out ""

begin "erase: no byte of the person remains in the file after db vacuum"
crm db vacuum
expect_status 0
found=""
for w in Zedekiah Zebrowski zebra Quedlinburg xylophones "kiosk 7" 4930999888; do
  if cat crm.db crm.db-wal 2>/dev/null | grep -aq "$w"; then found="$found $w"; fi
done
if [ -z "$found" ]; then ok; else fail "still in the file:$found"; fi

begin "erase: the tombstone is an HMAC, not the email"
n=$(sqlite3 crm.db "SELECT count(*) FROM erasure WHERE email_hmac LIKE '%zebra%' OR length(email_hmac) != 64")
if [ "$n" = 0 ]; then ok; else fail "tombstone holds the email"; fi

begin "an erased email or phone is refused on add, update and import"
crm contact add --email ZED.zebra@example.com
expect_status 65
expect_err_contains "erased (suppressed)"
crm contact add --phone "+49 30 999888"
expect_status 65
crm contact update 1 --email zed.zebra@example.com
expect_status 65
printf 'email,first_name\nzed.zebra@example.com,Z\nnew@example.com,N\n' >in.csv
crm contact import in.csv --rejects rejects.csv
expect_status 0
expect_err_contains "rejected 1"
if grep -q 'erased (suppressed)' rejects.csv; then ok; else fail "rejects: $(cat rejects.csv)"; fi

begin "consent check of an erased person's email answers no, not unknown"
crm consent check zed.zebra@example.com --purpose profiling
expect_status 1

begin "--allow-erased lets them in again"
crm contact add --email zed.zebra@example.com --allow-erased
expect_status 0

begin "consent import: entries by email, external id or id; bad rows rejected; idempotent"
crm contact update 1 --external-id CRM-1
cat >entries.csv <<'CSV'
email,purpose,channel,action,at,source,proof
bob@example.com,calls,phone,grant,2026-05-01T10:00:00Z,web,form 9
bob@example.com,newsletter,fax,grant,2026-05-01T10:00:00Z,web,form 9
ghost@example.com,calls,phone,grant,2026-05-01T10:00:00Z,web,form 9
bob@example.com,calls,phone,shout,2026-05-01T10:00:00Z,web,form 9
bob@example.com,calls,phone,withdraw,yesterday,web,
bob@example.com,newsletter,email,grant,2026-05-01T10:00:00Z,web,
bob@example.com,nosuch,,grant,2026-05-01T10:00:00Z,web,x
CSV
before=$(ledger)
crm consent import entries.csv --rejects rej.csv
expect_status 0
expect_err "added 1, unchanged 0, rejected 6 (see rej.csv)"
if [ "$(ledger)" = $((before + 1)) ]; then ok; else fail "ledger: $before -> $(ledger)"; fi
if [ "$(stat -c %a rej.csv)" = 600 ]; then ok; else fail "rejects file mode $(stat -c %a rej.csv)"; fi
expect_reason() {
  if grep -qF -- "$1" rej.csv; then ok; else fail "rejects lack: $1 ($(cat rej.csv))"; fi
}
expect_reason ",3,unknown channel 'fax' for purpose 'newsletter'"
expect_reason ",4,no contact 'ghost@example.com'"
expect_reason ",5,\"unknown action 'shout'"
expect_reason ",6,invalid time 'yesterday'"
expect_reason ",7,purpose 'newsletter' needs double opt-in: a grant needs --proof"
expect_reason ",8,unknown purpose 'nosuch'"
crm consent import entries.csv -q
expect_status 0
if [ "$(ledger)" = $((before + 1)) ]; then ok; else fail "second import added entries"; fi

begin "consent import --max-rejects aborts with 65 and records nothing"
printf 'external_id,purpose,channel,action,at\nCRM-1,calls,phone,withdraw,2026-06-01\nCRM-1,nosuch,,grant,2026-06-01\n' >two.csv
before=$(ledger)
crm consent import two.csv --max-rejects 0
expect_status 65
if [ "$(ledger)" = "$before" ]; then ok; else fail "ledger changed"; fi

begin "consent import --dry-run counts and records nothing"
crm consent import two.csv --dry-run
expect_status 0
expect_err_contains "dry run: added 1, unchanged 0, rejected 1"
if [ "$(ledger)" = "$before" ]; then ok; else fail "ledger changed"; fi

begin "consent import from stdin as ndjson"
crm_in '{"contact_id":1,"purpose":"calls","channel":"phone","action":"withdraw","at":"2026-06-02T00:00:00Z"}' consent import -
expect_status 0
expect_err "added 1, unchanged 0, rejected 0"
crm consent check 1 --purpose calls
expect_status 1

begin "consent import without a contact column is 65"
printf 'purpose,action\ncalls,grant\n' >nocontact.csv
crm consent import nocontact.csv
expect_status 65
expect_err_contains "names no contact"

begin "consent import of a missing file is 66"
crm consent import nosuch.csv
expect_status 66

begin "export subject: one JSON document with everything about the person"
crm consent grant bob@example.com --purpose calls --channel phone --proof "call 2026-11-01"
crm contact note bob@example.com "asked for a callback"
crm export subject bob@example.com
expect_status 0
printf '%s' "$OUT" >subject.json
if python3 - subject.json crm.db <<'PY'
import json, sqlite3, sys
doc = json.load(open(sys.argv[1]))
assert doc["generated_at"] == "2026-11-22T09:30:00Z", doc["generated_at"]
assert doc["contact"]["email"] == "bob@example.com"
assert "contact management" in doc["processed_for"] and "calls" in doc["processed_for"]
assert any(p["purpose"] == "calls" and p["state"] == "granted" for p in doc["purposes"])
assert any(n["body"] == "asked for a callback" for n in doc["data"]["note"])
assert any(e["proof"] == "call 2026-11-01" for e in doc["data"]["consent"])
# every table with a contact column is in the document
db = sqlite3.connect(sys.argv[2])
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
for t in tables:
    cols = [r[1] for r in db.execute(f"PRAGMA table_info('{t}')")]
    if any(c in ("contact_id", "contact_a", "contact_b") for c in cols):
        assert t in doc["data"], f"table {t} missing from the subject document"
PY
then ok; else fail "subject document: $(head -c 600 subject.json)"; fi

begin "export subject -o FILE is 0600; an unknown contact is 2"
crm export subject bob@example.com -o subject-out.json
expect_status 0
if [ "$(stat -c %a subject-out.json)" = 600 ]; then ok; else fail "mode $(stat -c %a subject-out.json)"; fi
crm export subject nobody@example.com
expect_status 2

begin "purge: lists, then with --apply erases, who the [retention] rule selects"
mkdir purge && cd purge || exit 1
TEST_NOW=2020-01-01T00:00:00Z crm init -q
printf '[retention]\ninactive_for = "36mo"\n[consent.purposes.calls]\nchannels = ["phone"]\n' >crm.toml
for who in old granted recent active; do
  TEST_NOW=2020-01-01T00:00:00Z crm contact add --email "$who@example.com"
done
TEST_NOW=2020-01-01T00:00:00Z crm consent grant granted@example.com --purpose calls
TEST_NOW=2024-06-01T00:00:00Z crm consent withdraw recent@example.com --purpose calls
sqlite3 crm.db "INSERT INTO event (contact_id, touchpoint, at) VALUES (4, 'page_view', '2024-10-01T00:00:00Z')"
TEST_NOW=2025-01-01T00:00:00Z crm contact purge
expect_status 0
expect_out "1"
expect_err "1 contact inactive for 36mo; --apply erases them"
TEST_NOW=2025-01-01T00:00:00Z crm contact purge --apply
expect_status 0
expect_out "1"
n=$(sqlite3 crm.db "SELECT group_concat(id) FROM contact")
if [ "$n" = "2,3,4" ]; then ok; else fail "left: $n"; fi
n=$(sqlite3 crm.db "SELECT count(*) FROM erasure")
if [ "$n" = 1 ]; then ok; else fail "tombstones: $n"; fi
printf '[consent.purposes.calls]\nchannels = ["phone"]\n' >crm.toml
crm contact purge
expect_status 78
expect_err_contains "[retention].inactive_for is not set"
cd .. || exit 1

begin "erase of an unknown contact is 2"
crm contact erase 999
expect_status 2

finish
