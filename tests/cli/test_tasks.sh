#!/usr/bin/env bash
# Lead management: crm contact assign (round_robin, least_loaded, capacity)
# and crm contact task add|list|done, each recorded in the history.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

crm init
cat >crm.toml <<'TOML'
[owners.anna]
capacity = 2
[owners.ben]
capacity = 2
TOML
cat >people.csv <<'CSV'
email,first_name,last_name,country,owner
p1@example.com,P,One,DE,
p2@example.com,P,Two,DE,
p3@example.com,P,Three,AT,
p4@example.com,P,Four,DE,
p5@example.com,P,Five,DE,
p6@example.com,P,Six,DE,
p7@example.com,P,Seven,DE,carla
CSV
crm contact import people.csv -q
owners() { sqlite3 crm.db "SELECT id || ':' || coalesce(owner, '-') FROM contact ORDER BY id" | tr '\n' ' '; }

begin "assign --where: matching contacts without an owner, in turn, within capacity"
crm contact assign --where 'country = "DE"' --ids
expect_status 0
expect_out "1
2
4
5"
expect_err "assigned 4 (anna 2, ben 2), unassigned 1 (every owner is at capacity)"
if [ "$(owners)" = "1:anna 2:ben 3:- 4:anna 5:ben 6:- 7:carla " ]; then ok; else fail "owners: $(owners)"; fi

begin "the history records each assignment"
crm contact history 2 -f tsv --fields action,source,detail --no-header
expect_out_contains "assign	assign	{\"owner\":[null,\"ben\"]}"

begin "the next run goes on with the next owner; capacity is never exceeded"
printf '[owners.anna]\ncapacity = 3\n[owners.ben]\ncapacity = 2\n' >crm.toml
crm contact assign
expect_status 0
expect_err "assigned 1 (anna 1, ben 0), unassigned 1 (every owner is at capacity)"
if [ "$(owners)" = "1:anna 2:ben 3:anna 4:anna 5:ben 6:- 7:carla " ]; then ok; else fail "owners: $(owners)"; fi

begin "assign again with nothing to do changes nothing"
before=$(sqlite3 crm.db "SELECT count(*) FROM history")
crm contact assign --where 'country = "AT"'
expect_status 0
expect_err "assigned 0 (anna 0, ben 0)"
if [ "$(sqlite3 crm.db "SELECT count(*) FROM history")" = "$before" ]; then ok; else fail "history grew"; fi

begin "least_loaded gives each contact to the owner holding the fewest"
cat >crm.toml <<'TOML'
[owners.anna]
capacity = 10
[owners.ben]
capacity = 10
[owners.dora]
capacity = 10
TOML
crm contact add --email q1@example.com
crm contact add --email q2@example.com
crm contact add --email q3@example.com
crm contact assign --strategy least_loaded --ids
expect_status 0
expect_out "6
8
9
10"
expect_err "assigned 4 (anna 0, ben 1, dora 3)"

begin "assign refuses an unknown strategy, a bad filter, and a config without owners"
crm contact assign --strategy random
expect_status 64
expect_err "crm: unknown strategy 'random'
strategies: round_robin, least_loaded"
crm contact assign --where 'nosuchfield = 1'
expect_status 65
rm crm.toml
crm contact assign
expect_status 78
expect_err "crm: no owners to assign to
define them in the config: [owners.NAME]"

printf '[owners.anna]\ncapacity = 10\n[owners.ben]\ncapacity = 10\n' >crm.toml

begin "task add: prints the id; the owner defaults to the contact's"
crm contact task add p1@example.com "Call back about the offer" --due 2026-11-25
expect_status 0
expect_out "1"
crm contact task add 2 "Send the catalogue" --due 3d --owner anna
expect_out "2"
crm contact task add 7 "Visit" --due 2026-12-24T10:00:00Z -f json
expect_out '[
{"id":3,"contact_id":7,"owner":"carla","due_at":"2026-12-24T10:00:00Z","text":"Visit","created_at":"2026-11-22T09:30:00Z","done_at":null,"first_name":"P","last_name":"Seven","email":"p7@example.com","phone":null}
]'

