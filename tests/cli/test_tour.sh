#!/usr/bin/env bash
# The README's tour is a golden file: every `$ command` in the code blocks of
# its "A short tour" section runs, in order, in one fresh folder, and what it
# prints (stdout and stderr together) must be the lines the README shows
# under it. A README that drifts from crm fails here.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

SRC=${CRM_SOURCE_DIR:-${GOLDEN_DIR%/tests/cli/golden/*}}
README="$SRC/README.md"

# The tour calls `crm` by name and the generator as ../shared/data/...
mkdir -p "$WORK/bin" "$WORK/tour"
ln -s "$CRM_BIN" "$WORK/bin/crm"
for lib in "$(dirname "$CRM_BIN")"/*.so; do
  [ -e "$lib" ] && ln -s "$lib" "$WORK/bin/"
done
# ...and the shop's config as examples/shop.toml, from the root of a clone.
ln -s "$SRC/examples" "$WORK/tour/examples"
if [ -d "$SRC/../shared" ]; then
  ln -s "$(cd "$SRC/../shared" && pwd)" "$WORK/shared"
else
  echo "SKIP [$SUITE] the tour steps that need ../shared (not found beside $SRC)" >&2
fi

# Splits the tour into steps: STEP_CMD[i] (continuation lines joined) and
# STEP_OUT[i] (the lines the README shows under it).
STEP_CMD=() STEP_OUT=()
in_tour=0 in_block=0 continuing=0
while IFS= read -r line; do
  case $line in
  "## A short tour"*) in_tour=1; continue ;;
  "## "*) in_tour=0 ;;
  esac
  [ "$in_tour" -eq 1 ] || continue
  if [ "${line:0:3}" = '```' ]; then
    in_block=$((1 - in_block))
    continue
  fi
  [ "$in_block" -eq 1 ] || continue
  if [ "$continuing" -eq 1 ]; then
    STEP_CMD[-1]+=$'\n'"$line"
  elif [ "${line:0:2}" = '$ ' ]; then
    STEP_CMD+=("${line:2}")
    STEP_OUT+=("")
  elif [ "${#STEP_CMD[@]}" -gt 0 ]; then
    STEP_OUT[-1]+="$line"$'\n'
  fi
  if [ "${line: -1}" = "\\" ]; then continuing=1; else continuing=0; fi
done <"$README"

begin "the README has a tour"
if [ "${#STEP_CMD[@]}" -ge 5 ]; then ok; else fail "found ${#STEP_CMD[@]} steps in $README"; fi

cd "$WORK/tour" || exit 1
for i in "${!STEP_CMD[@]}"; do
  cmd=${STEP_CMD[i]}
  begin "tour step: ${cmd%%$'\n'*}"
  if [[ $cmd == *../shared/* ]] && [ ! -e "$WORK/shared" ]; then
    ok
    continue
  fi
  got=$(env -i ASAN_OPTIONS=detect_leaks=0 PATH="$WORK/bin:/usr/bin:/bin" HOME="$WORK/home" \
    XDG_CONFIG_HOME="$WORK/home/.config" LC_ALL=C.UTF-8 TZ=UTC \
    CRM_NOW=2026-11-22T09:30:00Z bash -c "$cmd" 2>&1)
  # fail (lib.sh) reports STATUS and the output files.
  # shellcheck disable=SC2034
  STATUS=$?
  printf '%s\n' "$got" >"$WORK/.out"
  : >"$WORK/.err"
  want=${STEP_OUT[i]%$'\n'}
  if [ "$got" = "$want" ]; then
    ok
  else
    fail "the README shows:
$want
crm printed:
$got"
  fi
done

finish
