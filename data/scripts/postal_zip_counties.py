#!/usr/bin/env python3
"""Writes data/us-sst/zip-county-postal.csv: the county of each ZIP that has no Census ZCTA.

Usage: postal_zip_counties.py <GeoNames US.txt> <data dir>

The Census 2020 ZCTA-to-county relation (us-sst/zip-county.csv) covers the ZIPs that have delivery areas. PO-box,
unique (one organisation) and some rural ZIPs have none, so an address with one of them (Charlotte 28201, Milwaukee
53201) resolved to no county and got the state rate only. GeoNames' postal-code file (https://download.geonames.org/
export/zip/, CC BY, "US.txt": ZIP, place name, state, county name and FIPS) names the county of every ZIP's post
office, which is where a PO box is. This writes that county for each ZIP the Census relation lacks, in a file of its
own so that each row's source stays plain. Rows whose state or county is not in us-sst/county-names.csv (military
APO/FPO codes, counties renamed since) are left out and counted.
"""
import csv
import sys
from pathlib import Path

from order_zip_counties import postal_counties


def main():
    us_txt, data = Path(sys.argv[1]), Path(sys.argv[2])
    with open(data / "us-sst" / "zip-county.csv", newline="") as fh:
        census = {r["zip5"] for r in csv.DictReader(fh)}
    with open(data / "us-sst" / "county-names.csv", newline="") as fh:
        counties = {(r["state"], r["county_fips"]) for r in csv.DictReader(fh)}
    rows, skipped = {}, 0
    for z, (st, fips) in postal_counties(us_txt).items():
        if z in census:
            continue
        if (st, fips) not in counties:
            skipped += 1
            continue
        rows[z] = (st, fips)
    with open(data / "us-sst" / "zip-county-postal.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["zip5", "state", "county_fips"])
        for z in sorted(rows):
            w.writerow([z, *rows[z]])
    print(f"{len(rows)} ZIPs without a ZCTA get their post office's county; {skipped} left out (no such county)")


if __name__ == "__main__":
    main()
