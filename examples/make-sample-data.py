#!/usr/bin/env python3
"""A small shop's sample data for trying crm: 1,000 customers (by default),
their touchpoints and purchases over a year, and their consents.

    examples/make-sample-data.py [--contacts N] [--seed S] [--out DIR]

Writes DIR/contacts.csv, DIR/events.csv and DIR/consents.csv (UTF-8, RFC
4180, header row); the same arguments always give the same bytes. The
columns are those `crm contact import`, `crm journey import` and
`crm consent import` read without a mapping:

contacts.csv  external_id,email,phone,first_name,last_name,company,city,
              country,created_at,source,industry
events.csv    external_id,touchpoint,channel,phase,at,amount,rating,campaign
consents.csv  external_id,purpose,channel,action,at,source,proof

Amounts are decimals with two places (49.90), as crm reads and writes money.
Every customer has a buying rhythm, so RFM, ABC and
churn scores have something to find; about a third stopped buying.
"""
import argparse
import csv
import datetime as dt
import os
import random

FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ida",
         "Jonas", "Katrin", "Leon", "Mia", "Noah", "Olga", "Paul", "Rosa", "Sven",
         "Theo", "Ursula", "Vera", "Willi", "Zoë", "Jörg", "Élodie", "Ayşe"]
LAST = ["Müller", "Schmidt", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter",
        "Klein", "Wolf", "Neumann", "Braun", "Krüger", "Hartmann", "Lange", "Yılmaz"]
# city, country, dialling prefix, subscriber digits
CITIES = [("Berlin", "DE", "030", 8), ("Hamburg", "DE", "040", 8), ("München", "DE", "089", 7),
          ("Köln", "DE", "0221", 7), ("Leipzig", "DE", "0341", 7), ("Wien", "AT", "+43 1", 7),
          ("Zürich", "CH", "+41 44", 7)]
INDUSTRIES = ["retail", "food", "it", "health", "craft", ""]
SOURCES = ["shop", "web", "fair", "referral"]
# touchpoint, phase, channel
BROWSE = [("ad_view", "activation", "social"), ("newsletter_signup", "activation", "web"),
          ("email_open", "information", "email"), ("email_click", "information", "email"),
          ("page_view", "information", "web"), ("cart_add", "action", "shop")]
AFTER = [("support_ticket", "retention", "phone"), ("survey", "retention", "email")]
CAMPAIGNS = ["", "", "spring_sale", "welcome"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contacts", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="sample")
    ap.add_argument("--now", default="2026-11-22T09:30:00Z")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    now = dt.datetime.strptime(a.now, "%Y-%m-%dT%H:%M:%SZ")
    os.makedirs(a.out, exist_ok=True)
    old = os.umask(0o077)  # personal data, even made up
    try:
        with open(os.path.join(a.out, "contacts.csv"), "w", newline="", encoding="utf-8") as cf, \
             open(os.path.join(a.out, "events.csv"), "w", newline="", encoding="utf-8") as ef, \
             open(os.path.join(a.out, "consents.csv"), "w", newline="", encoding="utf-8") as kf:
            c = csv.writer(cf, lineterminator="\n")
            e = csv.writer(ef, lineterminator="\n")
            k = csv.writer(kf, lineterminator="\n")
            c.writerow(["external_id", "email", "phone", "first_name", "last_name", "company",
                        "city", "country", "created_at", "source", "industry"])
            e.writerow(["external_id", "touchpoint", "channel", "phase", "at", "amount",
                        "rating", "campaign"])
            k.writerow(["external_id", "purpose", "channel", "action", "at", "source", "proof"])
            for i in range(1, a.contacts + 1):
                write_customer(rnd, now, i, c, e, k)
    finally:
        os.umask(old)


def write_customer(rnd, now, i, c, e, k):
    ext = f"K{i:05d}"
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    city, country, prefix, n = rnd.choice(CITIES)
    digits = str(rnd.randint(2, 9)) + "".join(str(rnd.randint(0, 9)) for _ in range(n - 1))
    phone = f"{prefix} {digits}" if rnd.random() < 0.7 else ""
    local = f"{first}.{last}".lower().replace("ü", "ue").replace("ö", "oe").replace(
        "ë", "e").replace("é", "e").replace("ş", "s").replace("ı", "i")
    email = f"{local}.{i}@example.com"
    company = rnd.choice(["", "", f"{last} GmbH", f"{city} Handel KG"])
    since = now - dt.timedelta(days=rnd.randint(30, 730), seconds=rnd.randint(0, 86399))
    c.writerow([ext, email, phone, first, last, company, city, country, iso(since),
                rnd.choice(SOURCES), rnd.choice(INDUSTRIES)])

    # Consents: most customers take the newsletter (confirmed double
    # opt-in); some allow profiling; a few withdraw later.
    if rnd.random() < 0.75:
        t = since + dt.timedelta(minutes=5)
        k.writerow([ext, "newsletter", "email", "grant", iso(t), "signup form",
                    f"ip=192.0.2.{i % 250 + 1}"])
        if rnd.random() < 0.08:
            k.writerow([ext, "newsletter", "email", "withdraw",
                        iso(t + dt.timedelta(days=rnd.randint(10, 300))), "unsubscribe link", ""])
    if rnd.random() < 0.5:
        k.writerow([ext, "profiling", "", "grant", iso(since + dt.timedelta(minutes=6)),
                    "account settings", ""])

    # Touchpoints and purchases: a buying rhythm of `gap` days, from `since`
    # until the customer lapsed (or now).
    gap = rnd.choice([14, 30, 45, 60, 90, 180])
    lapsed = now - dt.timedelta(days=rnd.randint(60, 400)) if rnd.random() < 0.35 else now
    basket = rnd.choice([1500, 3000, 5000, 9000, 20000])
    t = since
    events = []
    while True:
        t += dt.timedelta(days=max(1, int(rnd.gauss(gap, gap / 4))), minutes=rnd.randint(0, 600))
        if t >= lapsed or t >= now:
            break
        campaign = rnd.choice(CAMPAIGNS)
        for tp, phase, channel in rnd.sample(BROWSE, rnd.randint(1, 3)):
            events.append((t - dt.timedelta(hours=rnd.randint(1, 48)), tp, channel, phase, "",
                           "", campaign if channel == "email" else ""))
        amount = max(199, int(rnd.gauss(basket, basket / 3)))
        events.append((t, "purchase", "shop", "action", f"{amount // 100}.{amount % 100:02d}",
                       "", campaign))
        if rnd.random() < 0.2:
            tp, phase, channel = rnd.choice(AFTER)
            rating = str(min(10, max(0, int(rnd.gauss(8, 2)))))
            events.append((t + dt.timedelta(days=2), tp, channel, phase, "", rating, ""))
    for at, tp, channel, phase, amount, rating, campaign in sorted(events):
        if at < now:
            e.writerow([ext, tp, channel, phase, iso(at), amount, rating, campaign])


if __name__ == "__main__":
    main()
