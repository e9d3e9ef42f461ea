#!/usr/bin/env python3
"""Checks `crm journey map -f tsv` against the same map computed here, from
the events CSV the database was loaded from (gen_crm_data.py's events.csv:
external_id,touchpoint,channel,phase,at,amount,rating,campaign).

    journey_map_check.py EVENTS_CSV MAP_TSV --phases a,b,c --touchpoints x,y
                         [--from T] [--to T] [--min-ratings N]

Written apart from the C++ code: plain Python over the input file, with the
definitions of crm-journey(1). Exits 1 and prints the differences if any.
"""
import argparse
import csv
import math
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("map")
    ap.add_argument("--phases", required=True)
    ap.add_argument("--touchpoints", required=True)
    ap.add_argument("--from", dest="start")
    ap.add_argument("--to", dest="end")
    ap.add_argument("--min-ratings", type=int, default=5)
    a = ap.parse_args()
    phases = a.phases.split(",")
    touchpoints = a.touchpoints.split(",")

    # The same event twice is stored once (the event table's identity).
    seen = set()
    events = []
    with open(a.events, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            at = row["at"]
            if (a.start and at < a.start) or (a.end and at >= a.end):
                continue
            key = (row["external_id"], row["touchpoint"], at, row["channel"], row["phase"],
                   row["campaign"])
            if key in seen:
                continue
            seen.add(key)
            rating = int(row["rating"]) if row["rating"] else None
            events.append((row["external_id"], row["phase"], row["touchpoint"], at, rating))

    by_contact = {}
    for e in events:
        by_contact.setdefault(e[0], []).append(e)

    boxes = {}
    for contact, evs in by_contact.items():
        firsts = {}
        for _, phase, tp, at, rating in evs:
            box = boxes.setdefault((phase, tp), {"events": 0, "contacts": 0, "moved": 0,
                                                 "ratings": []})
            box["events"] += 1
            if rating is not None:
                box["ratings"].append(rating)
            if (phase, tp) not in firsts or at < firsts[(phase, tp)]:
                firsts[(phase, tp)] = at
        for (phase, tp), first in firsts.items():
            box = boxes[(phase, tp)]
            box["contacts"] += 1
            p = phases.index(phase)
            if any(phases.index(e[1]) > p and e[3] > first for e in evs):
                box["moved"] += 1

    def order(key):
        phase, tp = key
        rank = touchpoints.index(tp) if tp in touchpoints else len(touchpoints)
        return (phases.index(phase), rank, tp)

    expected = []
    for key in sorted(boxes, key=order):
        b = boxes[key]
        last = phases.index(key[0]) == len(phases) - 1
        r = b["ratings"]
        nps = (100.0 * (sum(1 for x in r if x >= 9) - sum(1 for x in r if x <= 6)) / len(r)
               if r else None)
        expected.append({
            "phase": key[0], "touchpoint": key[1], "contacts": b["contacts"],
            "events": b["events"], "moved_on": None if last else b["moved"],
            "moved_on_pct": None if last else 100.0 * b["moved"] / b["contacts"],
            "ratings": len(r), "satisfaction": sum(r) / len(r) if r else None, "nps": nps,
            "weakest": False})
    judged = sorted(e["nps"] for e in expected if e["ratings"] >= a.min_ratings)
    if len(judged) >= 2:
        threshold = judged[math.ceil(len(judged) / 4) - 1]
        for e in expected:
            e["weakest"] = e["ratings"] >= a.min_ratings and e["nps"] <= threshold

    with open(a.map, newline="", encoding="utf-8") as f:
        actual = list(csv.DictReader(f, delimiter="\t"))

    problems = []
    if len(actual) != len(expected):
        problems.append(f"rows: crm has {len(actual)}, expected {len(expected)}")
    tolerance = {"moved_on_pct": 0.05, "satisfaction": 0.005, "nps": 0.05}
    for i, (got, want) in enumerate(zip(actual, expected)):
        for column, value in want.items():
            text = got.get(column)
            if column == "weakest":
                ok = (text == "weakest") == value
            elif value is None:
                ok = text == ""
            elif column in tolerance:
                ok = text != "" and abs(float(text) - value) <= tolerance[column] + 1e-9
            elif isinstance(value, int):
                ok = text == str(value)
            else:
                ok = text == value
            if not ok:
                problems.append(f"row {i + 1} ({want['phase']}, {want['touchpoint']}) {column}: "
                                f"crm {text!r}, expected {value!r}")
    for p in problems[:40]:
        print(p)
    if problems:
        return 1
    flagged = sum(1 for e in expected if e["weakest"])
    print(f"{len(expected)} rows agree ({len(events)} events, {flagged} flagged weakest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
