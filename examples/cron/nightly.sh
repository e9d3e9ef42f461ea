#!/usr/bin/env bash
# Nightly (see crontab): imports the mailer's result files from SPOOL
# (default ./spool) with `crm campaign import-responses`, moving each one
# to SPOOL/done when it went in (rejected rows go to SPOOL/rejects/), then
# recomputes the scores with `crm score run`. Importing a file twice adds
# nothing, so a job that stopped half way can simply run again.
#
# Environment: CRM (the crm binary, default crm), SPOOL; crm reads CRM_DB,
# CRM_CONFIG and CRM_NOW as usual.
set -euo pipefail

crm=${CRM:-crm}
spool=${SPOOL:-spool}
mkdir -p "$spool/done" "$spool/rejects"
for file in "$spool"/*.csv; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  "$crm" campaign import-responses "$file" --rejects "$spool/rejects/$name" --batch 10000
  mv "$file" "$spool/done/$name"
done
"$crm" score run
