#!/usr/bin/env python3
"""Orders the counties of each ZIP in data/us-sst/zip-county.csv so that the first is the ZIP's main county.

Usage: order_zip_counties.py <GeoNames US.txt> <data dir>

The Census 2020 ZCTA-to-county relation says which counties a ZIP touches, not which one holds most of it, and the
engine takes a ZIP's first county when the address does not decide (no city name that settles it). GeoNames'
postal-code file (https://download.geonames.org/export/zip/, CC BY, "US.txt": ZIP, place name, state, county name
and FIPS) names one county per ZIP: where that county is one of the Census counties of the ZIP, it goes first; the
others keep their order. Nothing else changes: the set of counties stays the Census relation's.
"""
import csv
import sys
from collections import OrderedDict
from pathlib import Path


def postal_counties(us_txt):
    """GeoNames' US.txt → {ZIP: (state, county FIPS)}: the county of each ZIP's postal place (its post office)."""
    out = {}
    for line in Path(us_txt).read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if len(f) > 6 and f[0] == "US" and f[6].isdigit():
            out[f[1]] = (f[4], f[6].zfill(3))
    return out


def main():
    us_txt, data = Path(sys.argv[1]), Path(sys.argv[2])
    main_county = postal_counties(us_txt)
    path = data / "us-sst" / "zip-county.csv"
    newline = "\r\n" if b"\r\n" in path.read_bytes()[:200] else "\n"  # keep the file's line ends
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_zip = OrderedDict()
    for r in rows:
        by_zip.setdefault(r["zip5"], []).append(r)
    moved = 0
    for z, rs in by_zip.items():
        if len(rs) < 2 or z not in main_county:
            continue
        st, fips = main_county[z]
        first = [r for r in rs if r["state"] == st and r["county_fips"] == fips]
        if first and rs[0] is not first[0]:
            rs.remove(first[0])
            rs.insert(0, first[0])
            moved += 1
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator=newline)
        w.writerow(["zip5", "state", "county_fips"])
        for rs in by_zip.values():
            for r in rs:
                w.writerow([r["zip5"], r["state"], r["county_fips"]])
    multi = sum(1 for rs in by_zip.values() if len(rs) > 1)
    print(f"{multi} ZIPs span several counties; {moved} reordered to put GeoNames' county first")


if __name__ == "__main__":
    main()
