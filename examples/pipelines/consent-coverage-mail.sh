#!/bin/sh
# Mails the consent coverage (the share of contacts that may be contacted,
# per purpose and channel) as an HTML report, e.g. every Monday from cron.
# Usage: REPORT_TO=dpo@example.com examples/pipelines/consent-coverage-mail.sh
# SENDMAIL names the mailer (default: /usr/sbin/sendmail -t); it reads the
# message, headers first, on stdin.
set -eu
to=${REPORT_TO:?set REPORT_TO to the address that gets the report}
sendmail=${SENDMAIL:-/usr/sbin/sendmail -t}
{
  printf 'To: %s\n' "$to"
  printf 'Subject: crm consent coverage %s\n' "$(date -u +%Y-%m-%d)"
  printf 'MIME-Version: 1.0\n'
  printf 'Content-Type: text/html; charset=utf-8\n\n'
  crm export report consent-coverage -f html
} | $sendmail
