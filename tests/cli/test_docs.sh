#!/usr/bin/env bash
# Documentation drift: walks the real help of crm (crm --help, crm CMD
# --help, crm CMD SUB --help) and fails when a command, subcommand or long
# option is missing from the man pages or from the bash, zsh and fish
# completions (asked as each shell would ask them). Also: the man pages
# render without warnings, the completion scripts load, `crm completion
# SHELL` prints them byte for byte, and shellcheck passes on them and on the
# repository's shell scripts.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

SRC=${CRM_SOURCE_DIR:-${GOLDEN_DIR%/tests/cli/golden/*}}
MAN="$SRC/man"
COMPLETIONS="$SRC/completions"

# Commands documented in crm(1) only, with no page of their own.
NO_PAGE=" help completion "
# The values of --format, which its help names only in prose.
FORMATS="table csv tsv json ndjson"

# ---------------------------------------------------------------------------
# The command surface, from the help that CLI11 prints.

# parse_help TEXT: sets HELP_SUBS (names under "Subcommands:"), HELP_LONGS
# and HELP_SHORTS (options under "Options:"), HELP_VALUES (OPTION=a,b,c for
# options with a fixed set of values) and HELP_POSITIONAL_VALUES (the values
# of the first positional with a fixed set).
parse_help() {
  local section="" line entry first name
  HELP_SUBS=() HELP_LONGS=() HELP_SHORTS=() HELP_VALUES=() HELP_POSITIONAL_VALUES=""
  while IFS= read -r line; do
    case "$line" in
      Options:) section=options; continue ;;
      Subcommands:) section=subcommands; continue ;;
      Positionals:) section=positionals; continue ;;
      "") continue ;;
      [!\ ]*) section=""; continue ;;
    esac
    # Entries are indented by two spaces; wrapped descriptions by more.
    [[ $line =~ ^\ \ ([^\ ].*)$ ]] || continue
    entry=${BASH_REMATCH[1]}
    first=${entry%% *}
    case "$section" in
      options)
        IFS=, read -ra names <<<"$first"
        for name in "${names[@]}"; do
          case "$name" in
            --*) HELP_LONGS+=("$name") ;;
            -?) HELP_SHORTS+=("$name") ;;
          esac
        done
        if [[ $entry =~ :\{([^}]*)\} ]]; then
          for name in "${names[@]}"; do
            [[ $name == --* ]] && HELP_VALUES+=("$name=${BASH_REMATCH[1]}")
          done
        fi
        ;;
      subcommands) HELP_SUBS+=("$first") ;;
      positionals)
        if [[ -z $HELP_POSITIONAL_VALUES && $entry =~ :\{([^}]*)\} ]]; then
          HELP_POSITIONAL_VALUES=${BASH_REMATCH[1]}
        fi
        ;;
    esac
  done <<<"$1"
}

# help_of WORDS...: the help text of `crm WORDS... --help` in OUT.
help_of() {
  crm "$@" --help
  if [ "$STATUS" -ne 0 ] || [ -z "$OUT" ]; then
    fail "crm $* --help did not print help"
    return 1
  fi
}

# clear_output: forgets the last crm run, so that a failure of a check that
# does not run crm does not show its output.
clear_output() {
  : >"$WORK/.out"
  : >"$WORK/.err"
  STATUS=0
}

declare -A SUBS=() LONGS=() VALUES=() POSITIONAL_VALUES=()
LEAVES=()

begin "the help of crm lists commands and global options"
help_of && parse_help "$OUT"
COMMANDS=("${HELP_SUBS[@]}")
GLOBAL_LONGS=("${HELP_LONGS[@]}")
GLOBAL_SHORTS=("${HELP_SHORTS[@]}")
GLOBAL_VALUES=("${HELP_VALUES[@]}")
if [ "${#COMMANDS[@]}" -gt 0 ] && [ "${#GLOBAL_LONGS[@]}" -gt 0 ]; then ok; else
  fail "found no commands or no global options in 'crm --help'"
fi

for cmd in "${COMMANDS[@]}"; do
  begin "the help of crm $cmd"
  help_of "$cmd" || continue
  ok
  parse_help "$OUT"
  SUBS[$cmd]="${HELP_SUBS[*]}"
  if [ "${#HELP_SUBS[@]}" -eq 0 ]; then
    LEAVES+=("$cmd")
    LONGS[$cmd]="${HELP_LONGS[*]}"
    VALUES[$cmd]="${HELP_VALUES[*]}"
    POSITIONAL_VALUES[$cmd]=$HELP_POSITIONAL_VALUES
    continue
  fi
  for sub in "${HELP_SUBS[@]}"; do
    begin "the help of crm $cmd $sub"
    help_of "$cmd" "$sub" || continue
    ok
    parse_help "$OUT"
    LEAVES+=("$cmd $sub")
    LONGS[$cmd $sub]="${HELP_LONGS[*]}"
    VALUES[$cmd $sub]="${HELP_VALUES[*]}"
    POSITIONAL_VALUES[$cmd $sub]=$HELP_POSITIONAL_VALUES
  done
done

clear_output

# ---------------------------------------------------------------------------
# Man pages.

# roff_text FILE: the page source with hyphens, quotes and font changes
# made plain, so that `\-\-email` reads `--email`.
roff_text() {
  sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\(dq/"/g' -e 's/\\f[BIRP]//g' \
    -e 's/\\&//g' -e 's/\\c$//' "$1"
}

# roff_part FILE MACRO TITLE: the lines after `.MACRO TITLE` (quoted or
# not) up to the next .SH, or .SS when MACRO is SS.
roff_part() {
  roff_text "$1" | awk -v macro=".$2" -v title="$3" '
    /^\.SH/ || (macro == ".SS" && /^\.SS/) { inside = 0 }
    {
      if ($1 == macro) {
        t = substr($0, length(macro) + 2)
        gsub(/^"|"$/, "", t)
        if (t == title) { inside = 1; next }
      }
      if (inside) print
    }'
}

# has_word TEXT WORD: WORD occurs in TEXT, not as part of a longer name.
has_word() {
  local pattern
  # shellcheck disable=SC2016 # a sed expression, not a shell one
  pattern=$(printf '%s' "$2" | sed 's/[].[\*^$()+?{|]/\\&/g')
  grep -qE -- "(^|[^A-Za-z0-9_-])$pattern([^A-Za-z0-9_-]|$)" <<<"$1"
}

# expect_words WHAT TEXT WORDS...: each word occurs in TEXT.
expect_words() {
  local what=$1 text=$2 missing=() word
  shift 2
  for word in "$@"; do
    has_word "$text" "$word" || missing+=("$word")
  done
  if [ "${#missing[@]}" -eq 0 ]; then ok; else
    fail "$what lacks: ${missing[*]}"
  fi
}

# The options a subcommand's own documentation must name: all but the help
# and version flags, which every command takes (crm(1) documents them).
own_options() {
  local option
  for option in $1; do
    case "$option" in --help | --version) ;; *) printf '%s\n' "$option" ;; esac
  done
}

if [ ! -f "$MAN/crm.1" ]; then
  begin "man/crm.1 exists"
  fail "no man page $MAN/crm.1"
else
  begin "crm(1) COMMANDS lists every command and subcommand"
  words=()
  for cmd in "${COMMANDS[@]}"; do
    words+=("crm $cmd")
    for sub in ${SUBS[$cmd]}; do words+=("crm $cmd $sub"); done
  done
  expect_words "the COMMANDS section of crm.1" "$(roff_part "$MAN/crm.1" SH COMMANDS)" "${words[@]}"

  begin "crm(1) GLOBAL OPTIONS lists every global option"
  expect_words "the GLOBAL OPTIONS section of crm.1" \
    "$(roff_part "$MAN/crm.1" SH "GLOBAL OPTIONS")" "${GLOBAL_LONGS[@]}" "${GLOBAL_SHORTS[@]}"
fi

for cmd in "${COMMANDS[@]}"; do
  if [[ $NO_PAGE == *" $cmd "* ]]; then
    begin "crm(1) documents the options of crm $cmd"
    # shellcheck disable=SC2046 # one option per word
    expect_words "crm.1" "$(roff_text "$MAN/crm.1")" $(own_options "${LONGS[$cmd]:-}")
    continue
  fi
  page="$MAN/crm-$cmd.1"
  begin "man/crm-$cmd.1 exists"
  if [ ! -f "$page" ]; then
    fail "no man page $page for 'crm $cmd'"
    continue
  fi
  ok
  if [ -z "${SUBS[$cmd]}" ]; then
    begin "crm-$cmd(1) documents every option"
    # shellcheck disable=SC2046 # one option per word
    expect_words "crm-$cmd.1" "$(roff_text "$page")" $(own_options "${LONGS[$cmd]}")
    continue
  fi
  for sub in ${SUBS[$cmd]}; do
    begin "crm-$cmd(1) documents crm $cmd $sub and every option of it"
    section=$(roff_part "$page" SS "crm $cmd $sub")
    if [ -z "$section" ]; then
      fail "crm-$cmd.1 has no section .SS \"crm $cmd $sub\""
      continue
    fi
    # shellcheck disable=SC2046 # one option per word
    expect_words "the section \"crm $cmd $sub\" of crm-$cmd.1" "$section" \
      $(own_options "${LONGS[$cmd $sub]}")
  done
done

# crm-schema(5) describes every table and view `crm db schema` prints.
begin "crm-schema.5 has a section per table and view of crm db schema"
crm --db "$WORK/schema.db" init -q
crm --db "$WORK/schema.db" db schema -f tsv
if [ "$STATUS" -ne 0 ] || [ -z "$OUT" ]; then
  fail "crm db schema failed ($STATUS): $ERR"
else
  missing=()
  while IFS=$'\t' read -r _ name _; do
    [ "$name" = name ] && continue
    grep -qx "\\.SS $name" "$MAN/crm-schema.5" || missing+=("$name")
  done <<<"$OUT"
  if [ "${#missing[@]}" -eq 0 ]; then ok; else fail "crm-schema.5 lacks: ${missing[*]}"; fi
fi

# crm.toml(5) describes every key of the config schema (schema() in
# src/core/config.cpp, where each key is a leaf("NAME", ...)).
begin "crm.toml.5 describes every key of the config schema"
keys=$(sed -n '/^const Field& schema()/,/^}/p' "$SRC/src/core/config.cpp" | grep -o 'leaf("[a-z_]*"' |
  sed 's/leaf("//; s/"$//' | sort -u)
if [ -z "$keys" ]; then
  fail "no keys found in schema() of $SRC/src/core/config.cpp"
else
  missing=()
  for key in $keys; do
    grep -Eq "^\.(B|BR|I|IP|TP) \"?$key\b" "$MAN/crm.toml.5" || missing+=("$key")
  done
  if [ "${#missing[@]}" -eq 0 ]; then ok; else fail "crm.toml.5 lacks: ${missing[*]}"; fi
fi

if command -v groff >/dev/null 2>&1; then
  for page in "$MAN"/*.[1-9]; do
    begin "$(basename "$page") renders without warnings"
    warnings=$(groff -man -ww -z "$page" 2>&1)
    if [ -z "$warnings" ]; then ok; else fail "groff -man -ww -z $page: $warnings"; fi
  done
else
  echo "SKIP [$SUITE] man pages: groff is not installed" >&2
fi

# ---------------------------------------------------------------------------
# Completions: each shell is asked for the completions of command lines, as
# when the user presses Tab at the end of the line. A query is a command
# line; one ending in a space completes an empty word.

QUERIES=() EXPECTED=()

# query LINE WORDS...: the completions of LINE must include each of WORDS.
query() {
  local line=$1
  shift
  QUERIES+=("$line")
  EXPECTED+=("$*")
}

# query_values LINE A,B,C: the completions of LINE must include A, B and C.
query_values() {
  local values
  IFS=, read -ra values <<<"$2"
  query "$1" "${values[@]}"
}

query "crm " "${COMMANDS[@]}"
query "crm --" "${GLOBAL_LONGS[@]}"
for entry in "${GLOBAL_VALUES[@]}"; do
  query_values "crm ${entry%%=*} " "${entry#*=}"
done
# shellcheck disable=SC2086 # one value per word
query "crm --format " $FORMATS
for cmd in "${COMMANDS[@]}"; do
  # shellcheck disable=SC2086 # one subcommand per word
  [ -n "${SUBS[$cmd]}" ] && query "crm $cmd " ${SUBS[$cmd]}
done
for leaf in "${LEAVES[@]}"; do
  # shellcheck disable=SC2086 # one option per word
  query "crm $leaf --" ${LONGS[$leaf]} "${GLOBAL_LONGS[@]}"
  for entry in ${VALUES[$leaf]}; do
    query_values "crm $leaf ${entry%%=*} " "${entry#*=}"
  done
  positional=${POSITIONAL_VALUES[$leaf]}
  [ -n "$positional" ] && query_values "crm $leaf " "$positional"
done
# Names from the config come from `crm __complete KIND`, with the --config
# of the line: the engines find this crm on PATH.
mkdir -p "$WORK/bin"
ln -sf "$CRM_BIN" "$WORK/bin/crm"
for lib in "$(dirname "$CRM_BIN")"/*.so; do
  [ -e "$lib" ] && ln -sf "$lib" "$WORK/bin/"
done
export PATH="$WORK/bin:$PATH"
cat >"$WORK/names.toml" <<'TOML'
[consent.purposes.letters]
channels = ["post"]
[campaigns.spring]
channel = "post"
purpose = "letters"
[reports.top_cities]
sql = "SELECT city, count(*) FROM contact GROUP BY city"
TOML
with_names="crm --config $WORK/names.toml"
query "$with_names consent grant 1 --purpose " letters
query "$with_names consent check 1 --channel " post
query "$with_names campaign select " spring
query "$with_names export report " summary top_cities
query "$with_names journey log 1 purchase --phase " activation retention
printf '%s\n' "${QUERIES[@]}" >"$WORK/queries"

# Each engine reads $WORK/queries and prints, per query, a line "\1N" (N
# counting from 0) followed by the candidates, one per line.
bash_engine() {
  bash --norc --noprofile -c '
    source "$1" || exit 1
    fn=$(complete -p crm 2>/dev/null | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
    [ -n "$fn" ] || { echo "the script defines no completion for crm" >&2; exit 1; }
    n=0
    while IFS= read -r line; do
      read -ra COMP_WORDS <<<"$line"
      [[ $line == *" " ]] && COMP_WORDS+=("")
      COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
      COMP_LINE=$line
      COMP_POINT=${#line}
      COMPREPLY=()
      "$fn" crm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
      printf "\1%s\n" "$n"
      [ "${#COMPREPLY[@]}" -gt 0 ] && printf "%s\n" "${COMPREPLY[@]}"
      n=$((n + 1))
    done <"$2"' bash "$1" "$WORK/queries"
}

fish_engine() {
  # shellcheck disable=SC2016 # fish code
  fish --no-config -c '
    source $argv[1]; or exit 1
    set -l n 0
    while read -l line
      printf "\1%s\n" $n
      complete -C"$line" | string replace -r "\t.*" ""
      set n (math $n + 1)
    end <$argv[2]' "$1" "$WORK/queries"
}

# zsh completes only inside its line editor: run an interactive zsh on a
# pseudo-terminal, type each query and Tab, and record what the completion
# system adds (compadd is wrapped to print its matches).
zsh_engine() {
  cat >"$WORK/zsh_engine.zsh" <<'ZSH'
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z 'PROMPT= RPROMPT= LISTMAX=100000; unsetopt auto_list list_ambiguous beep zle_bracketed_paste'
zpty -w z 'autoload -U compinit && compinit -u -D'
zpty -w z "source ${(q)1} || print -r -- '<<LOAD''FAILED>>'"
zpty -w z 'zstyle ":completion:*" insert-tab false; zstyle ":completion:*" menu no'
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits
  builtin compadd -A hits "$@"
  (( $#hits )) && print -rl -- "<<HI""T>>"${^hits}
  builtin compadd "$@"
}'
zpty -w z 'crm-capture() { zle complete-word; print -r -- "<<EN""D>>"; }'
zpty -w z 'zle -N crm-capture; bindkey "^I" crm-capture'
zpty -w z 'print -r -- "<<REA""DY>>"'
while zpty -r z line; do
  [[ $line == *'<<LOADFAILED>>'* ]] && exit 1
  [[ $line == *'<<READY>>'* ]] && break
done
n=0
while IFS= read -r query; do
  print -r -- $'\1'$n
  zpty -w -n z "$query"$'\t'
  while zpty -r z line; do
    line=${line//$'\r'/}
    [[ $line == *'<<END>>'* ]] && break
    [[ $line == *'<<HIT>>'* ]] && print -r -- "${line#*<<HIT>>}"
  done
  zpty -w -n z $'\C-u'
  (( n++ ))
done <"$2"
zpty -d z
ZSH
  timeout 120 zsh -f "$WORK/zsh_engine.zsh" "$1" "$WORK/queries"
}

# check_completions SHELL FILE ENGINE: runs the queries and checks them.
check_completions() {
  local shell=$1 file=$2 engine=$3 i missing word
  begin "$shell completion answers"
  if ! "$engine" "$file" >"$WORK/answers.$shell" 2>"$WORK/answers.$shell.err"; then
    fail "$shell could not run the completion of $file: $(head -c 500 "$WORK/answers.$shell.err")"
    return
  fi
  ok
  local -A answers=()
  local current=""
  while IFS= read -r line; do
    if [[ $line == $'\1'* ]]; then
      current=${line#$'\1'}
      answers[$current]=" "
    elif [ -n "$current" ]; then
      answers[$current]+="$line "
    fi
  done <"$WORK/answers.$shell"
  for i in "${!QUERIES[@]}"; do
    begin "$shell completes '${QUERIES[i]}'"
    if [ -z "${answers[$i]:-}" ]; then
      fail "$shell gave no answer for '${QUERIES[i]}'"
      continue
    fi
    missing=()
    read -ra words <<<"${EXPECTED[i]}"
    for word in "${words[@]}"; do
      [[ ${answers[$i]} == *" $word "* ]] || missing+=("$word")
    done
    if [ "${#missing[@]}" -eq 0 ]; then ok; else
      fail "$shell completion ($file) of '${QUERIES[i]}' lacks: ${missing[*]}"
    fi
  done
}

for shell in bash zsh fish; do
  case "$shell" in
    bash) file="$COMPLETIONS/crm.bash" ;;
    zsh) file="$COMPLETIONS/_crm" ;;
    fish) file="$COMPLETIONS/crm.fish" ;;
  esac

  begin "crm completion $shell prints $(basename "$file") byte for byte"
  crm completion "$shell"
  expect_status 0
  same_file "$WORK/.out" "$file"
  clear_output

  begin "$(basename "$file") can be embedded in the binary"
  if grep -qF ')CRM_EMBED"' "$file"; then
    fail "$file contains the raw-string delimiter )CRM_EMBED\""
  else ok; fi

  if ! command -v "$shell" >/dev/null 2>&1; then
    echo "SKIP [$SUITE] $shell completion: $shell is not installed" >&2
    continue
  fi

  begin "$(basename "$file") loads in $shell"
  # shellcheck disable=SC2016 # zsh and fish code
  case "$shell" in
    bash) bash --norc --noprofile -c 'source "$1" && complete -p crm >/dev/null' bash "$file" \
      >"$WORK/load.out" 2>&1 ;;
    zsh) zsh -f -c 'autoload -U compinit && compinit -u -D && source "$1" &&
      [[ $_comps[crm] == _crm ]]' zsh "$file" >"$WORK/load.out" 2>&1 ;;
    fish) fish --no-config -c 'source $argv[1]' "$file" >"$WORK/load.out" 2>&1 ;;
  esac
  STATUS=$?
  if [ "$STATUS" -eq 0 ] && [ ! -s "$WORK/load.out" ]; then ok; else
    fail "$shell cannot load $file: $(head -c 500 "$WORK/load.out")"
  fi

  if [ "$shell" = zsh ]; then
    begin "_crm autoloads from \$fpath"
    mkdir -p "$WORK/fpath"
    cp "$file" "$WORK/fpath/_crm"
    zsh -f -c 'fpath=("$1" $fpath); autoload -U compinit && compinit -u -D &&
      [[ $_comps[crm] == _crm ]]' zsh "$WORK/fpath" >"$WORK/load.out" 2>&1
    STATUS=$?
    if [ "$STATUS" -eq 0 ] && [ ! -s "$WORK/load.out" ]; then ok; else
      fail "compinit does not pick up _crm from \$fpath: $(head -c 500 "$WORK/load.out")"
    fi
  fi

  check_completions "$shell" "$file" "${shell}_engine"
done

# ---------------------------------------------------------------------------
# Shellcheck: the bash completion at every severity; the repository's shell
# scripts at warning and above (the suites' `[ ... ] && ok || fail` is a
# deliberate idiom that shellcheck notes as info, SC2015: ok never fails).

if command -v shellcheck >/dev/null 2>&1; then
  begin "shellcheck passes on completions/crm.bash"
  if report=$(shellcheck -s bash "$COMPLETIONS/crm.bash" 2>&1); then ok; else
    fail "shellcheck completions/crm.bash: $report"
  fi

  scripts=()
  while IFS= read -r -d '' script; do
    case "$script" in
      *.sh) scripts+=("$script") ;;
      *)
        # Files in scripts/, bench/ and .ci/ that are shell scripts.
        if head -n 1 "$script" | grep -qE '^#!.*/(env +)?(ba|da|k)?sh( |$)' ||
          grep -qE '^# shellcheck shell=' "$script"; then
          scripts+=("$script")
        fi
        ;;
    esac
  done < <(find "$SRC" \( -path "$SRC/.git" -o -path "$SRC/build" -o -path "$SRC/build-*" \) -prune \
    -o -type f \( -name '*.sh' -o -path "$SRC/scripts/*" -o -path "$SRC/bench/*" \
    -o -path "$SRC/.ci/run" \) -print0 | sort -z)
  for script in "${scripts[@]}"; do
    begin "shellcheck passes on ${script#"$SRC"/}"
    if report=$(shellcheck -x -P SCRIPTDIR -S warning "$script" 2>&1); then ok; else
      fail "shellcheck ${script#"$SRC"/}: $report"
    fi
  done
  begin "shellcheck found the repository's scripts"
  if [ "${#scripts[@]}" -gt 0 ]; then ok; else fail "no shell scripts found under $SRC"; fi
else
  echo "SKIP [$SUITE] shellcheck: shellcheck is not installed" >&2
fi

finish
