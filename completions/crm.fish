# fish completion for crm. Names from the config (purposes, channels,
# campaigns, reports, profiles, touchpoints, phases, owners) come from
# `crm __complete KIND`, run with the --config/--db of the line.
#
# Install it as fish/vendor_completions.d/crm.fish, or load it by hand with
# `crm completion fish | source`.

# The command words typed so far: the words before the cursor that are not
# options or option values.
function __crm_words
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l words
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $t
            case --db --config -f --format --fields --color --now --progress --where --sort --limit \
                --unset --attr --tag --external-id --email --phone --first-name --last-name \
                --company --street --postcode --city --country --birthdate --stage --owner --source \
                --due --due-before --strategy --from --to -o --output --param --purpose \
                --channel --proof --at --label --consent-purpose --consent-channel \
                --phase --amount --rating --campaign --min-ratings --map \
                --input-format --encoding --delimiter --rejects --max-rejects --batch \
                --phases --by --model --window --run-id --run --campaigns
                set skip 1
            case '-*'
            case '*'
                set -a words $t
        end
    end
    for w in $words
        echo $w
    end
end

# __crm_names KIND: the names of KIND in the config this line uses.
function __crm_names
    set -l tokens (commandline -opc)
    set -l crm $tokens[1]
    set -l config
    set -l n (count $tokens)
    for i in (seq 2 $n)
        switch $tokens[$i]
            case --config --db
                if test $i -lt $n
                    set -a config $tokens[$i] $tokens[(math $i + 1)]
                end
            case '--config=*' '--db=*'
                set -a config $tokens[$i]
        end
    end
    $crm $config __complete $argv[1] 2>/dev/null
end

# __crm_at WORDS...: the command words are exactly WORDS.
function __crm_at
    set -l words (__crm_words)
    test (count $words) -eq (count $argv); or return 1
    test "$words" = "$argv"
end

# __crm_in WORDS...: the command words start with WORDS.
function __crm_in
    set -l words (__crm_words)
    set -l n (count $argv)
    test (count $words) -ge $n; or return 1
    test "$words[1..$n]" = "$argv"
end

# Values for --fields and --sort: a comma-separated list of names.
function __crm_field_list
    set -l token (string replace -r -- '^--(fields|sort)=' '' (commandline -ct))
    set -l prefix (string replace -r -- '[^,]*$' '' $token)
    set -l names
    if __crm_in contact history
        set names id contact_id at action source detail help
    else if __crm_in score explain
        set names contact_id model part points reason help
    else if __crm_in score
        set names contact_id model value label at help
    else if __crm_in journey show
        set names id contact_id touchpoint channel phase at amount rating campaign attrs batch_id phase_change help
    else if __crm_in journey funnel
        set names channel step phase contacts of_previous_pct of_first_pct help
    else if __crm_in journey map
        set names phase touchpoint contacts events moved_on moved_on_pct ratings satisfaction nps weakest help
    else if __crm_in contact task
        set names id contact_id owner due_at text created_at done_at first_name last_name email phone help
    else
        set names id external_id email phone first_name last_name company street postcode \
            city country birthdate stage owner source created_at updated_at tags attr. 'attr.*' help
    end
    for name in $names
        printf '%s%s\n' $prefix $name
    end
end

complete -c crm -f

# Global options, accepted everywhere.
complete -c crm -l db -r -F -d 'Database file'
complete -c crm -l config -r -F -d 'Config file'
complete -c crm -s f -l format -x -a 'table csv tsv json ndjson vcard svg html' -d 'Output format'
complete -c crm -l fields -x -a '(__crm_field_list)' -d 'Choose and order output columns'
complete -c crm -l no-header -d 'No header row in table, csv and tsv'
complete -c crm -l color -x -a 'auto always never' -d 'Colour'
complete -c crm -l now -x -d 'The clock, RFC 3339 or YYYY-MM-DD'
complete -c crm -s q -l quiet -d 'Less on stderr: no progress, no summaries'
complete -c crm -s v -l verbose -d 'More on stderr'
complete -c crm -l progress -x -a 'auto always never' -d 'Progress bar'
complete -c crm -s V -l version -d 'Print the version and exit'
complete -c crm -s h -l help -d 'Print the help and exit'

