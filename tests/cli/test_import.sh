#!/usr/bin/env bash
# crm contact import: formats, encodings, mapping, keys, rejects, dry run, batches.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
dump() { sqlite3 crm.db "SELECT id, external_id, email, phone, first_name, last_name, country FROM contact ORDER BY id"; }

begin "csv with a UTF-8 BOM, CRLF and ; (German Excel)"
printf '\xef\xbb\xbfVorname;Nachname;E-Mail;Telefon;Land;PLZ\r\nAnna;M\xc3\xbcller;anna@example.com;030 1234567;de;10115\r\nJ\xc3\xb6rg;Gr\xc3\xb6\xc3\x9f;joerg@example.de;;DE;80331\r\n' >excel.csv
crm contact import excel.csv
expect_status 0
expect_out ""
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; batch 1"
crm contact list --fields id,first_name,last_name,email,phone,country,postcode -f csv
expect_out 'id,first_name,last_name,email,phone,country,postcode
1,Anna,Müller,anna@example.com,+49301234567,DE,10115
2,Jörg,Größ,joerg@example.de,,DE,80331'

begin "the same file again changes nothing, not even the history"
history=$(sqlite3 crm.db "SELECT count(*) FROM history")
crm contact import excel.csv
expect_err "inserted 0, updated 0, unchanged 2, rejected 0; batch 2"
if [ "$(sqlite3 crm.db "SELECT count(*) FROM history")" = "$history" ]; then ok; else fail "history grew"; fi

begin "cp1252 with --encoding"
printf 'first_name,last_name,email\nRen\xe9,K\xf6nig,rene@example.com\n' >legacy.csv
crm contact import legacy.csv --encoding cp1252
expect_status 0
crm contact show rene@example.com --fields first_name,last_name --no-header -f csv
expect_out "René,König"

begin "without --encoding, invalid UTF-8 is a rejected row with the column named"
printf 'email,first_name\nbad@example.com,Ren\xe9\nok@example.com,Ok\n' >latin.csv
crm contact import latin.csv
expect_err "crm: line 2: invalid UTF-8 in column 'first_name'
inserted 1, updated 0, unchanged 0, rejected 1; batch 4"

begin "rejects keep the input's format with line and reason; good rows land"
cat >mixed.csv <<'CSV'
email,phone,country,birthdate,first_name
good1@example.com,,DE,,"Multi
Line"
not-an-email,,DE,,B
bad-phone@example.com,12,DE,,C
bad-country@example.com,,XX,,D
bad-date@example.com,,DE,1990-02-30,E
wrong@example.com,too,many,fields,here,really
good2@example.com,,AT,,"Quoted, ""comma"""
CSV
crm contact import mixed.csv --rejects rejects.csv
expect_status 0
expect_err "inserted 2, updated 0, unchanged 0, rejected 5 (see rejects.csv); batch 5"
if [ "$(stat -c %a rejects.csv)" = 600 ]; then ok; else fail "rejects.csv is not 0600"; fi
cat >expected.csv <<'CSV'
email,phone,country,birthdate,first_name,line,reason
not-an-email,,DE,,B,4,invalid email 'not-an-email': no '@'
bad-phone@example.com,12,DE,,C,5,invalid phone '12': not a valid number for its region (read with region DE)
bad-country@example.com,,XX,,D,6,invalid country 'XX': not an ISO 3166 alpha-2 code
bad-date@example.com,,DE,1990-02-30,E,7,invalid birthdate '1990-02-30': expected a date YYYY-MM-DD
wrong@example.com,too,many,fields,here,really,8,"expected 5 fields, found 6"
CSV
same_file expected.csv rejects.csv
crm contact show good2@example.com --fields first_name --no-header -f csv
expect_out '"Quoted, ""comma"""'

begin "invalid UTF-8 and an unterminated quote also go to the rejects file"
printf 'email,first_name\nu8@example.com,Ren\xe9\nfine@example.com,Fine\nq9@example.com,"Open\nstill open\n' >bad-bytes.csv
crm --db bytes.db init
crm --db bytes.db contact import bad-bytes.csv --rejects bytes-rejects.csv
expect_err "inserted 1, updated 0, unchanged 0, rejected 2 (see bytes-rejects.csv); batch 1"
printf 'email,first_name,line,reason\nu8@example.com,Ren\xe9,2,invalid UTF-8 in column '"'"'first_name'"'"'\nq9@example.com,"Open\nstill open\n",4,unterminated quoted field\n' >bytes-expected.csv
same_file bytes-expected.csv bytes-rejects.csv
crm --db bytes.db contact exists fine@example.com
expect_status 0

