#!/usr/bin/env python3
"""Checks `crm journey attribution -f tsv` against the same credits computed
here from the events CSV the database was loaded from (gen_crm_data.py's
events.csv), with the models of crm-journey(1), and checks that the credits
sum to the number of conversions and to the total revenue.

    journey_attribution_check.py EVENTS_CSV OUT_TSV --model M --by KEY
                                 [--window-days N] [--conversion T]
"""
import argparse
import csv
import datetime as dt
import sys
from decimal import Decimal

HALF_LIFE = 7 * 24 * 3600.0


def weights(model, ages):
    n = len(ages)
    if model == "last":
        return [0.0] * (n - 1) + [1.0]
    if model == "first":
        return [1.0] + [0.0] * (n - 1)
    if model == "linear":
        return [1.0 / n] * n
    if model == "time_decay":
        w = [2 ** (-a / HALF_LIFE) for a in ages]
        s = sum(w)
        return [x / s for x in w]
    if n == 1:
        return [1.0]
    if n == 2:
        return [0.5, 0.5]
    return [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("out")
    ap.add_argument("--model", required=True)
    ap.add_argument("--by", required=True)
    ap.add_argument("--window-days", type=int, default=30)
    ap.add_argument("--conversion", default="purchase")
    a = ap.parse_args()

    seen = set()
    by_contact = {}
    with open(a.events, newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f)):
            key = (row["external_id"], row["touchpoint"], row["at"], row["channel"],
                   row["phase"], row["campaign"])
            if key in seen:
                continue
            seen.add(key)
            at = dt.datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%SZ")
            cents = int(Decimal(row["amount"]) * 100) if row["amount"] else 0
            by_contact.setdefault(row["external_id"], []).append(
                (at, n, row[a.by] or "(none)", row["touchpoint"] == a.conversion, cents))

    credit, revenue = {}, {}
    conversions, total = 0, 0
    window = dt.timedelta(days=a.window_days)
    for events in by_contact.values():
        events.sort(key=lambda e: (e[0], e[1]))
        for at, _, _, is_conversion, cents in events:
            if not is_conversion:
                continue
            conversions += 1
            total += cents
            touches = [e for e in events if not e[3] and at - window <= e[0] < at]
            if not touches:
                credit["(none)"] = credit.get("(none)", 0) + 1
                revenue["(none)"] = revenue.get("(none)", 0) + cents
                continue
            w = weights(a.model, [(at - e[0]).total_seconds() for e in touches])
            for e, x in zip(touches, w):
                credit[e[2]] = credit.get(e[2], 0) + x
                revenue[e[2]] = revenue.get(e[2], 0) + x * cents

    with open(a.out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    got = {r[a.by]: r for r in rows}
    problems = []
    if set(got) != set(credit):
        problems.append(f"keys: crm {sorted(got)}, expected {sorted(credit)}")
    for key, value in credit.items():
        if key not in got:
            continue
        if abs(float(got[key]["conversions"]) - value) > 1e-5:
            problems.append(f"{key} conversions: crm {got[key]['conversions']}, expected {value}")
        if abs(float(got[key]["revenue"]) - revenue[key] / 100) > 0.006:
            problems.append(f"{key} revenue: crm {got[key]['revenue']}, "
                            f"expected {revenue[key] / 100:.4f}")
    crm_conversions = sum(float(r["conversions"]) for r in rows)
    crm_revenue = sum(float(r["revenue"]) for r in rows)
    if abs(crm_conversions - conversions) > 1e-4:
        problems.append(f"credits sum to {crm_conversions}, not {conversions} conversions")
    if abs(crm_revenue - total / 100) > 0.006 * max(1, len(rows)):
        problems.append(f"revenue credits sum to {crm_revenue}, not {total / 100}")
    for p in problems[:20]:
        print(p)
    if problems:
        return 1
    print(f"{a.model} by {a.by}: {len(rows)} keys agree; {conversions} conversions, "
          f"revenue {total / 100:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