# Commands.
complete -c crm -n '__crm_at' -a init -d 'Create the database (mode 0600) and a starter crm.toml'
complete -c crm -n '__crm_at' -a contact -d 'Add, find, change and delete contacts'
complete -c crm -n '__crm_at' -a consent -d 'Record and check consent: the append-only ledger'
complete -c crm -n '__crm_at' -a score -d 'Compute, list and explain scores (rfm, abc, lead, nps, churn)'
complete -c crm -n '__crm_at' -a journey -d 'Events, timelines and the customer journey map'
complete -c crm -n '__crm_at' -a campaign -d 'Select campaign audiences: consent-safe, capped, idempotent'
complete -c crm -n '__crm_at' -a export -d 'Export data and run reports for shell pipelines'
complete -c crm -n '__crm_at' -a db -d 'Maintain the database file'
complete -c crm -n '__crm_at' -a config -d 'Check and show the configuration'
complete -c crm -n '__crm_at' -a completion -d 'Print the completion script for a shell'
complete -c crm -n '__crm_at' -a help -d 'Show the help of a command'

# crm contact
complete -c crm -n '__crm_at contact' -a add -d 'Add a contact'
complete -c crm -n '__crm_at contact' -a import -d 'Import contacts from csv, tsv, json, ndjson or vCard'
complete -c crm -n '__crm_at contact' -a show -d 'Show contacts with all their attributes'
complete -c crm -n '__crm_at contact' -a list -d 'List contacts'
complete -c crm -n '__crm_at contact' -a search -d 'Find contacts by name, email, company, city, notes'
complete -c crm -n '__crm_at contact' -a update -d 'Change contacts'
complete -c crm -n '__crm_at contact' -a erase -d 'Erase a person everywhere (GDPR Art. 17), keeping only a tombstone'
complete -c crm -n '__crm_at contact' -a purge -d 'List (or with --apply erase) the contacts the [retention] rule selects'
complete -c crm -n '__crm_in contact purge' -l apply -d 'Erase them'
complete -c crm -n '__crm_at contact' -a delete -d 'Delete contacts that have no history'
complete -c crm -n '__crm_at contact' -a tag -d 'Add tags to contacts'
complete -c crm -n '__crm_at contact' -a untag -d 'Remove tags from contacts'
complete -c crm -n '__crm_at contact' -a note -d 'Add a note to contacts'
complete -c crm -n '__crm_at contact' -a history -d 'Show what changed on a contact, oldest first'
complete -c crm -n '__crm_at contact' -a exists -d 'Answer by exit status whether contacts exist'
complete -c crm -n '__crm_at contact' -a dedupe -d 'List candidate duplicates; --apply merges them'
complete -c crm -n '__crm_at contact' -a merge -d 'Merge duplicates into the contact to keep'
complete -c crm -n '__crm_at contact' -a task -d 'Follow-up tasks: add, list, done'
complete -c crm -n '__crm_at contact' -a assign -d 'Give contacts without an owner to the owners of [owners]'
complete -c crm -n '__crm_at contact task' -a add -d 'Add a follow-up for a contact, due at a time'
complete -c crm -n '__crm_at contact task' -a list -d 'List open tasks, the earliest due first'
complete -c crm -n '__crm_at contact task' -a done -d 'Mark a task done'