begin "an unterminated quote is a rejected row with the line where it starts"
printf 'email,first_name\nq1@example.com,Fine\nq2@example.com,"Open\nstill open\n' >open.csv
crm contact import open.csv
expect_err "crm: line 3: unterminated quoted field
inserted 1, updated 0, unchanged 0, rejected 1; batch 6"

begin "--max-rejects aborts with 65 and changes nothing"
before=$(dump)
crm contact import mixed.csv --max-rejects 2 --key none
expect_status 65
expect_err_contains "too many rejected rows: more than 2 (--max-rejects)"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi
crm contact import mixed.csv --max-rejects 0 -q
expect_status 65

begin "--max-rejects with --batch: committed batches are undone, nothing changes"
printf 'email,first_name\nmr1@example.com,A\nmr2@example.com,B\nbad1,C\nmr3@example.com,D\nbad2,E\nbad3,F\n' >batched.csv
crm --db mr.db init
crm --db mr.db contact import batched.csv --batch 2 --max-rejects 1 -q
expect_status 65
expect_err "crm: too many rejected rows: more than 1 (--max-rejects); nothing was imported (import batch 1: its committed rows were undone)
the rejected rows are listed above or in the --rejects file"
if [ "$(sqlite3 mr.db "SELECT count(*) FROM contact")" = 0 ]; then ok; else fail "contacts were left"; fi

begin "--dry-run counts and writes nothing"
printf 'email,first_name\nnew@example.com,New\nanna@example.com,Anna-Maria\n' >dry.csv
crm contact import dry.csv --dry-run
expect_status 0
expect_err "dry run: inserted 1, updated 1, unchanged 0, rejected 0; nothing was written"
if [ "$(dump)" = "$before" ]; then ok; else fail "database changed"; fi

begin "--map, --key external_id and attributes from other columns"
printf 'Kundennummer\tMail\tSegment\tNotiz\nK-1\tanna@example.com\tgold\tsecret\n' >shop.tsv
crm contact import shop.tsv --map "Kundennummer=external_id" --map "Notiz=-" --key email
expect_err "inserted 0, updated 1, unchanged 0, rejected 0; batch 7"
crm contact show ext:K-1 --fields id,attr.Segment --no-header
expect_out $'1\tgold'
crm contact import shop.tsv --map "Kundennummer=colour"
expect_status 64
expect_err "crm: --map: unknown field 'colour'
map to a contact field, tags, attr.NAME, or - to ignore the column"
crm contact import shop.tsv --strict --map "Kundennummer=external_id"
expect_status 65
expect_err_contains "crm: unmapped column 'Segment'"

begin "json, ndjson and vCard; rejects as ndjson"
cat >people.json <<'JSON'
[
  {"email": "j1@example.com", "first_name": "Jay", "tags": ["json", "vip"], "attr": {"industry": "it"}},
  {"email": "broken", "first_name": "No"}
]
JSON
crm contact import people.json --rejects json-rejects.ndjson
expect_err "inserted 1, updated 0, unchanged 0, rejected 1 (see json-rejects.ndjson); batch 8"
expect_out ""
if [ "$(cat json-rejects.ndjson)" = '{"line":3,"reason":"invalid email '"'broken'"': no '"'@'"'","record":{"email":"broken","first_name":"No"}}' ]; then ok; else fail "json rejects: $(cat json-rejects.ndjson)"; fi
crm contact show j1@example.com --fields tags,attr.industry --no-header
expect_out $'json;vip\tit'
printf '{"email":"n1@example.com","city":"Ulm"}\n\n{"email":"n2@example.com","city":"Jena"}\n' | tee people.ndjson >/dev/null
STDIN_FILE=people.ndjson crm contact import -
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; batch 9"
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nN:Schmidt;Eva;;;\r\nFN:Eva Schmidt\r\nEMAIL;TYPE=INTERNET,pref:eva@example.com\r\nTEL;TYPE=CELL:+49 170 1234567\r\nCATEGORIES:friends,fair\r\nEND:VCARD\r\n' >eva.vcf
crm contact import eva.vcf
expect_err "inserted 1, updated 0, unchanged 0, rejected 0; batch 10"
crm contact show eva@example.com --fields first_name,last_name,phone,tags --no-header
expect_out $'Eva\tSchmidt\t+491701234567\tfair;friends'

