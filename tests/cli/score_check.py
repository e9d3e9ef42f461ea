#!/usr/bin/env python3
"""Independent checks of crm's scores (tests/cli/test_score.sh, bench/score).

    score_check.py load DB DIR          contacts.csv and events.csv of
                                        gen_crm_data.py into a crm database
    score_check.py rfm DB NOW FILE      compare `crm score list rfm -f csv`
    score_check.py abc DB NOW FILE      compare `crm score list abc -f csv`
    score_check.py nps DB NOW FILE      compare `crm score list nps -f csv`
    score_check.py sums DB FILE         `crm score explain - -f tsv` of every
                                        contact: parts add up to the score

Nothing here calls crm's code: RFM is plain SQL with window functions run by
Python's sqlite3, ABC and NPS are plain Python. Prints one line per problem
(at most 10) and exits 1 if there is any.
"""
import csv
import datetime as dt
import sqlite3
import sys
from decimal import Decimal

SEGMENTS = {  # (recency digits, frequency digits) -> label, the usual R x F grid
    ("12", "12"): "hibernating", ("12", "34"): "at_risk", ("12", "5"): "cannot_lose",
    ("3", "12"): "about_to_sleep", ("3", "3"): "need_attention", ("34", "45"): "loyal",
    ("4", "1"): "promising", ("45", "23"): "potential_loyalist", ("5", "1"): "new",
    ("5", "45"): "champions",
}


def segment(r, f):
    for (rs, fs), label in SEGMENTS.items():
        if str(r) in rs and str(f) in fs:
            return label
    raise AssertionError(f"no segment for {r} {f}")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_start(now, days=365):
    return iso(dt.datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ") - dt.timedelta(days=days))


def load(db_path, folder):
    db = sqlite3.connect(db_path)
    ids = {}
    with open(f"{folder}/contacts.csv", newline="", encoding="utf-8") as f:
        rows = []
        for i, row in enumerate(csv.DictReader(f), start=1):
            ids[row["external_id"]] = i
            email = row["email"].strip().lower() or None
            rows.append((i, row["external_id"], row["email"] or None, email,
                         row["first_name"], row["last_name"], row["country"] or None,
                         row["created_at"], row["created_at"]))
    db.executemany("INSERT INTO contact (id, external_id, email, email_norm, first_name, "
                   "last_name, country, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def events():
        with open(f"{folder}/events.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                amount = int(Decimal(row["amount"]) * 100) if row["amount"] else None
                rating = int(row["rating"]) if row["rating"] else None
                yield (ids[row["external_id"]], row["touchpoint"], row["channel"] or None,
                       row["phase"] or None, row["at"], amount, rating, row["campaign"] or None)
    db.executemany("INSERT OR IGNORE INTO event (contact_id, touchpoint, channel, phase, at, "
                   "amount, rating, campaign) VALUES (?,?,?,?,?,?,?,?)", events())
    db.commit()


def read_scores(path):
    with open(path, newline="") as f:
        return {int(r["contact_id"]): (Decimal(r["value"]), r["label"]) for r in csv.DictReader(f)}


RFM_SQL = """
WITH c AS (
  SELECT contact_id AS id, max(at) AS last,
         sum(at > :start) AS freq, coalesce(sum(CASE WHEN at > :start THEN amount END), 0) AS money
  FROM event WHERE touchpoint = 'purchase' AND at <= :now GROUP BY contact_id)
SELECT id,
       6 - ntile(5) OVER (ORDER BY last DESC, id),
       6 - ntile(5) OVER (ORDER BY freq DESC, id),
       6 - ntile(5) OVER (ORDER BY money DESC, id)
FROM c ORDER BY id
"""


def expected_rfm(db, now):
    out = {}
    for cid, r, f, m in db.execute(RFM_SQL, {"start": window_start(now), "now": now}):
        out[cid] = (Decimal(r * 100 + f * 10 + m), segment(r, f))
    return out


def expected_abc(db, now, a=0.80, b=0.95):
    start = window_start(now)
    revenue = {}
    for cid, at, amount in db.execute(
            "SELECT contact_id, at, amount FROM event WHERE touchpoint = 'purchase' AND at <= ?",
            (now,)):
        revenue.setdefault(cid, 0)
        if at > start and amount is not None:
            revenue[cid] += amount
    total = sum(revenue.values())
    out, before = {}, 0
    for cid in sorted(revenue, key=lambda c: (-revenue[c], c)):
        cls = "A" if total and before < a * total else "B" if total and before < b * total else "C"
        out[cid] = (Decimal(revenue[cid]) / 100, cls)
        before += revenue[cid]
    return out


def expected_nps(db, now):
    latest = {}
    for cid, at, eid, rating in db.execute(
            "SELECT contact_id, at, id, rating FROM event WHERE rating IS NOT NULL AND at <= ?",
            (now,)):
        if cid not in latest or (at, eid) > latest[cid][0]:
            latest[cid] = ((at, eid), rating)
    out = {}
    for cid, (_, rating) in latest.items():
        group = "promoter" if rating >= 9 else "passive" if rating >= 7 else "detractor"
        out[cid] = (Decimal(rating), group)
    return out


def compare(name, expected, got):
    problems = []
    for cid in sorted(set(expected) | set(got)):
        if expected.get(cid) != got.get(cid):
            problems.append(f"{name} contact {cid}: expected {expected.get(cid)}, crm {got.get(cid)}")
    return problems, len(expected)


def sums(db, path):
    stored = {(c, m): Decimal(str(v)).quantize(Decimal("0.01"))
              for c, m, v in db.execute("SELECT contact_id, model, value FROM score")}
    problems, parts, totals, seen = [], {}, 0, set()
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            key = (int(row["contact_id"]), row["model"])
            if row["part"]:
                parts[key] = parts.get(key, Decimal(0)) + Decimal(row["points"])
            elif row["points"]:
                totals += 1
                seen.add(key)
                if parts.get(key, Decimal(0)) != Decimal(row["points"]):
                    problems.append(f"{key}: parts {parts.get(key)} != total {row['points']}")
                if stored.get(key) != Decimal(row["points"]):
                    problems.append(f"{key}: total {row['points']} != stored {stored.get(key)}")
    for key in sorted(set(stored) - seen):
        problems.append(f"{key}: stored but not explained")
    return problems, totals


def main():
    what = sys.argv[1]
    if what == "load":
        load(sys.argv[2], sys.argv[3])
        return 0
    db = sqlite3.connect(sys.argv[2])
    if what == "sums":
        problems, n = sums(db, sys.argv[3])
    else:
        now, path = sys.argv[3], sys.argv[4]
        expected = {"rfm": expected_rfm, "abc": expected_abc, "nps": expected_nps}[what](db, now)
        problems, n = compare(what, expected, read_scores(path))
    for p in problems[:10]:
        print(p)
    if problems:
        print(f"{len(problems)} problems")
        return 1
    print(f"{what}: {n} agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