for sub in add update
    complete -c crm -n "__crm_in contact $sub" -l external-id -x -d 'Set external_id'
    complete -c crm -n "__crm_in contact $sub" -l email -x -d 'Set email'
    complete -c crm -n "__crm_in contact $sub" -l phone -x -d 'Set phone'
    complete -c crm -n "__crm_in contact $sub" -l first-name -x -d 'Set first_name'
    complete -c crm -n "__crm_in contact $sub" -l last-name -x -d 'Set last_name'
    complete -c crm -n "__crm_in contact $sub" -l company -x -d 'Set company'
    complete -c crm -n "__crm_in contact $sub" -l street -x -d 'Set street'
    complete -c crm -n "__crm_in contact $sub" -l postcode -x -d 'Set postcode'
    complete -c crm -n "__crm_in contact $sub" -l city -x -d 'Set city'
    complete -c crm -n "__crm_in contact $sub" -l country -x -d 'Set country (ISO 3166 alpha-2)'
    complete -c crm -n "__crm_in contact $sub" -l birthdate -x -d 'Set birthdate (YYYY-MM-DD)'
    complete -c crm -n "__crm_in contact $sub" -l stage -x -d 'Set stage'
    complete -c crm -n "__crm_in contact $sub" -l owner -x -a '(__crm_names owners)' -d 'Set owner'
    complete -c crm -n "__crm_in contact $sub" -l source -x -d 'Set source'
    complete -c crm -n "__crm_in contact $sub" -l attr -x -d 'Set a custom attribute (key=value; key= removes it)'
    complete -c crm -n "__crm_in contact $sub" -l tag -x -d 'Add a tag'
end
complete -c crm -n '__crm_in contact update' -l unset -x -d 'Clear a field or attr.NAME' \
    -a 'external_id email phone first_name last_name company street postcode city country birthdate stage owner source attr.'
for sub in update delete tag untag
    complete -c crm -n "__crm_in contact $sub" -l ids -d 'With - : print the ids of the contacts'
end
complete -c crm -n '__crm_in contact delete' -l force -d 'Delete also contacts with events, consents or memberships'
complete -c crm -n '__crm_in contact list' -l where -x -d 'Filter expression'
complete -c crm -n '__crm_in contact list' -l sort -x -a '(__crm_field_list)' -d 'Sort by FIELD[,-FIELD]'
complete -c crm -n '__crm_in contact list' -l limit -x -d 'At most N rows'
complete -c crm -n '__crm_in contact search' -l limit -x -d 'At most N results (0 = all; default 20)'
complete -c crm -n '__crm_in contact import' -l input-format -x -a 'csv tsv json ndjson vcard' -d 'Input format'
complete -c crm -n '__crm_in contact import' -l encoding -x -d 'Input encoding, like cp1252'
complete -c crm -n '__crm_in contact import' -l delimiter -x -d 'csv delimiter'
complete -c crm -n '__crm_in contact import' -l map -x -d 'Map a column: "Source Column=field"'
complete -c crm -n '__crm_in contact import' -l profile -x -a '(__crm_names profiles)' -d 'A built-in profile or [import.profiles.NAME]'
complete -c crm -n '__crm_in contact import' -l no-profile -d 'Do not recognise a known export from its header'
complete -c crm -n '__crm_in contact import' -l key -x -a 'email external_id phone none' -d 'Identity of a known contact'
complete -c crm -n '__crm_in contact import' -l on-conflict -x -a 'update skip fail' -d 'What a known contact gets'
complete -c crm -n '__crm_in contact import' -l strict -d 'An unmapped column is an error'
for sub in add update import
    complete -c crm -n "__crm_in contact $sub" -l allow-erased -d 'Accept an email or phone of an erased person'
end
complete -c crm -n '__crm_in contact import' -l consent-purpose -x -a '(__crm_names purposes)' -d 'Purpose that consent evidence is recorded for'
complete -c crm -n '__crm_in contact import' -l consent-channel -x -a '(__crm_names channels)' -d 'Channel of that evidence'

