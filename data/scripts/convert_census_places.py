#!/usr/bin/env python3
"""Builds data/scripts/census-place-counties.csv: the counties every incorporated place lies in.

Usage:
    python3 data/scripts/convert_census_places.py <national_place2020.txt> data

Input: the Census Bureau's ANSI/FIPS place code file of 2020 (`national_place2020.txt`, public domain;
https://www2.census.gov/geo/docs/reference/codes2020/national_place2020.txt), pipe-delimited with the header
STATE|STATEFP|PLACEFP|PLACENS|PLACENAME|TYPE|CLASSFP|FUNCSTAT|COUNTIES, county names joined by "~~~".
Output: `state,place_fips,name,counties` for the incorporated places of the 50 states and DC, the counties as
3-digit FIPS joined by ";" (names mapped through data/us-sst/county-names.csv; an unknown name fails).
The file is an input of convert_taxlocus.py (a city row's `counties`), not loaded by the engine.
"""

import csv
import sys
from pathlib import Path

HEADER = "STATE|STATEFP|PLACEFP|PLACENS|PLACENAME|TYPE|CLASSFP|FUNCSTAT|COUNTIES"
NOT_STATES = {"PR", "AS", "GU", "MP", "VI", "UM"}


def main():
    raw, data = Path(sys.argv[1]), Path(sys.argv[2])
    with open(data / "us-sst" / "county-names.csv", newline="") as f:
        fips = {(r["state"], r["name"]): r["county_fips"] for r in csv.DictReader(f)}
    lines = raw.read_text(encoding="utf-8").splitlines()
    if lines[0] != HEADER:
        sys.exit(f"unexpected header: {lines[0]!r}")
    out = []
    for line in lines[1:]:
        st, _, place, _, name, kind, _, _, counties = line.split("|")
        if st in NOT_STATES or kind != "INCORPORATED PLACE":
            continue
        codes = sorted({fips[(st, c.strip())] for c in counties.split("~~~")})
        out.append([st, place, name, ";".join(codes)])
    target = data / "scripts" / "census-place-counties.csv"
    with open(target, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["state", "place_fips", "name", "counties"])
        w.writerows(out)
    print(f"{len(out)} incorporated places → {target}")


if __name__ == "__main__":
    main()
