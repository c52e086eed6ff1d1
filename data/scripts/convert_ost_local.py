#!/usr/bin/env python3
"""Re-express the DOR-sourced city/county rate tables (CA, TX, NY, AZ, PA, MO, AL, FL, IL, NM, VA) that OpenSalesTax compiled (ost @ 4cfd3c2, Apache-2.0) as our
own cited CSV files data/us-local/<st>.csv. Only facts (rates, county membership, ZIP lists) are carried over.

Usage: convert_ost_local.py <dir holding ost src/opensalestax/states/*_data.py> <data dir>

Each output row is one local component (county / city / district) for one place:
  state,place,county,level,jurisdiction,rate,effective_from,effective_to,source,zips
`zips` (space-separated ZIP5s) is filled on the first row of each place; the engine maps those ZIPs to the place.
`effective_from` (and `effective_to` where the publisher gives a period, NM) is the table date the publisher gives, or the date OpenSalesTax verified the table when the
publisher gives none (then the notes in data/README.md say "in force on"). Zero-rate components are dropped.
"""
import csv, importlib.util, sys
from decimal import Decimal
from pathlib import Path

# California places where OpenSalesTax's table (CDTFA 2026-04-01 as compiled there) and TaxLocus (2026-05-19)
# disagree on the local rate. CDTFA's own tables confirm TaxLocus wherever we could check (American Canyon 7.75 %,
# Baldwin Park 10.5 %, Beverly Hills 9.75 %: shared/tests/fixtures/us-accuracy.csv), so these places are left to
# the county / city table (data/us-county-city/ca.csv).
CONFLICTS = {"ca": {'American Canyon', 'Baldwin Park', 'Beverly Hills', 'Brentwood', 'Calimesa', 'Calistoga', 'Ceres', 'Cerritos', 'Claremont', 'Corte Madera', 'Cupertino', 'Diamond Bar', 'El Cerrito', 'El Segundo', 'Fairfield', 'Hercules', 'Hermosa Beach', 'Highland', 'Huntington Park', 'Lafayette', 'Lodi', 'Maywood', 'Montebello', 'Orinda', 'Paramount', 'Pittsburg', 'Pleasant Hill', 'Redondo Beach', 'Rocklin', 'San Carlos', 'San Dimas', 'Selma', 'Temple City', 'Vista'}}

STATES = {
    # st: (source id, effective_from)
    "ca": ("cdtfa-2026q2;ost", "2026-04-01"),
    "tx": ("tx-cpa-2026;ost", "2026-05-04"),
    "ny": ("ny-pub718;ost", "2026-05-04"),
    "az": ("az-dor-2026-05;ost", "2026-05-01"),
    "pa": ("pa-dor;ost", "2026-05-04"),
    "mo": ("mo-dor-2026;ost", "2026-05-04"),
    "al": ("al-dor;ost", "2026-05-04"),
    "fl": ("fl-dor-dr15dss-2026;ost", "2026-01-01"),
    "il": ("il-idor;ost", "2026-05-04"),
    # NM publishes its schedule per half-year; local rates stay in force until an ordinance changes them, so the
    # last published schedule is open-ended (refresh it when the next one is out).
    "nm": ("nm-trd-2026h1;ost", "2026-01-01", ""),
    "va": ("va-tax;ost", "2026-05-04"),
    "hi": ("hi-dotax-tf31-1;ost", None),
}


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def place_name(name):
    # "Kansas City (Clay)" -> "Kansas City": the parenthesis only disambiguates the county part.
    # "New York City" is "New York" in postal addresses (boroughs match by ZIP).
    name = name.split(" (")[0].strip()
    return "New York" if name == "New York City" else name


def main():
    src_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir = data_dir / "us-local"
    out_dir.mkdir(exist_ok=True)
    for st, (source, eff, *rest) in STATES.items():
        eff_to = rest[0] if rest else ""
        m = load(src_dir / f"{st}_data.py")
        up = st.upper()
        if st == "hi":
            # County surcharges; ZIPs from the Census ZCTA relation (us-sst/zip-county.csv); dates per county.
            names = {r["name"]: r["county_fips"] for r in csv.DictReader(open(data_dir / "us-sst" / "county-names.csv"))
                     if r["state"] == "HI"}
            zips_of = {}
            for r in csv.DictReader(open(data_dir / "us-sst" / "zip-county.csv")):
                if r["state"] == "HI":
                    zips_of.setdefault(r["county_fips"], []).append(r["zip5"])
            counties, cities = m.HI_COUNTY_RATE_PCT, {}
            for county, rate in counties.items():
                start = m.HI_COUNTY_SURCHARGE_EFFECTIVE.get(county)
                if rate and start:
                    cities[county.removesuffix(" County")] = (county, start.isoformat(), tuple(zips_of[names[county]]))
        elif st == "fl":
            counties, cities = m.FL_COUNTY_SURTAX_PCT, m.FL_CITIES
        elif st == "nm":
            counties, cities = {}, m.NM_LOCATION_RATES
        elif st == "va":
            counties, cities = {}, m.VA_CITIES
        else:
            counties = getattr(m, f"{up}_COUNTY_RATE_PCT")
            cities = getattr(m, f"{up}_CITIES")
        rows = []
        for city, spec in cities.items():
            row_eff = eff
            if st == "hi":
                county, row_eff, zips = spec
                comps = [("county", county + " surcharge", counties[county])]
            elif st == "fl":
                county, zips = spec
                comps = [("county", county + " discretionary sales surtax", counties[county])]
            elif st == "nm":
                county, local_rate, zips = spec
                comps = [("city", place_name(city) + " local GRT (county + municipal)", local_rate)]
            elif st == "va":
                district, zips = spec
                county = ""
                comps = [("district", district, m.VA_DISTRICT_RATE_PCT[district])] if district else []
            elif st == "il":
                county, district, city_rate, zips = spec
                comps = [("county", county, counties.get(county, Decimal(0))),
                         ("city", place_name(city), city_rate)]
                if district:
                    comps.append(("district", district, m.IL_RTA_DISTRICTS[district]))
            elif st == "tx":
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
            if place_name(city) in CONFLICTS.get(st, ()):
                continue
            comps = [c for c in comps if Decimal(c[2]) != 0]
            zipstr = " ".join(sorted(set(zips)))
            if not comps:
                # A place with no local tax: keep it (with its ZIPs) so the engine knows locals are 0 there.
                comps = [("city", place_name(city), Decimal(0))]
            for i, (level, juris, rate) in enumerate(comps):
                r = f"{Decimal(rate).normalize():f}"
                rows.append([up, place_name(city), county, level, juris, r, row_eff, eff_to, source,
                             zipstr if i == 0 else ""])
        with open(out_dir / f"{st}.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["state", "place", "county", "level", "jurisdiction", "rate", "effective_from",
                        "effective_to", "source", "zips"])
            w.writerows(rows)
        print(st, len(cities), "places", len(rows), "rows")


if __name__ == "__main__":
    main()