begin "an input that cannot be opened is 66; a rejects file that cannot be created is 73"
crm contact import nope.csv
expect_status 66
expect_err "crm: cannot open 'nope.csv': No such file or directory"
crm contact import excel.csv --rejects no/such/dir/r.csv
expect_status 73
expect_err_contains "crm: cannot create rejects file 'no/such/dir/r.csv'"

begin "--batch commits every N rows"
python3 - <<'PY'
with open("many.csv", "w") as f:
    f.write("email,first_name\n")
    for i in range(250):
        f.write(f"m{i}@example.com,M{i}\n")
PY
crm contact import many.csv --batch 100
expect_err "inserted 250, updated 0, unchanged 0, rejected 0; batch 11"

begin "--profile takes key, delimiter, map and source from [import.profiles.NAME]"
cat >shop.toml <<'TOML'
[import.profiles.shop]
key = "external_id"
delimiter = ";"
source = "shop"
map = { "Kundennummer" = "external_id", "E-Mail" = "email", "Notiz" = "-" }
TOML
printf 'Kundennummer;E-Mail;Vorname;Notiz\nS-1;shop1@example.com;Sina;x\nS-2;shop2@example.com;Sven;y\n' >shop.csv
crm --config shop.toml contact import shop.csv --profile shop
expect_status 0
expect_err_contains "inserted 2, updated 0, unchanged 0, rejected 0; profile shop; batch"
crm --config shop.toml contact show ext:S-1 --fields email,first_name,source --no-header
expect_out $'shop1@example.com\tSina\tshop'
crm --config shop.toml contact import shop.csv --profile shop --key email
expect_err_contains "inserted 0, updated 0, unchanged 2, rejected 0; profile shop; batch"
crm --config shop.toml contact import shop.csv --profile nope
expect_status 2
expect_err "crm: no import profile 'nope'
built-in profiles: google, google-legacy, outlook, outlook-de, outlook-com, thunderbird, mailchimp, hubspot; others are the [import.profiles.NAME] tables of the config"

begin "--ids prints each contact inserted or updated once, after its batch"
printf 'email,city\nids1@example.com,Ulm\nids2@example.com,Jena\nIDS1@example.com,Ulm\nbad,X\n' >ids.csv
crm contact import ids.csv --ids
expect_out "$(sqlite3 crm.db "SELECT id FROM contact WHERE email IN ('ids1@example.com', 'ids2@example.com') ORDER BY id")"
crm contact import ids.csv --ids
expect_out ""

begin "--undo deletes what a batch created and restores what it changed"
rm -f undo.db*
crm --db undo.db init
printf 'email,first_name,city,tags,industry\nu1@example.com,Una,Ulm,a,retail\nu2@example.com,Udo,Jena,,\n' >u1.csv
crm --db undo.db contact import u1.csv
expect_err "inserted 2, updated 0, unchanged 0, rejected 0; batch 1"
before=$(sqlite3 undo.db "SELECT id, email, first_name, city FROM contact ORDER BY id; SELECT * FROM contact_attr ORDER BY 1, 2; SELECT * FROM contact_tag ORDER BY 1, 2")
printf 'email,first_name,city,tags,industry\nU1@example.com,Una,Bonn,b,craft\nu3@example.com,Uwe,Kiel,,\n' >u2.csv
crm --db undo.db contact import u2.csv
expect_err "inserted 1, updated 1, unchanged 0, rejected 0; batch 2"
crm --db undo.db contact import --undo 2
expect_status 0
expect_err "undid import batch 2: deleted 1, restored 1"
after=$(sqlite3 undo.db "SELECT id, email, first_name, city FROM contact ORDER BY id; SELECT * FROM contact_attr ORDER BY 1, 2; SELECT * FROM contact_tag ORDER BY 1, 2")
if [ "$after" = "$before" ]; then ok; else fail "not restored: $after"; fi
crm --db undo.db contact search kiel --fields id --no-header
expect_out ""
crm --db undo.db contact search bonn --fields id --no-header
expect_out ""
crm --db undo.db contact history u1@example.com --fields action,source,detail -f tsv --no-header
expect_out 'import	import batch 1	{"created":true}
import	import batch 2	{"city":["Ulm","Bonn"],"attr.industry":["retail","craft"],"tags":{"added":["b"]}}
undo	undo of import batch 2	{"city":["Bonn","Ulm"],"attr.industry":["craft","retail"],"tags":{"removed":["b"]}}'

