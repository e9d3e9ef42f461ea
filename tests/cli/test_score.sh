#!/usr/bin/env bash
# crm score: run, show, list, explain; rfm, abc and nps agree with an
# independent computation (tests/cli/score_check.py: SQL window functions
# and plain Python) on a generated data set, and `explain` adds up to the
# stored score for every contact. SCORE_CONTACTS sets the size (bench/score
# runs the same checks at 100,000).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

HERE=${GOLDEN_DIR%/golden/*}
CHECK="$HERE/score_check.py"
GEN="${GEN_CRM_DATA:-$HERE/../../../shared/data/gen_crm_data.py}"
[ -f "$GEN" ] || GEN=/work/shared/data/gen_crm_data.py
N=${SCORE_CONTACTS:-3000}
NOW=2026-11-01T00:00:00Z

crm init
crm contact add --first-name Ada --email ada@example.org --country DE
crm contact add --first-name Bo --email bo@example.org --country FR
crm contact add --first-name Cy --email cy@example.org
sqlite3 crm.db "INSERT INTO event (contact_id, touchpoint, at, amount, rating) VALUES
  (1, 'purchase', '2026-11-01T00:00:00Z', 5000, NULL),
  (1, 'purchase', '2026-10-01T00:00:00Z', 3000, NULL),
  (2, 'purchase', '2026-05-01T00:00:00Z', 100000, NULL),
  (2, 'survey', '2026-05-02T00:00:00Z', NULL, 9),
  (1, 'email_click', '2026-11-21T09:30:00Z', NULL, NULL);"
cat >crm.toml <<'TOML'
[score.abc]
a = 0.5
[[score.lead.rules]]
when = 'country = "DE"'
points = 10
description = "based in Germany"
[[score.lead.rules]]
event = "email_click"
points = 3
half_life = "30d"
TOML

begin "score run prints nothing on stdout and a summary on stderr"
crm score run
expect_status 0
expect_out ""
expect_err "scored rfm 2, abc 2, lead 3, nps 1, churn 2; nps 100.00"

begin "score show: one row per model, in model order"
crm score show ada@example.org -f csv
expect_out "contact_id,model,value,label,at
1,rfm,554.00,champions,2026-11-22T09:30:00Z
1,abc,80.00,B,2026-11-22T09:30:00Z
1,lead,12.93,,2026-11-22T09:30:00Z
1,churn,0.50,at_risk,2026-11-22T09:30:00Z"
crm score show 2 -f json
expect_out_contains '{"contact_id":2,"model":"rfm","value":445.00,"label":"loyal","at":"2026-11-22T09:30:00Z"}'

begin "score explain: each part in words, then the score as their sum"
crm score explain ada@example.org lead -f tsv
expect_out "contact_id	model	part	points	reason
1	lead	1	10.00	based in Germany: matches 'country = \"DE\"' (10 points)
1	lead	2	2.93	1 'email_click' event so far (3 points each, half-life 30d: 3 points fade to 2.93, rule 2)
1	lead		12.93	= 12.93: the sum of the parts; lead points; computed 2026-11-22T09:30:00Z"
crm score explain 3 -f tsv --fields model,reason --no-header
expect_out "rfm	not scored: no 'purchase' event (a purchase) up to the last run
abc	not scored: no 'purchase' event (a purchase) up to the last run
lead	= 0.00: the sum of the parts; no rule matched; computed 2026-11-22T09:30:00Z
nps	not scored: no rating up to the last run
churn	not scored: no 'purchase' event (a purchase) up to the last run"

begin "score list: a model's scores, --label, --where, --limit; nps overall on stderr"
crm score list rfm -f csv --fields contact_id,label
expect_out "contact_id,label
1,champions
2,loyal"
crm score list abc --label A -f csv --no-header --fields contact_id
expect_out "2"
crm score list lead --where 'score.lead > 5' -f csv --no-header --fields contact_id,value
expect_out "1,12.93"
crm score list lead --limit 2 -f csv --no-header --fields contact_id
expect_out "1
2"
crm score list lead --sort=-value,contact_id -f csv --no-header --fields contact_id,value
expect_out "1,12.93
2,0.00
3,0.00"
crm score list lead --sort score
expect_status 64
expect_err "crm: unknown sort field 'score'
score lists sort by contact_id, value, label, at (-FIELD: descending)"
crm score list nps -f csv --no-header
expect_out "2,nps,9.00,promoter,2026-11-22T09:30:00Z"
expect_err "nps 100.00 over 1 rated contacts: 1 promoters, 0 passives, 0 detractors"

begin "score.MODEL and score.MODEL.label in contact list --where"
crm contact list --where 'score.rfm.label in ("champions", "at_risk") or score.abc.label = "A"' --fields id --no-header
expect_out "1
2"
crm contact list --where 'score.churn >= 0.5 and score.rfm > 550' --fields id --no-header
expect_out "1"

begin "--now runs the models as of a past date"
crm --now 2026-06-01 score run rfm
expect_err "scored rfm 1"
crm score show 2 -f csv --no-header --fields model,value,at
expect_out "rfm,555.00,2026-06-01T00:00:00Z
abc,1000.00,2026-11-22T09:30:00Z
lead,0.00,2026-11-22T09:30:00Z
nps,9.00,2026-11-22T09:30:00Z
churn,1.00,2026-11-22T09:30:00Z"

begin "bad input: unknown model, contact, field and filter change nothing"
before=$(sqlite3 crm.db "SELECT count(*), total(value) FROM score")
crm score run rfm nope
expect_status 2
expect_err "crm: no model 'nope'
models: rfm, abc, lead, nps, churn"
crm score show nobody@example.org
expect_status 2
expect_err "crm: no contact 'nobody@example.org'"
crm score list rfm --fields contact_id,score
expect_status 64
expect_err "crm: unknown field 'score'
'--fields help' lists the fields"
crm score list abc --where 'score.abc > 1'
expect_status 65
expect_err_contains "crm: bad filter expression: score.abc has only a label at column 1"
crm score list rfm --limit 0
expect_status 64
if [ "$(sqlite3 crm.db "SELECT count(*), total(value) FROM score")" = "$before" ]; then ok; else fail "scores changed"; fi

begin "a bad lead rule is a config error (78) and changes nothing"
printf '[[score.lead.rules]]\nwhen = %s\npoints = 1\n' "'country = '" >bad.toml
crm --config bad.toml score run lead
expect_status 78
expect_err_contains "crm: score.lead.rules[0].when: bad filter expression:"
if [ "$(sqlite3 crm.db "SELECT count(*), total(value) FROM score")" = "$before" ]; then ok; else fail "scores changed"; fi

begin "a run replaces the model's scores; erase and delete take them along"
sqlite3 crm.db "DELETE FROM event WHERE contact_id = 2 AND touchpoint = 'purchase'"
crm score run rfm
crm score list rfm -f csv --no-header --fields contact_id
expect_out "1"
n=$(sqlite3 crm.db "SELECT count(*) FROM score_part WHERE model = 'rfm'")
if [ "$n" = 3 ]; then ok; else fail "rfm parts: $n"; fi
crm contact delete --force ada@example.org
expect_status 0
n=$(sqlite3 crm.db "SELECT count(*) FROM score WHERE contact_id = 1")
m=$(sqlite3 crm.db "SELECT count(*) FROM score_part WHERE contact_id = 1")
if [ "$n$m" = 00 ]; then ok; else fail "scores left: $n $m"; fi

begin "rfm, abc and nps agree with an independent computation on $N generated contacts"
mkdir gen
python3 "$GEN" --contacts "$N" --events-per-contact 12 --seed 8 --clean --out gen 2>/dev/null
rm -f crm.toml
crm --db big.db init -q
# The starter config asks for a profiling consent, which generated data
# does not give; the check scores everyone.
rm -f crm.toml
python3 "$CHECK" load big.db gen
crm --db big.db --now "$NOW" score run
expect_status 0
for model in rfm abc nps; do
  crm --db big.db score list "$model" -f csv --fields contact_id,value,label
  printf '%s\n' "$OUT" >"$model.csv"
  if result=$(python3 "$CHECK" "$model" big.db "$NOW" "$model.csv"); then ok; else fail "$result"; fi
done

begin "explain adds up to the stored score for every contact and model"
sqlite3 big.db "SELECT id FROM contact" >ids.txt
STDIN_FILE=ids.txt crm --db big.db --now "$NOW" score explain - -f tsv
expect_status 0
printf '%s\n' "$OUT" >explain.tsv
if result=$(python3 "$CHECK" sums big.db explain.tsv); then ok; else fail "$result"; fi

finish
