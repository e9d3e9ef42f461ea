# bash completion for crm                                  -*- shell-script -*-
# shellcheck shell=bash
#
# Load it with `source <(crm completion bash)`, or install it as
# bash-completion/completions/crm. Names from the config (purposes,
# channels, campaigns, reports, profiles, touchpoints, phases, owners) come
# from `crm __complete KIND`, run with the --config/--db of the line.

# Options that take a value, of every command (global ones included).
_crm_value_options=" --db --config -f --format --fields --color --now --progress --where --sort --limit --unset --attr --tag --input-format --encoding --delimiter --map --profile --key --on-conflict --rejects --max-rejects --batch --external-id --email --phone --first-name --last-name --company --street --postcode --city --country --birthdate --stage --owner --source --due --due-before --strategy --from --to -o --output --param --purpose --channel --proof --at --label --consent-purpose --consent-channel --phase --amount --rating --campaign --min-ratings --phases --by --model --window --run-id --run --campaigns "

_crm_contact_fields="id external_id email phone first_name last_name company street postcode city country birthdate stage owner source created_at updated_at tags attr."

# _crm_options CMD SUB: the options of a (sub)command, global ones included.
_crm_options() {
  local global="--db --config -f --format --fields --no-header --color --now -q --quiet -v --verbose --progress -V --version -h --help"
  local fields="--external-id --email --phone --first-name --last-name --company --street --postcode --city --country --birthdate --stage --owner --source --attr --tag"
  local own=""
  case "$1 $2" in
    "contact add") own="$fields --allow-erased" ;;
    "contact assign") own="--where --strategy --ids" ;;
    "contact task")
      case "$3" in
        add) own="--due --owner" ;;
        list) own="--owner --due-before --overdue" ;;
      esac
      ;;
    "contact import") own="--input-format --encoding --delimiter --map --profile --no-profile --key --on-conflict --strict --rejects --max-rejects --dry-run --batch --ids --undo --allow-erased --consent-purpose --consent-channel" ;;
    "contact list") own="--where --sort --limit" ;;
    "contact search") own="--limit" ;;
    "contact update") own="$fields --unset --ids --allow-erased" ;;
    "contact delete") own="--force --ids" ;;
    "contact purge") own="--apply" ;;
    "contact tag" | "contact untag") own="--ids" ;;
    "contact dedupe") own="--apply --ignore" ;;
    "config show") own="--origin" ;;
    "consent grant" | "consent withdraw" | "consent object") own="--purpose --channel --source --proof --at" ;;
    "consent request") own="--purpose --channel --source --at" ;;
    "consent check") own="--purpose --channel" ;;
    "consent import") own="--input-format --encoding --delimiter --rejects --max-rejects --batch --dry-run" ;;
    "export contacts" | "export consents" | "export events" | "export scores" | "export runs" | "export tasks") own="--where --from --to --sort --limit -o --output" ;;
    "export members") own="--where --sort --limit -o --output" ;;
    "export report") own="--param -o --output" ;;
    "export subject") own="-o --output" ;;
    "db query") own="--param" ;;
    "score list") own="--label --where --sort --limit" ;;
    "campaign select") own="--run-id --limit --dry-run --explain --include-holdout" ;;
    "campaign respond") own="--run --amount --at" ;;
    "campaign import-responses") own="--input-format --encoding --delimiter --map --rejects --max-rejects --dry-run --batch" ;;
    "campaign report") own="--run --window" ;;
    "campaign plan") own="--campaigns" ;;
    "journey log") own="--channel --phase --at --amount --rating --campaign --attr" ;;
    "journey import") own="--input-format --encoding --delimiter --map --rejects --max-rejects --dry-run --batch" ;;
    "journey map") own="--where --from --to --min-ratings" ;;
    "journey funnel") own="--phases --by --where --from --to" ;;
    "journey stage") own="--where --force --ids" ;;
    "journey attribution") own="--model --by --window --where --from --to" ;;
  esac
  printf '%s\n' "$global $own"
}

# _crm_subcommands CMD: the subcommands of a command.
_crm_subcommands() {
  case "$1" in
    contact) echo "add import show list search update erase purge delete tag untag note history exists dedupe merge task assign" ;;
    consent) echo "grant withdraw object request confirm show history check import verify" ;;
    journey) echo "log import show map funnel stage attribution" ;;
    db) echo "migrate check backup vacuum stats schema query" ;;
    export) echo "contacts events consents scores runs members tasks report subject" ;;
    config) echo "check show" ;;
    score) echo "run show list explain" ;;
    campaign) echo "list show select respond import-responses report plan" ;;
  esac
}

