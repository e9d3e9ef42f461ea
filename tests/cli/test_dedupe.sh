#!/usr/bin/env bash
# crm contact dedupe and merge: candidate groups by email, phone and name,
# --ignore, --apply by the survivor rule, and merge with what moves along.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
cat >people.csv <<'CSV'
external_id,email,phone,first_name,last_name,postcode,company,city,tags,created_at
A1,anna@example.com,030 1111111,Anna,Meier,10115,,Berlin,vip,2024-01-01
A2,ANNA@example.com ,,Anna,Meier,,,,new,2025-01-01
B1,bernd@example.com,089 2222222,Bernd,Huber,80331,,München,,2023-05-01
B2,bernd.h@example.org,+49 89 2222222,Bernd,Huber,,,,,2024-05-01
C1,carla@example.com,,Carla,Schmitt,50667,,Köln,,2022-01-01
C2,c.schmidt@example.com,,Carla,Schmidt,50667,,Köln,,2023-01-01
D1,dora@example.com,,Dora,Klein,10115,,Berlin,,2022-01-01
E1,emil@example.com,,Emil,Klein,10115,,Berlin,,2022-01-01
CSV
crm contact import people.csv --key none -q
dump() { sqlite3 crm.db "SELECT id, external_id, email, phone, first_name, last_name, postcode, city FROM contact ORDER BY id"; }

begin "dedupe lists groups with the rule and the score; the oldest is kept"
before=$(dump)
crm contact dedupe -f tsv
expect_status 0
expect_out "group	id	keep	rule	score	first_name	last_name	email	phone	postcode	company
1	1	yes	email	1.00	Anna	Meier	anna@example.com	+49301111111	10115	
1	2	no	email	1.00	Anna	Meier	ANNA@example.com			
2	3	yes	phone	1.00	Bernd	Huber	bernd@example.com	+49892222222	80331	
2	4	no	phone	1.00	Bernd	Huber	bernd.h@example.org	+49892222222		
3	5	yes	name	0.97	Carla	Schmitt	carla@example.com		50667	
3	6	no	name	0.97	Carla	Schmidt	c.schmidt@example.com		50667	"
if [ "$(dump)" = "$before" ]; then ok; else fail "listing changed the database"; fi

begin "[dedupe].survivor picks another survivor"
printf '[dedupe]\nsurvivor = "newest"\n' >crm.toml
crm contact dedupe -f tsv --fields group,id,keep --no-header
expect_out "1	2	yes
1	1	no
2	4	yes
2	3	no
3	6	yes
3	5	no"
printf '[dedupe]\nsurvivor = "most_complete"\n' >crm.toml
crm contact dedupe -f tsv --fields group,id,keep --no-header
expect_out "1	1	yes
1	2	no
2	3	yes
2	4	no
3	5	yes
3	6	no"
rm crm.toml

begin "--ignore A B: that pair is no candidate any more, for good"
crm contact dedupe --ignore 5 c.schmidt@example.com
expect_status 0
expect_err "contacts 5 and 6 are not duplicates"
crm contact dedupe -f tsv --fields group,id --no-header
expect_out "1	1
1	2
2	3
2	4"
crm contact history 6 --fields action,detail -f tsv --no-header
expect_out 'import	{"created":true}
not-duplicate	{"contact":5}'
crm contact dedupe --ignore 6 5
expect_status 0
if [ "$(sqlite3 crm.db "SELECT count(*) FROM dedupe_ignore")" = 1 ]; then ok; else fail "pair stored twice"; fi

begin "--ignore with a bad pair changes nothing"
state=$(sqlite3 crm.db .dump)
crm contact dedupe --ignore 5 5
expect_status 64
expect_err "crm: --ignore: 5 and 5 are the same contact"
crm contact dedupe --ignore 5 99
expect_status 2
expect_err "crm: no contact '99'"
crm contact dedupe --ignore 5
expect_status 64
crm contact dedupe --ignore 5 6 --apply
expect_status 64
expect_err "crm: --ignore and --apply do not go together"
if [ "$(sqlite3 crm.db .dump)" = "$state" ]; then ok; else fail "the database changed"; fi

begin "merge moves notes and history, fills empty fields, joins tags"
crm contact note 2 "called about the invoice"
crm contact merge 1 2
expect_status 0
expect_out "1"
expect_err "merged 1 into 1"
crm contact show 1 --fields id,email,tags,city -f tsv --no-header
expect_out "1	anna@example.com	new;vip	Berlin"
crm contact exists 2
expect_status 1
crm contact search invoice --fields id --no-header
expect_out "1"
crm contact history 1 --fields action,detail -f tsv --no-header
expect_out 'import	{"created":true}
import	{"created":true}
note	{"note":"called about the invoice"}
merge	{"merged":[2],"tags":{"added":["new"]}}'
crm contact merge 3 4
crm contact show 3 --fields id,email,phone -f tsv --no-header
expect_out "3	bernd@example.com	+49892222222"

begin "merge refuses what it cannot do and changes nothing"
state=$(sqlite3 crm.db .dump)
crm contact merge 5 5
expect_status 64
expect_err "crm: cannot merge contact 5 into itself"
crm contact merge 5 6 6
expect_status 64
expect_err "crm: contact 6 is named twice"
crm contact merge 5 99
expect_status 2
expect_err "crm: no contact '99'"
crm contact merge 5
expect_status 64
if [ "$(sqlite3 crm.db .dump)" = "$state" ]; then ok; else fail "the database changed"; fi

begin "dedupe --apply merges every group into its survivor"
printf 'email,first_name,last_name,postcode,city,phone\nx1@example.com,Xaver,Zott,12345,,\nX1@EXAMPLE.com,,,,Erfurt,\nx1@example.com,,,,,030 9999999\n' >x.csv
crm contact import x.csv --key none
expect_err "inserted 3, updated 0, unchanged 0, rejected 0; batch 2"
crm contact dedupe --apply -f tsv --fields group,id,keep --no-header
expect_status 0
expect_out "1	9	yes
1	10	no
1	11	no"
expect_err "merged 2 contacts into 1"
crm contact show 9 --fields email,first_name,city,phone -f tsv --no-header
expect_out "x1@example.com	Xaver	Erfurt	+49309999999"
crm contact dedupe -f tsv --no-header
expect_out ""
crm db check
expect_status 0

finish
