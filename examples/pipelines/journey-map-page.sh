#!/bin/sh
# The customer journey map of the last 90 days as an HTML page (phases as
# columns, touchpoints sized by reach and coloured by satisfaction) for the
# team's intranet or a browser.
# Usage: examples/pipelines/journey-map-page.sh [FILE]   (default: journey-map.html)
set -eu
out=${1:-journey-map.html}
from=$(date -u -d "${CRM_NOW:-now} - 90 days" +%Y-%m-%dT%H:%M:%SZ)
# Numbers per touchpoint only, no person in it; written next to the file
# and moved, so a reader never sees half a page.
crm journey map --from "$from" -f html >"$out.tmp"
mv "$out.tmp" "$out"
echo "journey map since $from in $out" >&2