# _crm_list WORDS CUR: completes the last item of a comma-separated list.
_crm_list() {
  local prefix="" part="$2"
  if [[ $part == *,* ]]; then
    prefix="${part%,*},"
    part="${part##*,}"
  fi
  mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$1" -- "$part")
  compopt -o nospace 2>/dev/null
}

# _crm_names KIND: completes the names of KIND the config has; $crm and
# $config are those of the command line.
_crm_names() {
  mapfile -t COMPREPLY < <(compgen -W "$("$crm" "${config[@]}" __complete "$1" 2>/dev/null)" -- "$cur")
}

_crm_files() {
  mapfile -t COMPREPLY < <(compgen -f -- "$1")
  compopt -o filenames 2>/dev/null
}

_crm() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local prev=""
  local cword=$COMP_CWORD
  COMPREPLY=()
  # bash splits --format=csv into --format, =, csv.
  if [[ $cur == "=" ]]; then
    prev="${COMP_WORDS[cword - 1]}"
    cur=""
  elif ((cword >= 2)) && [[ ${COMP_WORDS[cword - 1]} == "=" ]]; then
    prev="${COMP_WORDS[cword - 2]}"
  elif ((cword >= 1)); then
    prev="${COMP_WORDS[cword - 1]}"
    # The value right after an option word is that option's value.
    [[ $prev == -* && $_crm_value_options != *" $prev "* ]] && prev=""
  fi

  # The command words so far: the first words that are not options or
  # option values.
  local -a path=()
  local i word skip=0
  for ((i = 1; i < cword; i++)); do
    word="${COMP_WORDS[i]}"
    if ((skip)); then
      skip=0
      [[ $word == "=" ]] && skip=1
      continue
    fi
    case "$word" in
      =) skip=0 ;;
      --*=*) ;;
      -*)
        [[ $_crm_value_options == *" $word "* ]] && skip=1
        [[ ${COMP_WORDS[i + 1]:-} == "=" ]] && skip=1
        ;;
      *) path+=("$word") ;;
    esac
  done
  local cmd="${path[0]:-}" sub="${path[1]:-}"
  # The binary and config this line uses, for _crm_names.
  local crm="${COMP_WORDS[0]}"
  local -a config=()
  for ((i = 1; i < cword; i++)); do
    case "${COMP_WORDS[i]}" in
      --config | --db) [[ ${COMP_WORDS[i + 1]:-} != "=" ]] && config+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]:-}") ;;
    esac
  done

  case "$prev" in
    --db | --config | --rejects | -o | --output)
      _crm_files "$cur"
      return
      ;;
    --input-format)
      mapfile -t COMPREPLY < <(compgen -W "csv tsv json ndjson vcard" -- "$cur")
      return
      ;;
    --key)
      mapfile -t COMPREPLY < <(compgen -W "email external_id phone none" -- "$cur")
      return
      ;;
    --on-conflict)
      mapfile -t COMPREPLY < <(compgen -W "update skip fail" -- "$cur")
      return
      ;;
    --profile)
      _crm_names profiles
      return
      ;;
    --purpose | --consent-purpose)
      _crm_names purposes
      return
      ;;
    --channel | --consent-channel)
      _crm_names channels
      return
      ;;
    --campaign)
      _crm_names campaigns
      return
      ;;
    --phase)
      _crm_names phases
      return
      ;;
    --owner)
      _crm_names owners
      return
      ;;
    --by)
      if [[ "$cmd $sub" == "journey attribution" ]]; then
        mapfile -t COMPREPLY < <(compgen -W "touchpoint channel campaign" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "channel" -- "$cur")
      fi
      return
      ;;
    --model)
      mapfile -t COMPREPLY < <(compgen -W "last first linear time_decay position" -- "$cur")
      return
      ;;
    --window)
      return
      ;;
    --strategy)
      mapfile -t COMPREPLY < <(compgen -W "round_robin least_loaded" -- "$cur")
      return
      ;;
    --encoding | --delimiter | --map | --max-rejects | --batch | --due | --due-before | --at | --amount | --rating | --min-ratings | --phases | --run | --campaigns)
      return
      ;;
    -f | --format)
      case "$cmd $sub" in
        "export contacts") mapfile -t COMPREPLY < <(compgen -W "table csv tsv json ndjson vcard" -- "$cur") ;;
        "export report" | "journey map") mapfile -t COMPREPLY < <(compgen -W "table csv tsv json ndjson svg html" -- "$cur") ;;
        *) mapfile -t COMPREPLY < <(compgen -W "table csv tsv json ndjson" -- "$cur") ;;
      esac
      return
      ;;
    --color | --progress)
      mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
      return
      ;;
    --fields)
      if [[ "$cmd $sub" == "contact history" ]]; then
        _crm_list "id contact_id at action source detail help" "$cur"
      elif [[ "$cmd $sub" == "score explain" ]]; then
        _crm_list "contact_id model part points reason help" "$cur"
      elif [[ "$cmd" == "score" ]]; then
        _crm_list "contact_id model value label at help" "$cur"
      elif [[ "$cmd $sub" == "journey show" ]]; then
        _crm_list "id contact_id touchpoint channel phase at amount rating campaign attrs batch_id phase_change help" "$cur"
      elif [[ "$cmd $sub" == "journey funnel" ]]; then
        _crm_list "channel step phase contacts of_previous_pct of_first_pct help" "$cur"
      elif [[ "$cmd $sub" == "journey map" ]]; then
        _crm_list "phase touchpoint contacts events moved_on moved_on_pct ratings satisfaction nps weakest help" "$cur"
      elif [[ "$cmd $sub" == "contact task" ]]; then
        _crm_list "id contact_id owner due_at text created_at done_at first_name last_name email phone help" "$cur"
      else
        _crm_list "$_crm_contact_fields attr.* help" "$cur"
      fi
      return
      ;;
    --sort)
      if [[ "$cmd" == "score" ]]; then
        _crm_list "contact_id value label at -contact_id -value -label -at" "$cur"
        return
      fi
      _crm_list "$_crm_contact_fields -id -external_id -email -phone -first_name -last_name -company -street -postcode -city -country -birthdate -stage -owner -source -created_at -updated_at -attr." "$cur"
      return
      ;;
    --unset)
      mapfile -t COMPREPLY < <(compgen -W "external_id email phone first_name last_name company street postcode city country birthdate stage owner source attr." -- "$cur")
      [[ ${COMPREPLY[0]:-} == attr. ]] && compopt -o nospace 2>/dev/null
      return
      ;;
    --label)
      mapfile -t COMPREPLY < <(compgen -W "champions loyal potential_loyalist new promising need_attention about_to_sleep at_risk cannot_lose hibernating A B C promoter passive detractor active lapsed" -- "$cur")
      return
      ;;
    --from | --to | --param)
      return
      ;;
    --proof)
      return
      ;;
    --now | --where | --limit | --attr | --tag | --external-id | --email | --phone | --first-name | --last-name | --company | --street | --postcode | --city | --country | --birthdate | --stage | --source)
      return
      ;;
  esac

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_crm_options "$cmd" "$sub" "${path[2]:-}")" -- "$cur")
    return
  fi

  local commands="init contact consent journey campaign score export db config completion help"
  case "${#path[@]}" in
    0)
      mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
      ;;
    1)
      case "$cmd" in
        contact | consent | journey | campaign | score | export | db | config)
          mapfile -t COMPREPLY < <(compgen -W "$(_crm_subcommands "$cmd")" -- "$cur")
          ;;
        completion)
          mapfile -t COMPREPLY < <(compgen -W "bash zsh fish" -- "$cur")
          ;;
        help)
          mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
          ;;
      esac
      ;;
    2)
      case "$cmd $sub" in
        "db backup" | "contact import" | "consent import" | "journey import")
          _crm_files "$cur"
          ;;
        "contact task")
          mapfile -t COMPREPLY < <(compgen -W "add list done" -- "$cur")
          ;;
        "export report")
          _crm_names reports
          ;;
        "score run" | "score list")
          _crm_names models
          ;;
        "campaign show" | "campaign select" | "campaign respond" | "campaign report")
          _crm_names campaigns
          ;;
        help\ *)
          mapfile -t COMPREPLY < <(compgen -W "$(_crm_subcommands "$sub")" -- "$cur")
          ;;
      esac
      ;;
  esac
}

complete -F _crm crm
