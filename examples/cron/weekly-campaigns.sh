#!/usr/bin/env bash
# Weekly campaign selection (see crontab): for each campaign, in the order
# given (put the higher priority first: the pressure cap then keeps its
# members out of the later ones), `crm campaign select` records this week's
# run and prints its members as csv, which go to the mailer. The run id is
# the campaign's weekly one (NAME-2026-W47), so a second start in the same
# week prints the same members and records nothing new; the mailer must
# then skip what it already sent (mailer.sh does: one outbox file per run).
#
# Environment: CRM (the crm binary, default crm), CAMPAIGNS (default
# "winback newsletter"), MAILER (default mailer.sh next to this script);
# crm reads CRM_DB, CRM_CONFIG and CRM_NOW as usual.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
crm=${CRM:-crm}
mailer=${MAILER:-$here/mailer.sh}
read -r -a campaigns <<<"${CAMPAIGNS:-winback newsletter}"

for campaign in "${campaigns[@]}"; do
  # The run id the select will use, named on the mailer's command line.
  run=$("$crm" campaign show "$campaign" -f tsv --no-header |
    awk -F'\t' '$1 == "next_run_id" { print $2 }')
  # pipefail: a failed select (exit 75: locked, retry later) fails the job
  # and the mailer's partial input is not sent (mailer.sh sends at the end).
  "$crm" campaign select "$campaign" --run-id "$run" -f csv --fields contact_id,email |
    "$mailer" "$campaign" "$run"
done
