#!/usr/bin/env python3
"""Re-express the DOR-sourced city/county rate tables that OpenSalesTax compiled (ost @ 4cfd3c2, Apache-2.0) as our
own cited CSV files data/us-local/<st>.csv. Only facts (rates, county membership, ZIP lists) are carried over.

Usage: convert_ost_local.py <dir holding ost src/opensalestax/states/*_data.py> <data dir>

Each output row is one local component (county / city / district) for one place:
  state,place,county,level,jurisdiction,rate,effective_from,effective_to,source,zips
`zips` (space-separated ZIP5s) is filled on the first row of each place; the engine maps those ZIPs to the place.
`effective_from` is the table date the publisher gives, or the date OpenSalesTax verified the table when the
publisher gives none (then the notes in data/README.md say "in force on"). Zero-rate components are dropped.
"""
import csv, importlib.util, sys
from decimal import Decimal
from pathlib import Path

STATES = {
    # st: (source id, effective_from)
    "ca": ("cdtfa-2026q2;ost", "2026-04-01"),
    "tx": ("tx-cpa-2026;ost", "2026-05-04"),
    "ny": ("ny-pub718;ost", "2026-05-04"),
    "az": ("az-dor-2026-05;ost", "2026-05-01"),
    "pa": ("pa-dor;ost", "2026-05-04"),
    "mo": ("mo-dor-2026;ost", "2026-05-04"),
    "al": ("al-dor;ost", "2026-05-04"),
}


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def place_name(name):
    # "Kansas City (Clay)" -> "Kansas City": the parenthesis only disambiguates the county part.
    return name.split(" (")[0].strip()


def main():
    src_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir = data_dir / "us-local"
    out_dir.mkdir(exist_ok=True)
    for st, (source, eff) in STATES.items():
        m = load(src_dir / f"{st}_data.py")
        up = st.upper()
        counties = getattr(m, f"{up}_COUNTY_RATE_PCT")
        cities = getattr(m, f"{up}_CITIES")
        rows = []
        for city, spec in cities.items():
            if st == "tx":
                county, district, city_rate, zips = spec
                comps = [("county", county, counties.get(county, Decimal(0))),
                         ("city", place_name(city), city_rate)]
                if district:
                    comps.append(("district", district, m.TX_TRANSIT_DISTRICTS[district]))
            else:
                county, city_rate, zips = spec
                comps = [("county", county, counties.get(county, Decimal(0))),
                         ("city", place_name(city), city_rate)]
                if st == "ny" and county in m.NY_MCTD_COUNTIES:
                    comps.append(("district", m.NY_MCTD_DISTRICT_NAME, m.NY_MCTD_RATE))
            comps = [c for c in comps if Decimal(c[2]) != 0]
            zipstr = " ".join(sorted(set(zips)))
            if not comps:
                # A place with no local tax: keep it (with its ZIPs) so the engine knows locals are 0 there.
                comps = [("city", place_name(city), Decimal(0))]
            for i, (level, juris, rate) in enumerate(comps):
                r = f"{Decimal(rate).normalize():f}"
                rows.append([up, place_name(city), county, level, juris, r, eff, "", source,
                             zipstr if i == 0 else ""])
        with open(out_dir / f"{st}.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["state", "place", "county", "level", "jurisdiction", "rate", "effective_from",
                        "effective_to", "source", "zips"])
            w.writerows(rows)
        print(st, len(cities), "places", len(rows), "rows")


if __name__ == "__main__":
    main()
