#!/bin/sh
# Adds the demo contacts of the README tour with `crm contact add`.
# Usage: examples/demo-contacts.sh [CRM_BINARY]
set -eu
crm=${1:-crm}
"$crm" contact add --first-name Anna --last-name Müller --email anna.mueller@example.com \
  --phone "030 1234567" --country DE --city Berlin --company "Beispiel GmbH" \
  --attr industry=retail --tag vip
"$crm" contact add --first-name Jörg --last-name Größ --email J.Gross@Example.de \
  --phone "089 7654321" --country DE --city München --attr industry=food
"$crm" contact add --first-name Élodie --last-name Martin --email elodie@example.fr \
  --phone "+33 1 42 68 53 00" --country fr --city Paris --tag newsletter
"$crm" contact add --first-name Ben --last-name Mueller --email ben@example.at \
  --country AT --city Wien --company "Muster AG" --stage lead
"$crm" contact add --first-name Zoë --last-name Yılmaz --email zoe@example.com \
  --phone "0221 5550123" --country DE --city Köln --tag vip --tag newsletter
"$crm" contact note ben@example.at "Met at the fair 2026; wants a quote for 40 seats"
