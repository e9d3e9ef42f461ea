#!/usr/bin/env bash
# A stand-in for a mailing service, for the example and its test: reads
# the members of one run (csv with contact_id and email, a header first) on
# stdin, "sends" them by writing OUTBOX/RUN.csv, and writes the results the
# service would report later, as SPOOL/RUN.csv in the shape
# `crm campaign import-responses` reads (campaign, run, contact_id, type,
# at, amount). A run already in the outbox is not sent again.
#
# The results are made up but repeatable, from the contact id and the ISO
# week: every message is delivered an hour after the send, except that
# contacts with id % 29 == 0 bounce for good; id % 13 == 0 unsubscribe;
# (id + week) % 3 == 0 open, % 6 == 0 also click, % 10 == 0 also buy for
# 25.00.
#
# Usage: mailer.sh CAMPAIGN RUN   (OUTBOX and SPOOL default to ./outbox and ./spool)
set -euo pipefail

campaign=$1
run=$2
outbox=${OUTBOX:-outbox}
spool=${SPOOL:-spool}
mkdir -p "$outbox" "$spool"
members=$(cat)
if [ -e "$outbox/$run.csv" ]; then
  echo "mailer: $run was sent already; not sending again" >&2
  exit 0
fi
now=${CRM_NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
later=$(date -u -d "@$(($(date -u -d "$now" +%s) + 3600))" +%Y-%m-%dT%H:%M:%SZ)
week=$(date -u -d "$now" +%V)
week=$((10#$week))
{
  echo "campaign,run,contact_id,type,at,amount"
  printf '%s\n' "$members" | tail -n +2 | while IFS=, read -r id _; do
    [ -n "$id" ] || continue
    if [ $((id % 29)) -eq 0 ]; then
      echo "$campaign,$run,$id,bounced_hard,$later,"
      continue
    fi
    echo "$campaign,$run,$id,delivered,$later,"
    if [ $((id % 13)) -eq 0 ]; then
      echo "$campaign,$run,$id,unsubscribed,$later,"
      continue
    fi
    if [ $(((id + week) % 3)) -eq 0 ]; then
      echo "$campaign,$run,$id,opened,$later,"
      [ $(((id + week) % 6)) -ne 0 ] || echo "$campaign,$run,$id,clicked,$later,"
      [ $(((id + week) % 10)) -ne 0 ] || echo "$campaign,$run,$id,converted,$later,25.00"
    fi
  done
} >"$spool/.$run.csv"
# "Sent": the outbox holds the members, the spool the results to import.
printf '%s\n' "$members" >"$outbox/$run.csv"
mv "$spool/.$run.csv" "$spool/$run.csv"
echo "mailer: sent $run to $(($(printf '%s\n' "$members" | wc -l) - 1)) contacts" >&2
