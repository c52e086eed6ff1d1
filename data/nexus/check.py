#!/usr/bin/env python3
"""Checks data/nexus/thresholds.csv: header, vocabularies, dates, ranges, amounts. Usage: python3 check.py [file]"""
import csv, datetime, decimal, os, re, sys

HEADER = ("jurisdiction,effective_from,effective_to,currency,amount,amount_op,transactions,transactions_op,combine,"
          "sales_base,exempt_sales,marketplace_sales,period,registration_due,status,sources,notes").split(",")
US = ("AK AL AR AZ CA CO CT DC FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS NC ND NE NJ NM NV NY OH OK PA RI SC "
      "SD TN TX UT VA VT WA WI WV WY").split()
OTHER = {"EU": "EUR", "EU-NONEU": "EUR", "GB": "GBP", "CA": "CAD", "CA-QC": "CAD", "CA-BC": "CAD", "CA-SK": "CAD",
         "CA-MB": "CAD", "AU": "AUD", "NZ": "NZD", "NO": "NOK", "CH": "CHF", "SG": "SGD", "JP": "JPY", "IN": "INR"}
CURRENCY = {**{"US-" + s: "USD" for s in US}, **OTHER}
OP = {"gt", "ge"}
VOCAB = {
    "combine": {"or", "and", "amount"},
    "sales_base": {"gross", "retail", "taxable"},
    "exempt_sales": {"in", "out"},
    "marketplace_sales": {"in", "out", "unknown"},
    "period": {"calendar_year", "previous_calendar_year", "rolling_12_months", "rolling_12_months_quarter_end",
               "twelve_months_to_september", "four_quarters_march_to_february", "base_period_two_years"},
    "registration_due": {"next_transaction", "first_of_next_month", "first_of_month_after_30_days",
                         "first_of_second_month", "first_of_third_month", "first_of_fourth_month",
                         "first_of_month_after_90_days", "next_january", "next_april", "next_october", "next_quarter",
                         "within_30_days", "within_60_days", "unknown"},
    "status": {"verified", "uncertain"},
}
SOURCE = re.compile(r"^([1-9]|[1-4][0-9]|5[0-2]|E[12]|UK[12]|CA1|QC|BC|SK|MB|AU|NZ|NO|CH|SG|JP|IN|G[1-3]|P[1-6])$")


def main(path):
    errors = []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if rows[0] != HEADER:
        errors.append("header differs")
    last = {}
    for n, row in enumerate(rows[1:], start=2):
        def bad(msg):
            errors.append(f"line {n}: {msg}")
        if len(row) != len(HEADER):
            bad(f"{len(row)} columns")
            continue
        v = dict(zip(HEADER, row))
        for k, allowed in VOCAB.items():
            if v[k] not in allowed:
                bad(f"{k} {v[k]!r}")
        j = v["jurisdiction"]
        if CURRENCY.get(j) != v["currency"]:
            bad(f"jurisdiction/currency {j!r}/{v['currency']!r}")
        try:
            start = datetime.date.fromisoformat(v["effective_from"])
            end = datetime.date.fromisoformat(v["effective_to"]) if v["effective_to"] else None
        except ValueError as e:
            bad(f"date: {e}")
            continue
        if end is not None and end <= start:
            bad("empty date range")
        if j in last:
            prev_end = last[j]
            if prev_end is None or prev_end > start:
                bad(f"{j}: overlaps or precedes the previous row")
        last[j] = end
        if not re.fullmatch(r"\d+(\.\d+)?", v["amount"]):
            bad(f"amount {v['amount']!r}")
        if v["amount_op"] not in OP:
            bad(f"amount_op {v['amount_op']!r}")
        has_txn = v["transactions"] != ""
        if has_txn and not re.fullmatch(r"[1-9]\d*", v["transactions"]):
            bad(f"transactions {v['transactions']!r}")
        if has_txn != (v["transactions_op"] in OP) or (not has_txn and v["transactions_op"]):
            bad("transactions_op must be gt/ge exactly when there is a transaction test")
        if (v["combine"] == "amount") == has_txn:
            bad("combine must be `amount` exactly when there is no transaction test")
        if v["exempt_sales"] != ("out" if v["sales_base"] == "taxable" else "in"):
            bad("exempt_sales must be out for taxable, in otherwise")
        if not all(SOURCE.match(s) for s in v["sources"].split(";")):
            bad(f"sources {v['sources']!r}")
        if not v["notes"].strip():
            bad("notes empty")
    missing = set(CURRENCY) - set(last)
    if missing:
        errors.append(f"no row for {sorted(missing)}")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "thresholds.csv")))
