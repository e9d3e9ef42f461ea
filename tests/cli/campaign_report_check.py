#!/usr/bin/env python3
"""Independent check of `crm campaign report` (tests/cli/test_campaign_response.sh).

    campaign_report_check.py DB CAMPAIGN REPORT.json WINDOW_DAYS

Recomputes every run's numbers from the tables with plain SQL and Python
(nothing here calls crm's code): members and holdout from campaign_member;
response counts as distinct contacts per type; a conversion is a member with
an event of the conversion touchpoint ('purchase') in (run time, run time +
window]; rates are shares of the treated members; the uplift is
100 * (p1 - p0) with the 95% Wald interval
100 * (p1 - p0 +- 1.959964 * sqrt(p1 (1 - p1) / n1 + p0 (1 - p0) / n0)).
Prints one line per difference and exits 1 if there is any.
"""
import datetime as dt
import json
import math
import sqlite3
import sys


def main():
    db_path, campaign, report_path, window_days = sys.argv[1:5]
    window = dt.timedelta(days=int(window_days))
    report = {r["run_id"]: r for r in json.load(open(report_path, encoding="utf-8"))}
    db = sqlite3.connect(db_path)
    problems = []

    def near(run, key, want, tol):
        got = report[run].get(key)
        if want is None or got is None:
            if want is not got and not (want is None and got is None):
                problems.append(f"{run} {key}: crm {got}, expected {want}")
            return
        if abs(got - want) > tol:
            problems.append(f"{run} {key}: crm {got}, expected {want}")

    runs = db.execute("SELECT id, run_id, at FROM campaign_run WHERE campaign = ?", (campaign,))
    for run_key, run_id, at in runs.fetchall():
        if run_id not in report:
            continue
        start = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ")
        end = (start + window).strftime("%Y-%m-%dT%H:%M:%SZ")
        groups = {0: [], 1: []}
        for contact, holdout in db.execute(
                "SELECT contact_id, holdout FROM campaign_member WHERE run = ?", (run_key,)):
            groups[holdout].append(contact)
        converted = {0: 0, 1: 0}
        revenue = 0
        for holdout, contacts in groups.items():
            for contact in contacts:
                rows = db.execute(
                    "SELECT amount FROM event WHERE contact_id = ? AND touchpoint = 'purchase' "
                    "AND at >= ? AND at <= ?", (contact, at, end)).fetchall()
                if rows:
                    converted[holdout] += 1
                    if holdout == 0:
                        revenue += sum(a or 0 for (a,) in rows)
        n1, n0 = len(groups[0]), len(groups[1])
        responses = dict(db.execute(
            "SELECT type, count(DISTINCT contact_id) FROM campaign_response WHERE run = ? "
            "GROUP BY type", (run_key,)).fetchall())
        near(run_id, "members", n1, 0)
        near(run_id, "holdout", n0, 0)
        near(run_id, "audience", n1 + n0, 0)
        near(run_id, "conversions", converted[0], 0)
        near(run_id, "holdout_conversions", converted[1], 0)
        near(run_id, "revenue", revenue / 100, 0.001)
        for key, kind in (("delivered", "delivered"), ("opened", "opened"),
                          ("clicked", "clicked"), ("unsubscribed", "unsubscribed")):
            near(run_id, key, responses.get(kind, 0), 0)
        near(run_id, "bounced",
             responses.get("bounced_hard", 0) + responses.get("bounced_soft", 0), 0)
        for key, kind in (("delivered_rate", "delivered"), ("open_rate", "opened"),
                          ("click_rate", "clicked")):
            near(run_id, key, responses.get(kind, 0) / n1 if n1 else None, 0.00006)
        p1 = converted[0] / n1 if n1 else None
        p0 = converted[1] / n0 if n0 else None
        near(run_id, "conversion_rate", p1, 0.00006)
        near(run_id, "holdout_conversion_rate", p0, 0.00006)
        if p1 is not None and p0 is not None:
            se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
            near(run_id, "uplift_pp", 100 * (p1 - p0), 0.0051)
            near(run_id, "uplift_low_pp", 100 * (p1 - p0 - 1.959964 * se), 0.0051)
            near(run_id, "uplift_high_pp", 100 * (p1 - p0 + 1.959964 * se), 0.0051)
        else:
            near(run_id, "uplift_pp", None, 0)
    for p in problems[:10]:
        print(p)
    if not report:
        print("the report is empty")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