begin "task list: open tasks by due time; --owner, --overdue, --due-before"
crm contact task list -f tsv --fields id,owner,due_at,text,email
expect_out "id	owner	due_at	text	email
1	anna	2026-11-25T00:00:00Z	Call back about the offer	p1@example.com
2	anna	2026-11-25T09:30:00Z	Send the catalogue	p2@example.com
3	carla	2026-12-24T10:00:00Z	Visit	p7@example.com"
crm contact task list --owner anna -f tsv --fields id --no-header
expect_out "1
2"
TEST_NOW=2026-11-25T08:00:00Z crm contact task list --overdue -f tsv --fields id --no-header
expect_out "1"
crm contact task list --due-before 2026-12-01 -f tsv --fields id --no-header
expect_out "1
2"

begin "task done: gone from the list, in the history; twice is harmless"
crm contact task "done" 1
expect_status 0
expect_out "1"
crm contact task list -f tsv --fields id --no-header
expect_out "2
3"
crm contact history 1 -f tsv --fields action,detail --no-header
expect_out_contains 'task	{"task":1,"text":"Call back about the offer","due":"2026-11-25T00:00:00Z","owner":"anna"}'
expect_out_contains 'task_done	{"task":1}'
crm contact task "done" 1
expect_status 0
expect_err "crm: task 1 was done already (2026-11-22T09:30:00Z)"

begin "task errors: unknown task, owner, contact; bad id, due time, empty text"
crm contact task "done" 99
expect_status 2
expect_err "crm: no task 99"
crm contact task "done" abc
expect_status 64
crm contact task add 1 "x" --due 1d --owner zoe
expect_status 2
expect_err "crm: no owner 'zoe'
owners: anna, ben"
crm contact task list --owner zoe
expect_status 2
crm contact task add 999 "x" --due 1d
expect_status 2
crm contact task add 1 "x" --due soon
expect_status 64
expect_err_contains "crm: invalid due time 'soon'"
crm contact task add 1 "  " --due 1d
expect_status 65
expect_err "crm: invalid task: empty"
if [ "$(sqlite3 crm.db "SELECT count(*) FROM task")" = 3 ]; then ok; else fail "a failed add wrote a task"; fi

begin "merge moves the duplicate's tasks to the contact kept"
crm contact merge 1 2
expect_status 0
if [ "$(sqlite3 crm.db "SELECT group_concat(contact_id) FROM task WHERE id IN (1, 2)")" = "1,1" ]; then ok; else fail "tasks not moved"; fi

begin "1,000 leads to three owners: capacities hold, round_robin takes turns, least_loaded evens out"
mkdir leads && cd leads || exit 1
crm init -q
cat >crm.toml <<'TOML'
[owners.anna]
capacity = 500
[owners.ben]
capacity = 300
[owners.carla]
capacity = 100
TOML
{
  echo "email,country"
  for i in $(seq 1 1000); do echo "lead$i@example.com,DE"; done
} >leads.csv
crm contact import leads.csv -q
crm contact assign --where 'country = "DE"'
expect_status 0
expect_err "assigned 900 (anna 500, ben 300, carla 100), unassigned 100 (every owner is at capacity)"
split=$(sqlite3 crm.db "SELECT coalesce(owner, '-') || ':' || count(*) FROM contact GROUP BY owner ORDER BY owner IS NOT NULL, owner" | tr '\n' ' ')
if [ "$split" = "-:100 anna:500 ben:300 carla:100 " ]; then ok; else fail "split: $split"; fi
# Round robin: in id order the owners take turns while each has room.
first=$(sqlite3 crm.db "SELECT owner FROM contact ORDER BY id LIMIT 6" | tr '\n' ' ')
if [ "$first" = "anna ben carla anna ben carla " ]; then ok; else fail "turns: $first"; fi
n=$(sqlite3 crm.db "SELECT count(*) FROM history WHERE action = 'assign'")
if [ "$n" = 900 ]; then ok; else fail "assign history entries: $n"; fi
# least_loaded: with 300 more room each, the least loaded owner gets each next lead.
printf '[owners.anna]\ncapacity = 600\n[owners.ben]\ncapacity = 600\n[owners.carla]\ncapacity = 600\n' >crm.toml
crm contact assign --strategy least_loaded
expect_status 0
expect_err "assigned 100 (anna 0, ben 0, carla 100)"
split=$(sqlite3 crm.db "SELECT coalesce(owner, '-') || ':' || count(*) FROM contact GROUP BY owner ORDER BY owner IS NOT NULL, owner" | tr '\n' ' ')
if [ "$split" = "anna:500 ben:300 carla:200 " ]; then ok; else fail "split: $split"; fi
cd .. || exit 1

finish