# crm consent
complete -c crm -n '__crm_at consent' -a grant -d 'Record a consent for a purpose (and channel)'
complete -c crm -n '__crm_at consent' -a withdraw -d 'Record the withdrawal of a consent'
complete -c crm -n '__crm_at consent' -a object -d 'Record an objection (GDPR Art. 21)'
complete -c crm -n '__crm_at consent' -a request -d 'Start a double opt-in; prints its token'
complete -c crm -n '__crm_at consent' -a confirm -d 'Complete a double opt-in with its token'
complete -c crm -n '__crm_at consent' -a show -d 'Current state per purpose and channel'
complete -c crm -n '__crm_at consent' -a history -d 'The ledger entries of contacts'
complete -c crm -n '__crm_at consent' -a check -d 'Exit 0 if the contact may be contacted now, 1 if not'
complete -c crm -n '__crm_at consent' -a import -d 'Append ledger entries from csv, tsv, json or ndjson'
complete -c crm -n '__crm_at consent' -a verify -d 'Walk the hash chain of the ledger'
complete -c crm -n '__crm_in consent import' -F
complete -c crm -n '__crm_in consent import' -l input-format -x -a 'csv tsv json ndjson' -d 'Input format'
complete -c crm -n '__crm_in consent import' -l encoding -x -d 'Input encoding, like cp1252'
complete -c crm -n '__crm_in consent import' -l delimiter -x -d 'csv delimiter'
complete -c crm -n '__crm_in consent import' -l rejects -r -F -d 'Write rejected rows to FILE'
complete -c crm -n '__crm_in consent import' -l max-rejects -x -d 'Abort past N rejects'
complete -c crm -n '__crm_in consent import' -l batch -x -d 'Rows per transaction'
complete -c crm -n '__crm_in consent import' -l dry-run -d 'Validate and count, write nothing'
for sub in grant withdraw object request check
    complete -c crm -n "__crm_in consent $sub" -l purpose -x -a '(__crm_names purposes)' -d 'Purpose of [consent.purposes]'
    complete -c crm -n "__crm_in consent $sub" -l channel -x -a '(__crm_names channels)' -d 'Channel of the purpose'
end
for sub in grant withdraw object request
    complete -c crm -n "__crm_in consent $sub" -l source -x -d 'Where the entry comes from'
    complete -c crm -n "__crm_in consent $sub" -l at -x -d 'When it happened (RFC 3339 or YYYY-MM-DD)'
end
for sub in grant withdraw object
    complete -c crm -n "__crm_in consent $sub" -l proof -x -d 'Evidence: form version, IP, token'
end
complete -c crm -n '__crm_in contact import' -l rejects -r -F -d 'Write rejected rows to FILE'
complete -c crm -n '__crm_in contact import' -l max-rejects -x -d 'Abort past N rejects'
complete -c crm -n '__crm_in contact import' -l dry-run -d 'Validate and count, write nothing'
complete -c crm -n '__crm_in contact import' -l batch -x -d 'Rows per transaction'
complete -c crm -n '__crm_in contact task add' -l due -x -d 'Due: a date, a timestamp, or a duration from now'
complete -c crm -n '__crm_in contact task add' -l owner -x -a '(__crm_names owners)' -d 'Who does it'
complete -c crm -n '__crm_in contact task list' -l owner -x -a '(__crm_names owners)' -d 'Only this owner'\''s tasks'
complete -c crm -n '__crm_in contact task list' -l due-before -x -d 'Only tasks due before T'
complete -c crm -n '__crm_in contact task list' -l overdue -d 'Only tasks past their due time'
complete -c crm -n '__crm_in contact assign' -l where -x -d 'Only contacts matching this filter'
complete -c crm -n '__crm_in contact assign' -l strategy -x -a 'round_robin least_loaded' -d 'How owners are picked'
complete -c crm -n '__crm_in contact assign' -l ids -d 'Print the ids of the contacts given an owner'
complete -c crm -n '__crm_in contact dedupe' -l apply -d 'Merge each group into its survivor'
complete -c crm -n '__crm_in contact dedupe' -l ignore -x -d 'Mark contacts A and B as not duplicates'
complete -c crm -n '__crm_in contact import' -l ids -d 'Print the ids of the contacts inserted or updated'
complete -c crm -n '__crm_in contact import' -l undo -x -d 'Revert what import batch BATCH created or changed'

