#!/usr/bin/env python3
"""One-off (round 10): Louisiana parish rate tables (r10-la-parishes.csv) → rows of
data/scripts/us-county-city-departments.csv, then run data/scripts/convert_taxlocus.py.

Each row keys to the jurisdiction it dates: an existing department row of the same parish and city (so the
older value becomes history), else TaxLocus's row of that parish (its four-digit code), else a city TaxLocus
lacks ("Place inside X Parish", which the converter places in that parish). Parish rows key by the parish FIPS.
Usage: merge_la_parishes.py <TaxLocus jurisdiction_rates.csv> <repo root>"""
import csv
import re
import sys
from pathlib import Path

root = Path(sys.argv[2])
sys.path.insert(0, str(root / "data" / "scripts"))
from convert_taxlocus import LA_NAMES, la_city, norm  # noqa: E402

HERE = Path(__file__).parent
SOURCES = {  # where a row was read → our source id
    "github.com/williedowns/atlas-platform": "la-lata-transcription",
    "lataonline.org": "la-lata",
    "tpcg.org": "la-tpcg",
}

tl = {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["state"] == "LA" and r["jurisdiction_type"] == "city":
        parish = f"{2 * int(r['fips_code'][:2]) - 1:03d}"
        tl[(parish, norm(LA_NAMES.get(r["fips_code"], la_city(r["name"]))))] = r["fips_code"]

dept_path = root / "data" / "scripts" / "us-county-city-departments.csv"
existing = list(csv.DictReader(open(dept_path)))
# The parish of each existing department row: its code's, else its publication's (one parish table each).
SOURCE_PARISH = {"dept-la-1": "017", "dept-la-2": "033", "dept-la-3": "071", "dept-la-4": "055",
                 "dept-la-5": "057", "dept-la-6": "097", "dept-la-7": "027"}
PARISH_FIPS = {r["name"]: r["county_fips"] for r in csv.DictReader(open(root / "data/us-sst/county-names.csv"))
               if r["state"] == "LA"}
known = {}
for r in existing:
    if r["state"] == "LA" and r["level"] == "city":
        inside = re.search(r"inside (.+? Parish)", r["name"])
        parish = (f"{2 * int(r['match'][:2]) - 1:03d}" if r["match"].isdigit()
                  else PARISH_FIPS[inside.group(1)] if inside
                  else SOURCE_PARISH[r["source"].split(";")[0]])
        known[(parish, norm(la_city(r["name"])))] = (r["match"], r["name"])

out = []
for r in csv.DictReader(open(HERE / "r10-la-parishes.csv")):
    if not r["effective_from"]:
        continue
    src = next(v for k, v in SOURCES.items() if k in r["source_url"])
    fips, parish_name = r["parish_fips"], r["parish"]
    note = f"{r['notes']} (read at {r['source_url']})" if src == "la-lata" else r["notes"]
    if r["area"] == "parish":
        out.append(["LA", "county", fips, f"{parish_name} balance of parish", fips, fips, r["local_percent"],
                    r["effective_from"], "", src, note])
        continue
    city = norm(la_city(r["place"]))
    match, name = known.get((fips, city), (None, None))
    if match is None and (fips, city) in tl:
        match = name = tl[(fips, city)]
    if match is None:
        match = name = f"{r['place']} inside {parish_name}"
    out.append(["LA", "city", match, name, match if match.isdigit() else "", "", r["local_percent"],
                r["effective_from"], "", src, note])

w = csv.writer(open(dept_path, "a", newline=""), lineterminator="\n")
w.writerows(out)
print(f"{len(out)} Louisiana rows appended")
