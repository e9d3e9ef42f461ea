# Shared by the benchmarks: builds crm (Release), installs the peers and
# makes data with ../shared/data/gen_crm_data.py.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEN="$ROOT/../shared/data/gen_crm_data.py"
CRM="$ROOT/build/bin/crm"
BENCH_DIR=${BENCH_DIR:-$ROOT/build/bench}
mkdir -p "$BENCH_DIR"

bench_setup() {
  "$ROOT/scripts/install-deps"
  local missing=""
  for p in hyperfine sqlite-utils time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing >&2
  fi
  cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build" --target crm crm_phone >/dev/null
  [ -f "$GEN" ] || { echo "bench: $GEN not found" >&2; exit 1; }
}

# contacts_db N: prints the path of a crm database holding N clean generated
# contacts, made once and reused. It is filled by SQL (sqlite3 .import and
# INSERT ... SELECT), the bulk path the benchmarks of reading commands need;
# values are trimmed and lower-cased like crm does, phones stay as generated.
contacts_db() {
  local n=$1
  local dir="$BENCH_DIR/contacts-$n"
  if [ ! -f "$dir/crm.db" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 "$GEN" --contacts "$n" --events-per-contact 0 --seed 7 --clean --out "$dir/data" >&2
    (cd "$dir" && CRM_NOW=2026-11-22T09:30:00Z "$CRM" -q --db crm.db init)
    sqlite3 "$dir/crm.db" >&2 <<SQL
.mode csv
.import $dir/data/contacts.csv staging
BEGIN;
INSERT INTO contact (id, external_id, email, email_norm, phone, first_name, last_name, company,
                     street, postcode, city, country, birthdate, source, created_at, updated_at)
SELECT rowid, external_id, nullif(trim(email), ''), nullif(lower(trim(email)), ''),
       nullif(phone, ''), nullif(first_name, ''), nullif(last_name, ''), nullif(company, ''),
       nullif(street, ''), nullif(postcode, ''), nullif(city, ''), nullif(country, ''),
       nullif(birthdate, ''), nullif(source, ''), created_at, created_at
FROM staging ORDER BY rowid;
INSERT INTO contact_attr (contact_id, key, value)
SELECT rowid, 'industry', industry FROM staging WHERE industry != '';
DROP TABLE staging;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  fi
  echo "$dir/crm.db"
}

# median_ms CMD...: runs CMD 40 times after 5 warm-ups, prints the median
# wall time in milliseconds (hyperfine).
median_ms() {
  local command
  command=$(printf '%q ' "$@")
  hyperfine -N --warmup 5 --runs 40 --export-json "$BENCH_DIR/.h.json" "$command" >/dev/null
  python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' \
    "$BENCH_DIR/.h.json"
}
