#!/usr/bin/env python3
"""Builds data/scripts/ca-cdtfa-rates.csv: CDTFA's table of every California city's and county's combined rate.

Usage:
    python3 data/scripts/convert_cdtfa.py <SalesTaxRates1-1-26.csv> data

Input: the California Department of Tax and Fee Administration's "Effective Sales and Use Tax Rates" table in
force from 2026-01-01 (SalesTaxRates1-1-26.xlsx, https://www.cdtfa.ca.gov/taxes-and-fees/sales-use-tax-rates.htm),
as its CSV export in GitHub mrpartnerai/taxrates-us data/SalesTaxRates1-1-26.csv @ 6a780a8 (sha256 in
data/sources.csv, source `cdtfa-2026q1-cities`): two title lines, then `Location,Rate,County,Type,Notes`, the
rate a fraction written as a binary float ("7.7499999999999999E-2").
Output: `location,county,type,rate_percent,effective_from,effective_to`, the rate to 0.001 % (the float's
digits beyond that are binary noise; a rate with more fails the conversion), in force for the quarter
2026-01-01 to 2026-03-31 (California's local rates change only on a quarter's first day). The file is an input
of convert_taxlocus.py (it dates and checks TaxLocus's California city rows), not loaded by the engine.
"""

import csv
import sys
from decimal import Decimal
from pathlib import Path

HEADER = ["Location", "Rate", "County", "Type", "Notes"]
QUARTER = ("2026-01-01", "2026-03-31")


def main():
    raw, data = Path(sys.argv[1]), Path(sys.argv[2])
    with open(raw, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if rows[2] != HEADER:
        sys.exit(f"unexpected header: {rows[2]!r}")
    out = []
    for r in rows[3:]:
        if len(r) < 4 or r[3] not in ("City", "County"):
            continue  # the notes rows ("Please refer to … within Kern County.")
        exact = Decimal(r[1]).quantize(Decimal("0.00001"))
        if abs(exact - Decimal(r[1])) > Decimal("1e-12"):
            sys.exit(f"{r[0]}: {r[1]} is not a rate to 0.001 % written as a float")
        pct = (exact * 100).normalize()
        out.append([r[0].strip(), r[2].strip(), r[3], format(pct, "f"), *QUARTER])
    target = data / "scripts" / "ca-cdtfa-rates.csv"
    with open(target, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["location", "county", "type", "rate_percent", "effective_from", "effective_to"])
        w.writerows(out)
    print(f"{target}: {len(out)} rows ({sum(r[2] == 'City' for r in out)} cities)")


if __name__ == "__main__":
    main()