# crm score
complete -c crm -n '__crm_at score' -a run -d 'Compute all or the named models, as of --now'
complete -c crm -n '__crm_at score' -a show -d "Show a contact's scores, one row per model"
complete -c crm -n '__crm_at score' -a list -d 'List the scores of a model, by contact id'
complete -c crm -n '__crm_at score' -a explain -d 'Explain why a contact got its scores, part by part'
complete -c crm -n '__crm_in score run' -a '(__crm_names models)' -d 'Model'
complete -c crm -n '__crm_at score list' -a '(__crm_names models)' -d 'Model'
complete -c crm -n '__crm_in score list' -l label -x -a 'champions loyal potential_loyalist new promising need_attention about_to_sleep at_risk cannot_lose hibernating A B C promoter passive detractor active lapsed' -d 'Only scores with this label'
complete -c crm -n '__crm_in score list' -l where -x -d 'Only contacts matching this filter'
complete -c crm -n '__crm_in score list' -l sort -x -a 'contact_id value label at -contact_id -value -label -at' -d 'Sort by FIELD[,-FIELD]'
complete -c crm -n '__crm_in score list' -l limit -x -d 'At most N rows'
# crm journey
complete -c crm -n '__crm_at journey' -a log -d 'Record an event: a contact went through a touchpoint'
complete -c crm -n '__crm_at journey' -a import -d 'Import events from csv, tsv, json or ndjson'
complete -c crm -n '__crm_at journey' -a show -d "A contact's timeline, oldest first, phase changes marked"
complete -c crm -n '__crm_at journey' -a map -d 'The customer journey map'
complete -c crm -n '__crm_at journey' -a funnel -d 'Conversion between phases, step by step'
complete -c crm -n '__crm_at journey' -a attribution -d 'Credit conversions and their revenue to the touchpoints before them'
complete -c crm -n '__crm_in journey attribution' -l model -x -a 'last first linear time_decay position' -d 'Attribution model'
complete -c crm -n '__crm_in journey attribution' -l by -x -a 'touchpoint channel campaign' -d 'What earns the credit'
complete -c crm -n '__crm_in journey attribution' -l window -x -d 'Touches this long before a conversion count'
complete -c crm -n '__crm_in journey attribution' -l where -x -d 'Only contacts matching this filter'
complete -c crm -n '__crm_in journey attribution' -l from -x -d 'Only conversions at or after T'
complete -c crm -n '__crm_in journey attribution' -l to -x -d 'Only conversions before T'
complete -c crm -n '__crm_at journey' -a stage -d 'Recompute lifecycle stages from [[journey.stages]]'
complete -c crm -n '__crm_in journey stage' -l where -x -d 'Only contacts matching this filter'
complete -c crm -n '__crm_in journey stage' -l force -d 'Recompute also stages set by hand'
complete -c crm -n '__crm_in journey stage' -l ids -d 'Print the ids of the contacts whose stage changed'
complete -c crm -n '__crm_in journey funnel' -l phases -x -d 'The steps, in order (default: all phases)'
complete -c crm -n '__crm_in journey funnel' -l by -x -a channel -d 'One funnel per entry channel'
complete -c crm -n '__crm_in journey funnel' -l where -x -d 'Only contacts matching this filter'
complete -c crm -n '__crm_in journey funnel' -l from -x -d 'Only events at or after T'
complete -c crm -n '__crm_in journey funnel' -l to -x -d 'Only events before T'
complete -c crm -n '__crm_in journey log' -l channel -x -a '(__crm_names channels)' -d "The channel (default: the touchpoint's)"
complete -c crm -n '__crm_in journey log' -l phase -x -a '(__crm_names phases)' -d "The journey phase (default: the touchpoint's)"
complete -c crm -n '__crm_in journey log' -l at -x -d 'When (default: now)'
complete -c crm -n '__crm_in journey log' -l amount -x -d 'Money, like 12.30'
complete -c crm -n '__crm_in journey log' -l rating -x -a '0 1 2 3 4 5 6 7 8 9 10' -d 'Satisfaction 0-10'
complete -c crm -n '__crm_in journey log' -l campaign -x -a '(__crm_names campaigns)' -d 'The campaign that led to it'
complete -c crm -n '__crm_in journey log' -l attr -x -d 'An attribute of the event, key=value'
complete -c crm -n '__crm_at journey import' -F -d 'Input file, or - for stdin'
complete -c crm -n '__crm_in journey import' -l input-format -x -a 'csv tsv json ndjson' -d 'Input format'
complete -c crm -n '__crm_in journey import' -l encoding -x -d 'Input encoding, like cp1252'
complete -c crm -n '__crm_in journey import' -l delimiter -x -d 'csv delimiter'
complete -c crm -n '__crm_in journey import' -l map -x -d 'Map a column: "Source Column=field"'
complete -c crm -n '__crm_in journey import' -l rejects -r -F -d 'Write rejected rows to FILE'
complete -c crm -n '__crm_in journey import' -l max-rejects -x -d 'Abort past N rejects'
complete -c crm -n '__crm_in journey import' -l dry-run -d 'Validate and count, write nothing'
complete -c crm -n '__crm_in journey import' -l batch -x -d 'Rows per transaction'
complete -c crm -n '__crm_in journey map' -l where -x -d 'Only contacts matching this filter'
complete -c crm -n '__crm_in journey map' -l from -x -d 'Only events at or after T'
complete -c crm -n '__crm_in journey map' -l to -x -d 'Only events before T'
complete -c crm -n '__crm_in journey map' -l min-ratings -x -d 'Ratings a touchpoint needs to be judged'