begin "a later row that changes a contact made earlier in the same file: history in order, indexed, undone"
printf 'email,first_name,city\nsame@example.com,Sam,Jena\nother@example.com,Otto,Hof\nSAME@example.com,Sam,Gotha\n' >same.csv
crm --db same.db init
crm --db same.db contact import same.csv
expect_err "inserted 2, updated 1, unchanged 0, rejected 0; batch 1"
crm --db same.db contact history same@example.com --fields action,source,detail -f tsv --no-header
expect_out 'import	import batch 1	{"created":true}
import	import batch 1	{"city":["Jena","Gotha"]}'
crm --db same.db contact search gotha --fields email --no-header
expect_out "same@example.com"
crm --db same.db contact search jena --fields email --no-header
expect_out ""
crm --db same.db db check
expect_status 0
crm --db same.db contact import --undo 1
expect_err "undid import batch 1: deleted 2, restored 0"
if [ "$(sqlite3 same.db "SELECT count(*) FROM contact")" = 0 ]; then ok; else fail "contacts left"; fi
crm --db same.db db check
expect_status 0

begin "--undo twice, of an unknown batch, or with a file is refused"
state=$(sqlite3 undo.db .dump)
crm --db undo.db contact import --undo 2
expect_status 65
expect_err "crm: import batch 2 was undone already (2026-11-22T09:30:00Z)"
crm --db undo.db contact import --undo 99
expect_status 2
expect_err "crm: no contact import batch 99
the summary of each import names its batch"
crm --db undo.db contact import u1.csv --undo 1
expect_status 64
expect_err "crm: --undo BATCH takes no input file"
crm --db undo.db contact import
expect_status 64
expect_err "crm: contact import: a FILE (or - for stdin) is required
or --undo BATCH to revert an import"
if [ "$(sqlite3 undo.db .dump)" = "$state" ]; then ok; else fail "the database changed"; fi

begin "--undo refuses when a contact changed after the batch, and changes nothing"
printf 'email,city\nu2@example.com,Gera\n' >u3.csv
crm --db undo.db contact import u3.csv
expect_err "inserted 0, updated 1, unchanged 0, rejected 0; batch 3"
crm --db undo.db contact update u2@example.com --city Suhl
state=$(sqlite3 undo.db .dump)
crm --db undo.db contact import --undo 3
expect_status 65
id2=$(sqlite3 undo.db "SELECT id FROM contact WHERE email = 'u2@example.com'")
expect_err "crm: cannot undo import batch 3: contact $id2 changed after it
'crm contact history $id2' shows what changed"
if [ "$(sqlite3 undo.db .dump)" = "$state" ]; then ok; else fail "the database changed"; fi

begin "a progress line with rate, share and ETA only when asked for or on a terminal"
python3 -c '
print("email,first_name")
for i in range(3000):
    print(f"p{i}@example.com,P{i}")' >progress.csv
crm --db progress.db init
crm --db progress.db --progress always contact import progress.csv
expect_status 0
case "$ERR" in *$'\r\e[Kimporting: '*' rows, '*' rows/s, '*'%, ETA '*:*:*$'\r\e[K'*) ok ;; *) fail "no progress line" ;; esac
crm --db progress.db contact import progress.csv
expect_err "inserted 0, updated 0, unchanged 3000, rejected 0; batch 2"

begin "SIGKILL in the middle of an import leaves whole batches and a sound database"
python3 - <<'PY'
with open("big.csv", "w") as f:
    f.write("email,first_name,phone\n")
    for i in range(150000):
        f.write(f"k{i}@example.com,K{i},030 {1000000 + i}\n")
PY
rm -f kill.db*
crm --db kill.db init
env -i ASAN_OPTIONS=detect_leaks=0 PATH=/usr/bin:/bin HOME="$WORK/home" LC_ALL=C "$CRM_BIN" --db kill.db -q contact import big.csv --batch 1000 &
importer=$!
sleep 1
kill -9 "$importer" 2>/dev/null
wait "$importer" 2>/dev/null
crm --db kill.db db check
expect_status 0
n=$(sqlite3 kill.db "SELECT count(*) FROM contact")
if [ $((n % 1000)) -eq 0 ]; then ok; else fail "$n contacts: not a whole number of batches"; fi
if [ "$n" -lt 150000 ]; then ok; else echo "note: the import finished before the kill" >&2; ok; fi
crm --db kill.db contact search k1 --limit 1 --fields id --no-header
expect_status 0

finish
