#!/usr/bin/env python3
"""Builds data/scripts/wa-dor-location-rates.csv: Washington's local rate table, every location code, per quarter.

Usage:
    python3 data/scripts/convert_wa_dor.py <taxrates.js> data

Input: the Department of Revenue's quarterly "Local sales & use tax rates" file (Excel, "Location codes and
rates", https://dor.wa.gov/taxes-rates/sales-and-use-tax-rates/downloadable-database) as converted, unchanged in
its values, in GitHub kidGodzilla/washington-state-sales-tax `taxrates.js` @ 714b30f (sha256 in data/sources.csv,
source `wa-dor-2024q2-2026q1`): a JSON array with one object per quarter, keyed by the DOR location name (" CITY"
removed), each with locationCode, localTaxRate, stateTaxRate, totalTaxRate, effectiveDate, expirationDate.
Output: `location_code,location,local_percent,effective_from,effective_to`, one row per location and quarter
(2024 Q2 to 2026 Q1). The copy's later commits add 2026 Q2, the table the accuracy fixture's Washington rows are
read from: it is not loaded, so that they stay independent. A row whose local + state rate is not its total, or whose dates are not one calendar
quarter, fails the conversion. The file is an input of convert_taxlocus.py (it dates and checks TaxLocus's
Washington rows), not loaded by the engine.
"""

import csv
import json
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path


def ymd(s):
    return date(int(s[:4]), int(s[4:6]), int(s[6:8]))


def quarter_end(start):
    nxt = date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)
    return nxt - timedelta(days=1)


def main():
    raw, data = Path(sys.argv[1]), Path(sys.argv[2])
    text = raw.read_text(encoding="utf-8")
    marker = "module.exports = "
    quarters = json.loads(text[text.index(marker) + len(marker):].rstrip().rstrip(";"))
    out = []
    for q in quarters:
        for name, v in q.items():
            if name == "expires":
                continue
            start, end = ymd(v["effectiveDate"]), ymd(v["expirationDate"])
            if start.day != 1 or start.month not in (1, 4, 7, 10) or end != quarter_end(start):
                sys.exit(f"{name}: {start}..{end} is not a calendar quarter")
            local, state, total = (Decimal(str(v[k])) for k in ("localTaxRate", "stateTaxRate", "totalTaxRate"))
            if local + state != total:
                sys.exit(f"{name} {start}: local {local} + state {state} != total {total}")
            pct = format((local * 100).normalize(), "f")
            out.append([f"{v['locationCode']:04d}", name, pct, start.isoformat(), end.isoformat()])
    out.sort(key=lambda r: (r[3], r[0]))
    target = data / "scripts" / "wa-dor-location-rates.csv"
    with open(target, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["location_code", "location", "local_percent", "effective_from", "effective_to"])
        w.writerows(out)
    print(f"{target}: {len(out)} rows, {len({r[3] for r in out})} quarters")


if __name__ == "__main__":
    main()