# crm export
complete -c crm -n '__crm_at export' -a contacts -d 'Export contacts with tags'
complete -c crm -n '__crm_at export' -a events -d 'Export journey events'
complete -c crm -n '__crm_at export' -a consents -d 'Export consent ledger entries'
complete -c crm -n '__crm_at export' -a scores -d 'Export scores per contact and model'
complete -c crm -n '__crm_at export' -a runs -d 'Export campaign runs'
complete -c crm -n '__crm_at export' -a members -d 'Export campaign members'
complete -c crm -n '__crm_at export' -a tasks -d 'Export follow-up tasks'
complete -c crm -n '__crm_at export' -a report -d 'Run a report'
for kind in contacts events consents scores runs members tasks
    complete -c crm -n "__crm_in export $kind" -l where -x -d 'Filter over the contact'
    complete -c crm -n "__crm_in export $kind" -l sort -x -d 'Sort by FIELD[,-FIELD]'
    complete -c crm -n "__crm_in export $kind" -l limit -x -d 'At most N rows'
    complete -c crm -n "__crm_in export $kind" -s o -l output -r -F -d 'Write to FILE, whole or not at all'
end
for kind in contacts events consents scores runs tasks
    complete -c crm -n "__crm_in export $kind" -l from -x -d 'Only rows at or after T'
    complete -c crm -n "__crm_in export $kind" -l to -x -d 'Only rows before T'
end
complete -c crm -n '__crm_at export report' -a '(__crm_names reports)' -d 'Report'
complete -c crm -n '__crm_in export report' -l param -x -d 'A :NAME parameter (NAME=VALUE)'
complete -c crm -n '__crm_in export report' -s o -l output -r -F -d 'Write to FILE, whole or not at all'
complete -c crm -n '__crm_at export' -a subject -d 'Everything stored about a person, as one JSON document'
complete -c crm -n '__crm_in export subject' -s o -l output -r -F -d 'Write to FILE, whole or not at all'
complete -c crm -n '__crm_in db query' -l param -x -d 'A :NAME parameter (NAME=VALUE)'

# crm db
complete -c crm -n '__crm_at db' -a migrate -d "Bring the database to this crm's schema"
complete -c crm -n '__crm_at db' -a check -d 'Check integrity; problems are printed, exit 1'
complete -c crm -n '__crm_at db' -a backup -d 'Write a consistent copy, safe while others write'
complete -c crm -n '__crm_at db' -a vacuum -d 'Rebuild the file, dropping free pages'
complete -c crm -n '__crm_at db' -a stats -d 'Show sizes and row counts'
complete -c crm -n '__crm_at db' -a schema -d 'Show the tables and views (see crm-schema(5))'
complete -c crm -n '__crm_at db' -a query -d 'Run one read-only SQL statement'
complete -c crm -n '__crm_at db backup' -F -d 'Backup file (must not exist)'

# crm config
complete -c crm -n '__crm_at config' -a check -d 'Validate the config'
complete -c crm -n '__crm_at config' -a show -d 'Print the effective settings'
complete -c crm -n '__crm_in config show' -l origin -d 'Also say which file and line (or default) each came from'

