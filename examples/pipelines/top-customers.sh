#!/bin/sh
# The A customers of the ABC analysis (the few who bring most of the
# revenue) as a CSV for accounting.
# Usage: examples/pipelines/top-customers.sh [FILE]   (default: top-customers.csv)
# Run it beside crm.toml (or with CRM_CONFIG set), e.g. from cron after
# `crm score run`.
set -eu
out=${1:-top-customers.csv}
# The scores as of today; -q: no summary line on stderr.
crm -q score run abc rfm
# -o writes the file whole or not at all, mode 0600 (it holds personal data).
crm export contacts --where 'score.abc.label = "A"' \
  --fields external_id,first_name,last_name,company,email,city,country \
  -f csv -o "$out"
echo "$(($(wc -l <"$out") - 1)) A customers in $out" >&2
