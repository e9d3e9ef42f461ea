#!/usr/bin/env bash
# crm config check and show: validation with file:line:col, origins, lookup order.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

begin "no config anywhere: built-in defaults"
crm config check
expect_status 0
expect_err "no config file; built-in defaults"
crm config show -f csv --origin
expect_out_contains 'database.busy_timeout_ms,5000,default'
expect_out_contains 'defaults.country,"""DE""",default'

begin "the XDG config is found when there is no ./crm.toml"
mkdir -p home/.config/crm
printf '[defaults]\ncountry = "AT"\n' >home/.config/crm/config.toml
crm config show --origin --no-header -f tsv
expect_out_contains "defaults.country	\"AT\"	$WORK/home/.config/crm/config.toml:2"

begin "./crm.toml wins over the XDG config"
printf '[defaults]\ncountry = "CH"\n' >crm.toml
crm config show -f tsv --no-header
expect_out_contains $'defaults.country\t"CH"'

begin "CRM_CONFIG wins over ./crm.toml, --config over CRM_CONFIG"
printf '[defaults]\ncountry = "FR"\n' >fr.toml
printf '[defaults]\ncountry = "GB"\n' >gb.toml
EXTRA_ENV="CRM_CONFIG=fr.toml" crm config show -f tsv --no-header
expect_out_contains $'defaults.country\t"FR"'
EXTRA_ENV="CRM_CONFIG=fr.toml" crm --config gb.toml config show -f tsv --no-header
expect_out_contains $'defaults.country\t"GB"'

begin "bad TOML names file, line and column"
printf '[defaults\ncountry = "DE"\n' >bad.toml
crm --config bad.toml config check
expect_status 78
expect_err_contains "crm: bad.toml:1:"
expect_err_contains "invalid TOML"

begin "an unknown key names file, line, column and key"
printf '[database]\nbusy_timeout_ms = 100\n\n[journey]\nstragety = "x"\n' >typo.toml
crm --config typo.toml config check
expect_status 78
expect_err "crm: typo.toml:5:1: unknown key 'journey.stragety'
valid keys of 'journey': phases, conversion, strict, touchpoints, stages"

begin "a value of the wrong type"
printf '[database]\nbusy_timeout_ms = "soon"\n' >type.toml
crm --config type.toml config check
expect_status 78
expect_err "crm: type.toml:2:19: key 'database.busy_timeout_ms': expected an integer, got a string"

begin "an invalid value"
printf '[pressure]\nmax = "3 each 7d"\n' >rate.toml
crm --config rate.toml config check
expect_status 78
expect_err_contains "crm: rate.toml:2:7: key 'pressure.max': invalid rate '3 each 7d'"

begin "a config error stops every command, not only config check"
crm --config typo.toml contact list
expect_status 78

begin "the whole example of the SPEC loads"
cat >spec.toml <<'TOML'
[database]
path = "crm.db"
busy_timeout_ms = 5000

[defaults]
country = "DE"
currency = "EUR"

[consent.purposes.newsletter]
channels = ["email"]
double_opt_in = true
confirm_within = "7d"
valid_for = "24mo"
[consent.purposes.profiling]
channels = []

[journey]
phases = ["activation", "information", "action", "retention"]
conversion = "purchase"
strict = false
[journey.touchpoints.purchase]
phase = "action"
channel = "shop"
[[journey.stages]]
name = "customer"
when = 'event("purchase", within = 365d)'

[score]
requires_consent = "profiling"
[score.rfm]
window = "365d"
[score.rfm.segments]
champions = ["5 5", "5 4", "4 5"]
[score.abc]
window = "365d"
a = 0.80
b = 0.95
[[score.lead.rules]]
when = 'attr.industry = "retail"'
points = 10
[[score.lead.rules]]
event = "email_click"
points = 3
half_life = "30d"
cap = 30

[pressure]
max = "3 per 7d"

[campaigns.winback]
channel = "email"
purpose = "newsletter"
segment = 'score.rfm.label in ("at_risk", "hibernating")'
cap = "1 per 30d"
holdout = 0.10
priority = 10
schedule = "weekly"
limit = 5000
variants = ["a", "b"]

[dedupe]
survivor = "oldest"

[retention]
inactive_for = "36mo"

[owners.anna]
capacity = 200
[owners.ben]
capacity = 100

[import.profiles.shop]
key = "external_id"
map = { "Kundennummer" = "external_id", "E-Mail" = "email" }

[reports.revenue_by_country]
sql = "select country, sum(amount) as revenue from ... group by country"
TOML
crm --config spec.toml config check
expect_status 0
expect_err "spec.toml: ok"
crm --config spec.toml config show --origin -f tsv --no-header
expect_out_contains $'campaigns.winback.cap\t"1 per 30d"\tspec.toml:54'

finish