# crm campaign
complete -c crm -n '__crm_at campaign' -a list -d 'The campaigns of the config and their runs'
complete -c crm -n '__crm_at campaign' -a show -d "A campaign's definition and run statistics"
complete -c crm -n '__crm_at campaign' -a select -d 'Choose and record the audience of a run; print its members'
complete -c crm -n '__crm_at campaign show; or __crm_at campaign select; or __crm_at campaign respond; or __crm_at campaign report' -f -a '(__crm_names campaigns)' -d 'Campaign'
complete -c crm -n '__crm_in campaign select' -l run-id -x -d 'The run (default: the campaign and its period)'
complete -c crm -n '__crm_in campaign select' -l limit -x -d 'At most N members (after the holdout)'
complete -c crm -n '__crm_in campaign select' -l dry-run -d 'Decide but record nothing'
complete -c crm -n '__crm_in campaign select' -l explain -d 'Print why each contact of the segment was left out'
complete -c crm -n '__crm_in campaign select' -l include-holdout -d 'Print the control group too'
complete -c crm -n '__crm_at campaign' -a respond -d "Record a contact's response to a campaign"
complete -c crm -n '__crm_in campaign respond' -l run -x -d 'The run id (default: the latest run with the contact)'
complete -c crm -n '__crm_in campaign respond' -l amount -x -d 'Revenue of a conversion, like 12.30'
complete -c crm -n '__crm_in campaign respond' -l at -x -d 'When (default: now)'
complete -c crm -n '__crm_at campaign' -a import-responses -d 'Import responses from csv, tsv, json or ndjson'
complete -c crm -n '__crm_in campaign import-responses' -l input-format -x -a 'csv tsv json ndjson' -d 'Input format'
complete -c crm -n '__crm_in campaign import-responses' -l encoding -x -d 'Input encoding'
complete -c crm -n '__crm_in campaign import-responses' -l delimiter -x -d 'csv delimiter'
complete -c crm -n '__crm_in campaign import-responses' -l map -x -d 'Map a column: "Source Column=field"'
complete -c crm -n '__crm_in campaign import-responses' -l rejects -r -F -d 'Write rejected rows to FILE'
complete -c crm -n '__crm_in campaign import-responses' -l max-rejects -x -d 'Abort past N rejects'
complete -c crm -n '__crm_in campaign import-responses' -l dry-run -d 'Validate and count, write nothing'
complete -c crm -n '__crm_in campaign import-responses' -l batch -x -d 'Rows per transaction'
complete -c crm -n '__crm_at campaign' -a report -d 'Rates, revenue and the uplift over the holdout, per run'
complete -c crm -n '__crm_in campaign report' -l run -x -d 'Only this run id'
complete -c crm -n '__crm_in campaign report' -l window -x -d 'Count conversions this long after the run'
complete -c crm -n '__crm_at campaign' -a plan -d 'Next best action: the one campaign each contact would get now'
complete -c crm -n '__crm_in campaign plan' -l campaigns -x -d 'Only these campaigns, comma-separated'

# crm completion
complete -c crm -n '__crm_at completion' -a 'bash zsh fish' -d 'Shell'

# crm help
complete -c crm -n '__crm_at help' -a 'init contact consent journey campaign score export db config completion help' -d 'Command'
complete -c crm -n '__crm_at help export' -a 'contacts events consents scores runs members tasks report subject' -d 'Subcommand'
complete -c crm -n '__crm_at help contact' -a 'add import show list search update erase purge delete tag untag note history exists dedupe merge task assign' -d 'Subcommand'
complete -c crm -n '__crm_at help consent' -a 'grant withdraw object request confirm show history check import verify' -d 'Subcommand'
complete -c crm -n '__crm_at help score' -a 'run show list explain' -d 'Subcommand'
complete -c crm -n '__crm_at help journey' -a 'log import show map funnel stage attribution' -d 'Subcommand'
complete -c crm -n '__crm_at help db' -a 'migrate check backup vacuum stats schema query' -d 'Subcommand'
complete -c crm -n '__crm_at help config' -a 'check show' -d 'Subcommand'
complete -c crm -n '__crm_at help campaign' -a 'list show select' -d 'Subcommand'
