#!/usr/bin/env python3
"""Builds data/us-county-city/<st>.csv from the TaxLocus open dataset and the revenue departments' values.

Usage:
    python3 data/scripts/convert_taxlocus.py <taxlocus jurisdiction_rates.csv> data

Inputs:
- TaxLocus Open Sales-Tax Dataset, data/jurisdiction_rates.csv (CC-BY-4.0, "data as of 2026-05-19";
  https://github.com/Ringzero787/taxlocus-data): state, jurisdiction_type, name, fips_code, rate (fraction).
  It has no effective dates: its rows are "in force on 2026-05-19" (effective_from 2026-05-19, start unknown).
- data/scripts/us-county-city-departments.csv: values read in the revenue departments' own publications
  (level, name, code, rate, dates, source id). They are the cross-check: where a department value equals the
  TaxLocus value, the row keeps the department's earlier effective date and cites both; where they differ, the
  department's value holds for the department's dates and the TaxLocus value only from 2026-05-19 (the day it
  is known to be in force), and the difference is listed in the notes and in the report this script prints.
- data/scripts/wa-dor-location-rates.csv: Washington's Department of Revenue table of every location code per
  quarter, 2024 Q2 to 2026 Q1 (built by convert_wa_dor.py). Read as department values like the file above (see
  wa_dor): it dates Washington's rows quarter by quarter.
- data/scripts/ca-cdtfa-rates.csv: CDTFA's table of every California city's combined rate in force from
  2026-01-01 (built by convert_cdtfa.py; its county rows are in us-county-city-departments.csv already). Read as
  department values for the quarter (see ca_cdtfa): 465 of 483 cities equal TaxLocus; the other 18 changed on
  2026-04-01 (Measure A in Santa Clara County, Dunsmuir, McFarland, Santa Fe Springs).
- data/us-sst/county-names.csv: county FIPS by name (TaxLocus leaves some FIPS blank).
- data/scripts/us-county-city-place-names.csv: names of places TaxLocus lists only by code ("City 67000").
- data/scripts/census-place-counties.csv: the counties each incorporated place lies in (Census 2020, built by
  convert_census_places.py). A city row's `counties` come from a department value where one places it (Aurora's
  county parts), else from this file (by place FIPS when the Census name agrees, else by a name unique in the
  state; the row then cites census-places-2020), else stay empty (matched by name wherever the ZIP is).
  Counties derived from postal names were tried before and withheld Westminster's tax in its Jefferson County
  part, whose ZIPs carry other names; the Census places Westminster in both Adams and Jefferson.

Per-state rules (how city rows combine with county rows, which TaxLocus rows are dropped and why) are in
STATES below and documented in data/README.md; data/us-county-city/rules.csv is written from them.
"""

import csv
import re
import unicodedata
from decimal import Decimal
import sys
from collections import defaultdict
from pathlib import Path

AS_OF = "2026-05-19"
TL_SOURCE = "taxlocus-2026-05-19"
CENSUS_SOURCE = "census-places-2020"  # the counties of a city row (census_places)
WA_DOR_SOURCE = "wa-dor-2024q2-2026q1"  # Washington's quarterly location-code table (wa_dor)
CA_CDTFA_SOURCE = "cdtfa-2026q1-cities"  # California's city rates of 2026 Q1 (ca_cdtfa)
# Department tables of every location: a location only they list keeps its newest value until a newer table.
TABLE_SOURCES = {WA_DOR_SOURCE, CA_CDTFA_SOURCE}
# States whose local rate changes take effect only on a quarter's first day (Washington: RCW 82.14.055).
QUARTERLY = {"WA"}
# The day TaxLocus's rows start where it is not the snapshot's: California's local rates change only on a
# quarter's first day (Revenue and Taxation Code 7202, 7265), and TaxLocus's California rows equal CDTFA's
# April 2026 table for all 178 places we hold it for, so a value in force on 2026-05-19 was from 2026-04-01.
TL_FROM = {"CA": ("2026-04-01", "in force on 2026-05-19 (TaxLocus snapshot), so from 2026-04-01")}
# Washington's rows in TaxLocus hold the July 2026 quarter's rates, announced before the snapshot: Federal Way's
# 0.1 % public-safety tax (adopted 2026-04-07, so from 2026-07-01 at the earliest: RCW 82.14.055's 75 days' notice)
# and Pierce County's 0.1 % (adopted March 2026) are in it, and DOR's April 2026 table has Federal Way, Tacoma and
# Mount Vernon 0.1 % lower. A value that differs from DOR's table of the quarter before therefore holds from
# 2026-07-01; one equal to it joins it (`segments`: an equal value before and after the April quarter).
TL_FROM["WA"] = ("2026-07-01", "TaxLocus 2026-05-19, which holds Washington's July 2026 quarter: from 2026-07-01")

# state → (city_rule, unmodelled, rule source ids, notes, options)
# options: county_types (TaxLocus types read as county rows), drop (regex on names of rows not loaded),
# districts ({name or code: [county FIPS]} for district/transit rows tied to counties).

def clean_city(name):
    """TaxLocus city names are Census place names; addresses carry the postal name."""
    n = re.sub(r"\s+", " ", name).strip()
    n = re.sub(r"^(City|Town|Village) of ", "", n, flags=re.I)
    n = n.replace(" metropolitan government (balance)", "")
    n = re.sub(r"\s*\(.*$", "", n).strip()
    # TaxLocus's shortenings of Census names ("Cherry Hills Vlg", "Green Mtn Falls", "Mt Crested Butte").
    n = re.sub(r"\bVlg\b", "Village", n)
    n = re.sub(r"\bMtn\b", "Mountain", n)
    return re.sub(r"^Mt\.? ", "Mount ", n)


def la_city(name):
    """A Louisiana collector's area name → the city an address names ("City of Baton Rouge EBRP School District")."""
    n = re.sub(r"\s+", " ", name).strip()
    n = re.sub(r"^(City|Town|Village) of ", "", n, flags=re.I)
    n = re.split(r" & | inside | outside | including | in | within |\(|,| EBRP| School District| Tax Dist", n)[0].strip()
    words = n.split()
    if len(words) == 2 and words[0] == words[1]:
        n = words[0]
    return n.title() if n.isupper() else n


def aliases(name):
    """Match names for a city: the name, its parts before a hyphen for consolidated governments, and St./Saint."""
    out = [name]
    if name.startswith("St. "):
        out.append("Saint " + name[4:])
    return "|".join(dict.fromkeys(out))


def make(rule, unmodelled, source, notes, county_types=("county",), city_types=("city",), districts=None,
         city_names=None, drop_cities=(), la_codes=False, nm_codes=False, drop_cities_re=None, city_counties=None,
         city_parts=None, complete_from=AS_OF):
    districts = districts or {}
    city_names = city_names or {}
    city_parts = city_parts or {}

    def convert(r, cmap, names):
        st, t, name, code = r["state"], r["jurisdiction_type"], r["name"].strip(), r["fips_code"].strip()
        if re.fullmatch(r"City \d+", name) and (st, code) in PLACE_NAMES:
            name = PLACE_NAMES[(st, code)]
        if la_codes:
            # Louisiana's four-digit jurisdiction codes start with the parish number (alphabetical, 01 Acadia …
            # 64 Winn); the parish's Census FIPS is 2n - 1.
            parish = f"{2 * int(code[:2]) - 1:03d}"
            if t == "parish" or name in ("Sales Tax", "Parish Wide", "General Sales", "Parish Sales"):
                return ("county", names[(st, parish)], parish, parish, f"Louisiana tax area {code} ({name.strip()})")
            if t == "city":
                return ("city", aliases(city_names.get(code, la_city(name))), code, parish, f"TaxLocus name {name.strip()!r}")
            DROPPED[(st, t)] = DROPPED.get((st, t), 0) + 1
            return None
        if nm_codes:
            # New Mexico location codes "CC-NNN"; the rate is the location's total local rate.
            m = re.match(r"Remainder Of County - (.+)$", name)
            if m:
                hit = cmap.get(norm(m.group(1)))
                return ("county", names[(st, hit[0])], hit[0], hit[0], f"NM location code {code}") if hit else None
            return ("city", aliases(name.replace("*", "").strip()), code, "", f"NM location code {code}")
        if t in county_types:
            fips = code if re.fullmatch(r"\d{3}", code) and (st, code) in names else None
            if fips is None:  # no code, or a retired one (Ste. Genevieve was 193, now 186): by name
                hit = cmap.get(norm(name)) or cmap.get(norm(re.sub(r" County$", "", name)))
                fips = hit[0] if hit else None
            if fips is None or (st, fips) not in names:
                REPORT.append(f"{st}: county row {name!r} {code!r} is not a county of the state; dropped")
                return None
            return ("county", names[(st, fips)], fips, fips, "")
        if t in city_types and name in city_parts:
            city, county, why = city_parts[name]
            return ("city", aliases(city), part_code(st, city, county), county, f"TaxLocus {name!r}: {why}")
        if t in city_types:
            n = city_names.get(code, clean_city(name))
            if re.fullmatch(r"City \d+", n) or code in drop_cities or (drop_cities_re and re.search(drop_cities_re, name)):
                REPORT.append(f"{st}: city row {name!r} {code!r} has no name we can match; dropped")
                return None
            names_ = aliases(n)
            counties_ = (city_counties or {}).get(name, "")
            if "metropolitan government" in name and "-" in n:
                names_ += "|" + n.split("-")[0]  # "Nashville-Davidson" is addressed "Nashville"
            return ("city", names_, code, counties_, "")
        key = code or name
        hit = districts(code, name) if callable(districts) else districts.get(key)
        if hit:
            level, dname, counties = hit if len(hit) == 3 else ("district", *hit)
            return (level, dname, code, counties, "")
        DROPPED[(st, t)] = DROPPED.get((st, t), 0) + 1
        return None

    return dict(rule=rule, unmodelled=unmodelled, source=source, notes=notes, convert=convert,
                complete_from=complete_from)


def nc_district(code, name):
    if re.fullmatch(r"99\d{3}", code):
        return ("County transit tax (" + {"063": "Durham", "119": "Mecklenburg", "135": "Orange", "183": "Wake"}.get(code[2:], code[2:]) + ")", code[2:])
    if code == "98119":
        return ("Mecklenburg County transportation tax (2025 referendum)", "119")
    return None  # the named "Mecklenburg County transit tax" row repeats 99119


# Texas districts levied with one city (crime control and prevention, fire control and EMS, municipal development,
# library and street maintenance districts): TaxLocus names them "<City> Crime Control", "<City> Mun Dev Dist".
TX_CITIES = set()
TX_CITY_DISTRICT = re.compile(r"^(Crime|Crm|Cr |CC\b|CC &|CCPD|Fire|Mun |Munic|Muni |Municipal|Library|Street)", re.I)


def tx_district(code, name):
    city = max((c for c in TX_CITIES if name.startswith(c + " ")), key=len, default=None)
    if city and TX_CITY_DISTRICT.match(name[len(city) + 1:]):
        return ("district", name, "@" + city)
    return None  # emergency services, county assistance, management and other districts without a city


def oh_district(code, name):
    """Ohio transit levies: NN000 with NN the county's alphabetical number (Ohio's county FIPS are 2NN - 1)."""
    m = re.fullmatch(r"(\d\d)000", code)
    if m and 1 <= int(m.group(1)) <= 88:
        return ("district", f"Transit authority tax ({code})", f"{2 * int(m.group(1)) - 1:03d}")
    if code == "87100":
        return ("city", "Rossford", "173")  # TARTA 0.5 % in the City of Rossford (Wood County)
    return None  # the COTA parts 93000-98000 follow city limits; the named transit rows repeat NN000 rows


# Vermont towns in TaxLocus 2026-05-19 that the Department of Taxes' list (snapshot with Berlin from 2025-01-01)
# does not have yet: adopted at 2026 town meetings (Waitsfield 2026-03-03, Pomfret March 2026 per the towns), and
# a local option tax takes effect on a quarter's first day after adoption: 2026-07-01, not the snapshot's date.
# Codes placed by the Census county-subdivision order (see data/README.md); 32275, 44125 and 44350 stay unnamed.
VT_NEW_TOWNS = {"09025": "Bristol", "25375": "Fair Haven", "42850": "Mendon", "46675": "Morristown",
                "56350": "Pomfret", "71725": "Swanton", "75325": "Waitsfield", "74650": "Vergennes"}
# (state, code) → (the day a TaxLocus row starts, why): taxes TaxLocus lists on 2026-05-19 that took effect later.
STARTS = {("VT", code): ("2026-07-01", "adopted in 2026, not on the department's list yet") for code in VT_NEW_TOWNS}
# Mecklenburg County's 1 % transportation tax (referendum of 2025-11-04): the secondary sources that cite NCDOR's
# notice all give 2026-07-01 (docs/research/us-local-rates, rounds 5 and 6), and a North Carolina local tax starts
# on a quarter's first day (G.S. 105-467; SSUTA section 305): the 2026-05-19 snapshot is the July quarter's SST
# release. Only TaxCloud, an aggregator, says 2026-04-01.
STARTS[("NC", "98119")] = ("2026-07-01", "the July 2026 quarter's tax (NCDOR's date as the sources citing it give it)")


# Louisiana collector areas TaxLocus names after the tax or the area ("Jena Sales", "Within the TOWN OF
# FRANKLINTON", "Cowley" for Crowley): the town an address names, so that they meet the parish tables' rows.
LA_NAMES = {"0101": "Crowley", "0301": "Donaldsonville", "1101": "Columbia", "1501": "Vidalia", "3001": "Jena",
            "3202": "Livingston", "5901": "Franklinton", "6201": "Oak Grove", "6301": "St. Francisville",
            "6401": "Winnfield"}

# TaxLocus values a department publication shows to be wrong: (state, level, name) → (rate, why). The corrected
# value is TaxLocus's observation (its note starts with CORRECTED); the department's rows for the place date and
# cite it.
CORRECTED = "TaxLocus 2026-05-19 corrected"
TL_CORRECTIONS = {
    ("CO", "city", "Lafayette"): ("6.305", "TaxLocus's 6.205 (city 3.87 + RTD 1.00 + Boulder County 1.335) lacks the "
                                  "cultural facilities district's 0.10 that the city's table lists (dept-co-10) and every "
                                  "other Boulder County place's TaxLocus total holds"),
    ("NM", "county", "Doña Ana County"): ("1.6225", "TaxLocus keeps New Mexico's rates to 0.001 % (1.623); TRD's change "
                                         "list of 2025-01-01 gives the remainder of the county 6.4975 % with the "
                                         "state's 4.875 % (dept-nm-2)"),
}

# Colorado cities in two counties: a city row is the location's total, and the county's tax (and RTD's) differ
# between the parts. TaxLocus gives most such cities one row, the part of one county (its total minus that
# county's rate is the city's own rate plus the part's districts): the row holds in that county only, and the
# other part takes its own row (a TaxLocus sub-area row below, or a department row in
# us-county-city-departments.csv). Cities whose other part has neither keep one row for every part.
CO_COUNTY_OF_ROW = {
    "Aurora": "035",  # Adams and Arapahoe parts: the city's breakdown (dept-co-3)
    "Longmont": "123",  # Boulder part: the city's breakdown (dept-co-5)
    "Arvada": "001",  # 5.31 = 3.46 + Adams 0.75 + RTD/CD 1.10 (Adams County's table, dept-co-7)
    "Erie": "013",  # 5.935 = 3.5 + Boulder 1.335 + RTD/CD 1.10
    "Brighton": "123",  # 3.75: the Weld part (the city's page, dept-co-8: Weld 6.65 % total, Adams 8.50 %)
    "Lochbuie": "123",  # 4.00: the Weld part; Adams part 5.85 (dept-co-7)
    "Bennett": "005",  # 4.35 = 4.00 + Arapahoe 0.25 + CD 0.10; Adams part 5.85 (dept-co-7)
    "Westminster": "059",  # 5.85 = 4.25 + Jefferson 0.50 + RTD/CD 1.10; Adams part 6.10 (dept-co-7 + the city rate)
    # Larimer / Weld towns: TaxLocus's row is the Weld part (Weld levies no county tax); the Larimer part adds
    # Larimer County's 1.05 % (dept-co-1), which every Larimer-only town's TaxLocus total holds.
    "Windsor": "123",
    "Johnstown": "123",
    "Berthoud": "123",
}
# TaxLocus sub-area rows that are another county's part of a city: name → (city, county FIPS, why).
CO_PARTS = {
    "Arvada Jefferson": ("Arvada", "059", "the Jefferson County part: 3.46 + Jefferson 0.50 + RTD/CD 1.10"),
    "Erie (Rtd Only)": ("Erie", "123", "the Weld County part: 3.5 + RTD 1.00 (Weld levies no county tax)"),
}


# Colorado county rows (TaxLocus's and CDOR's) hold the county's own tax; outside cities the address also pays
# the districts that cover the county's whole unincorporated area. (state, county FIPS) → (percent, sources, why).
# Adams, Arapahoe and Douglas counties are only partly in RTD: their unincorporated rows stay county-only, and
# `special_district` stays reported missing for every Colorado address.
UNINCORPORATED_DISTRICTS = {
    ("CO", "059"): ("1.10", "dept-co-9", "RTD 1.00 + cultural facilities district 0.10: the county's page gives "
                    "unincorporated Jefferson County 4.5 % with the state's 2.90 and the county's 0.50"),
    ("CO", "013"): ("1.10", TL_SOURCE, "RTD 1.00 + cultural facilities district 0.10, which TaxLocus's "
                    "unincorporated Boulder County rows carry: Niwot 3.435 = 1.335 + 1.10 + its improvement district's 1.00"),
}


def county_part_code(st, city, county):
    """The code of one county's part of a city: state FIPS, Census place, county ("08-03455-059", Arvada's
    Jefferson part), as Aurora's and Louisiana's two-parish towns' parts are coded; None when no Census place of
    that name lies in the county."""
    place = next((c for c, (n, cs) in PLACES[0].items() if c[0] == st and n == norm(city) and county in cs.split()),
                 None)
    return f"{STATE_FIPS[st]}-{place[1]}-{county}" if place else None


def part_code(st, city, county):
    """`county_part_code` for a part our tables name: a city we cannot place there stops the converter."""
    code = county_part_code(st, city, county)
    if code is None:
        sys.exit(f"{st}: no Census place {city!r} in county {county}")
    return code


STATE_FIPS = {"AL": "01", "CO": "08", "LA": "22"}

# Alabama city rows TaxLocus names after the tax or a county part ("Fairfield S&U", "Talladega City", "Tallassee
# Within Elmore Co"): name → (city, county FIPS, why). Unmatched, they left these cities' taxes out (Talladega
# 7 % instead of 12 %). Phenix City, Madison and Tuscaloosa, which the department's place table answers, and the
# "Unabated …" rates (for abated transactions only) are left as they are.
AL_PARTS = {
    "Fairfield S&U": ("Fairfield", "073", "Fairfield's sales and use tax"),
    "Geneva City": ("Geneva", "061", "the city of Geneva"),
    "Owens Cross Rd": ("Owens Cross Roads", "089", "the town of Owens Cross Roads"),
    "Samson Sales": ("Samson", "061", "Samson's sales tax"),
    "Talladega City": ("Talladega", "121", "the city of Talladega"),
    "Westover Sales & Use": ("Westover", "117", "Westover's sales and use tax"),
    "Tallassee Within Elmore Co": ("Tallassee", "051", "Tallassee's Elmore County part"),
    "Tallassee Within Tallapoosa Co": ("Tallassee", "123", "Tallassee's Tallapoosa County part"),
}
PLACES = ({}, {})

# (state, code) → the place's name, for TaxLocus rows named only "City NNNNN" (us-county-city-place-names.csv).
PLACE_NAMES = {}
REPORT = []
DROPPED = {}

STATES = {
    # States whose revenue-department place tables (us-local/<st>.csv) cover their largest cities: the
    # county / city table answers for every other address of the state.
    "AL": make("adds_to_county", "special_district", TL_SOURCE, "County and municipal taxes add; police jurisdictions and districts are not placed.",
               city_parts=AL_PARTS),
    "AZ": make("adds_to_county", "special_district", TL_SOURCE, "County excise and city transaction privilege taxes add.",
               drop_cities_re=r"District|,"),
    "CA": make("replaces_county", "", TL_SOURCE + ";cdtfa-2026q1;" + CA_CDTFA_SOURCE,
               "A city row is the sum of the district taxes of the city's CDTFA tax area (beyond the 7.25 % statewide rate); a county row (CDTFA's January 2026 table) is the rate of the county's unincorporated area, for any place without a city row. Cities dated by CDTFA's January 2026 table, TaxLocus's values from 2026-04-01.",
               city_types=("special_district",), complete_from="2026-01-01"),
    "FL": make("adds_to_county", "", TL_SOURCE, "County discretionary sales surtax."),
    "IL": make("adds_to_county", "special_district", TL_SOURCE,
               "County and municipal taxes add; the RTA, Metro-East and business-district taxes are not placed."),
    "MO": make("adds_to_county", "special_district", TL_SOURCE,
               "County and city taxes add; community improvement and transportation development districts are not placed."),
    "NM": make("replaces_county", "", TL_SOURCE,
               "A row is the total local gross receipts tax rate of a location code; 'Remainder of County' rows are the unincorporated county's.",
               nm_codes=True),
    "NY": make("adds_to_county", "", TL_SOURCE, "County rows are the county's total local rate (NYC counties include the MCTD surcharge); city rates are in us-local/ny.csv."),
    "PA": make("adds_to_county", "", TL_SOURCE, "County taxes: Allegheny 1 %, Philadelphia 2 % (the only local sales taxes)."),
    "TX": make("adds_to_county", "special_district", TL_SOURCE,
               "County and city taxes add, and a city's crime control, fire, development and library districts go with the city; transit authorities, emergency services and other special-purpose districts are not placed.",
               districts=tx_district),
    "VA": make("adds_to_county", "", TL_SOURCE, "Regional taxes beyond the 5.3 % statewide rate, by county or independent city."),
    "AK": make("adds_to_county", "", TL_SOURCE, "Boroughs (county rows) and cities levy; a city's tax adds to its borough's.",
               county_types=("borough",)),
    "AR": make("adds_to_county", "", TL_SOURCE, "County and city taxes add."),
    "CO": make("replaces_county", "special_district", TL_SOURCE,
               "City rows are the total local rate of the location (city, county, RTD, cultural and other districts), one per county part of a city where the parts differ; county rows are the rate outside cities: the county's own, plus RTD and the cultural district in Jefferson and Boulder counties (which they cover whole).",
               city_counties=CO_COUNTY_OF_ROW, city_parts=CO_PARTS),
    "IA": make("replaces_county", "", TL_SOURCE,
               "Local option sales tax: adopted by each city and by each county's unincorporated area; a city's row (Department of Revenue list) replaces the county's, which TaxLocus gives for the whole county."),
    "ID": make("adds_to_county", "", TL_SOURCE, "Resort-city taxes only; counties levy none."),
    "KS": make("adds_to_county", "special_district", TL_SOURCE,
               "County and city taxes add; community improvement and transportation development districts are not placed."),
    "LA": make("replaces_county", "", TL_SOURCE, "Rows are the total local rate of a Louisiana tax jurisdiction code.",
               la_codes=True, city_names=LA_NAMES),
    "MS": make("adds_to_county", "", TL_SOURCE, "City taxes of Jackson and Tupelo only."),
    "NC": make("adds_to_county", "", TL_SOURCE,
               "County rate plus the county transit taxes (SST codes 99ccc, ccc = county FIPS) and Mecklenburg's 1 % transportation tax (98119).",
               districts=nc_district),
    "ND": make("adds_to_county", "", TL_SOURCE, "County and city taxes add."),
    "NE": make("replaces_county", "special_district", TL_SOURCE,
               "City taxes; the one county tax (Dakota) applies only outside cities with their own tax. Good Life districts (which halve the state rate) are not placed."),
    "NV": make("adds_to_county", "", TL_SOURCE, "County rows are the county's total local rate."),
    "OH": make("adds_to_county", "special_district", TL_SOURCE,
               "County permissive tax plus the county-wide transit authority tax (SST codes NN000, NN = the Department of Taxation's alphabetical county number); the COTA parts of Delaware, Fairfield, Licking and Union counties are not placed.",
               districts=oh_district),
    "OK": make("adds_to_county", "special_district", TL_SOURCE, "County and city taxes add."),
    "SC": make("adds_to_county", "", TL_SOURCE, "County local option taxes."),
    "SD": make("adds_to_county", "", TL_SOURCE, "Municipal taxes; counties levy none."),
    "TN": make("replaces_county", "", TL_SOURCE,
               "A city's rate is the total local rate inside the city (it replaces the county's); a county's applies outside its cities; Davidson County's 0.5 % transit surtax (from 2025-02-01) adds.",
               districts={"91951": ("Nashville transit surtax (Davidson County)", "037")}),
    "UT": make("adds_to_county", "", TL_SOURCE, "County rows plus city additions."),
    "VT": make("adds_to_county", "", TL_SOURCE,
               "1 % local option sales taxes of towns and cities (24 V.S.A. 138), by town name; codes are Census county-subdivision codes.",
               city_names=VT_NEW_TOWNS),
    "WA": make("replaces_county", "special_district", TL_SOURCE + ";" + WA_DOR_SOURCE,
               "City rows are the combined local rate of the city's location code; county rows the unincorporated county's. Dated by the Department of Revenue's quarterly tables from 2024 Q2 to 2026 Q1, and TaxLocus's values (the July 2026 quarter's) from 2026-07-01; in the April 2026 quarter only where the two agree.",
               complete_from="2026-07-01"),
    "WV": make("adds_to_county", "", TL_SOURCE, "Municipal 1 % taxes.",
               city_names={"04876": "Bath|Berkeley Springs"}),
    "WY": make("adds_to_county", "", TL_SOURCE, "County taxes."),
}


def norm(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()  # "Doña Ana" is "Dona Ana"
    return re.sub(r"[^A-Z0-9]", "", s.upper().replace("SAINT", "ST"))


def load_counties(data):
    by_name = defaultdict(dict)
    with open(data / "us-sst" / "county-names.csv", newline="") as f:
        for r in csv.DictReader(f):
            name = r["name"]
            keys = {norm(name)}
            for suffix in (" County", " Parish", " Borough", " City and Borough", " Municipality", " Census Area"):
                if name.endswith(suffix):
                    keys.add(norm(name[: -len(suffix)]))
            for k in keys:
                by_name[r["state"]][k] = (r["county_fips"], name)
    return by_name


CENSUS_SUFFIX = re.compile(r"(\s+[a-z][a-z-]*)+(\s+\(balance\))?$")


def census_places(data):
    """Census 2020 incorporated places: (state, place FIPS) → (name, counties) and (state, name) → [counties]."""
    by_code, by_name = {}, defaultdict(list)
    with open(data / "scripts" / "census-place-counties.csv", newline="") as f:
        for r in csv.DictReader(f):
            name = norm(CENSUS_SUFFIX.sub("", r["name"]))  # "South Weber city" → "SOUTHWEBER"
            by_code[(r["state"], r["place_fips"])] = (name, r["counties"].replace(";", " "))
            by_name[(r["state"], name)].append(r["counties"].replace(";", " "))
    return by_code, by_name


def place_counties(places, st, name, code):
    """The counties a city lies in (Census 2020), for a city row that names none: by its place FIPS when the Census
    name there is the row's name, else by a name only one incorporated place of the state has; else unknown ("")."""
    by_code, by_name = places
    key = norm(name.split("|")[0])
    hit = by_code.get((st, code)) if re.fullmatch(r"\d{5}", code or "") else None
    if hit and hit[0] == key:
        return hit[1]
    same = by_name.get((st, key), [])
    return same[0] if len(same) == 1 else ""


def wa_dor(data, cmap, names, tl_cities):
    """Washington's quarterly location-code table (wa-dor-location-rates.csv) as department values: one per
    location and run of equal quarters, each with the run's explicit end.

    A city is its location under its own name, else its RTA part ("BELLEVUE RTA": TaxLocus's value is that
    part's); a county is its unincorporated area ("KING COUNTY", else "KING COUNTY RTA"); a city in two counties
    has a location per county ("AUBURN/KING RTA", "AUBURN/PIERCE"), each a city row of that county. Tribal
    areas, transportation benefit areas (PTBA), hospital benefit zones and non-RTA parts are sub-areas no row can
    place (Washington's special districts are `unmodelled`). DOR names a city "YAKIMA CITY" where a county has
    its name, and some cities are named so ("BENTON CITY"): the name TaxLocus knows (`tl_cities`, folded) wins."""
    with open(data / "scripts" / "wa-dor-location-rates.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by_code = defaultdict(list)
    for r in rows:
        by_code[r["location_code"]].append(r)
    # A location is its code. The copy's later quarters lost " CITY" from names ("BENTON CITY" is "BENTON" from
    # 2025 Q3): a code's longest name is its name.
    located = {code: max((q["location"] for q in qs), key=len) for code, qs in by_code.items()}
    present = set(located.values())
    out = []
    for code, quarters in sorted(by_code.items()):
        loc = located[code]
        if " - " in loc or re.search(r"PTBA|HBZ|NON.RTA", loc):
            continue
        county = re.fullmatch(r"(.+) COUNTY( RTA)?", loc)
        split = re.fullmatch(r"(.+)/([A-Z ]+?)( RTA)?", loc)
        if county:
            if county.group(2) and f"{county.group(1)} COUNTY" in present:
                continue
            fips = cmap[norm(county.group(1))][0]
            level, match, name, counties_ = "county", fips, names[("WA", fips)], fips
        elif split:
            fips = cmap[norm(split.group(2))][0]
            level, match, name, counties_ = "city", f"{split.group(1)}/{fips}", split.group(1).title(), fips
        else:
            city = re.sub(r" RTA$", "", loc)
            if city != loc and city in present:
                continue
            short = re.sub(r" CITY$", "", city)
            if norm(city) not in tl_cities and norm(short) in tl_cities:
                city = short
            level, match, name, counties_ = "city", city, city.title(), ""
        runs = []
        for q in sorted(quarters, key=lambda q: q["effective_from"]):
            if runs and pct_eq(runs[-1][2], q["local_percent"]) and runs[-1][1] == prev_day(q["effective_from"]):
                runs[-1][1] = q["effective_to"]
            else:
                runs.append([q["effective_from"], q["effective_to"], q["local_percent"]])
        for frm, to, pct in runs:
            out.append(dict(state="WA", level=level, match=match, name=name, code=code, counties=counties_,
                            rate_percent=pct, effective_from=frm, effective_to=to, source=WA_DOR_SOURCE,
                            notes=f"DOR location code {code} {loc!r}, local {pct} % ({frm} to {to}); it replaces the county's rate (state 6.5 % added)"))
    return out


def ca_cdtfa(data):
    """CDTFA's January 2026 city rates (ca-cdtfa-rates.csv) as department values for 2026 Q1: a city row's rate
    is its combined rate less the 7.25 % statewide rate (the city row replaces the county's)."""
    out = []
    with open(data / "scripts" / "ca-cdtfa-rates.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["type"] != "City":
                continue
            local = format((Decimal(r["rate_percent"]) - Decimal("7.25")).normalize(), "f")
            name = clean_city(r["location"])
            out.append(dict(state="CA", level="city", match=name, name=name, code="", counties="",
                            rate_percent=local, effective_from=r["effective_from"], effective_to=r["effective_to"],
                            source=CA_CDTFA_SOURCE,
                            notes=f"CDTFA January 2026 table, {r['location']!r} ({r['county']} County) {r['rate_percent']} %: {local} % beyond the statewide 7.25 %"))
    return out


def main():
    tl_path, data = Path(sys.argv[1]), Path(sys.argv[2])
    with open(data / "scripts" / "us-county-city-place-names.csv", newline="") as f:
        PLACE_NAMES.update({(r["state"], r["code"]): r["name"] for r in csv.DictReader(f)})
    counties = load_counties(data)
    names = {(st, fips): name for st, m in counties.items() for (fips, name) in m.values()}
    dept = defaultdict(list)
    dept_path = data / "scripts" / "us-county-city-departments.csv"
    with open(dept_path, newline="") as f:
        for r in csv.DictReader(f):
            dept[(r["state"], r["level"], norm(r["match"]))].append(r)
    with open(tl_path, newline="") as f:
        rows = list(csv.DictReader(f))
    wa_cities = {norm(clean_city(r["name"])) for r in rows if r["state"] == "WA" and r["jurisdiction_type"] == "city"}
    for r in wa_dor(data, counties["WA"], names, wa_cities) + ca_cdtfa(data):
        dept[(r["state"], r["level"], norm(r["match"]))].append(r)
    out = defaultdict(list)
    report = []
    for table, loaded in zip(PLACES, census_places(data)):
        table.update(loaded)
    places = PLACES
    TX_CITIES.update(r["name"].strip() for r in rows if r["state"] == "TX" and r["jurisdiction_type"] == "city")
    for st, cfg in sorted(STATES.items()):
        used_dept = set()
        convs = []
        for r in rows:
            if r["state"] != st:
                continue
            conv = cfg["convert"](r, counties[st], names)
            if conv is not None:
                convs.append((conv, r))
        kept = one_row_per_city(st, convs)
        tl_total = defaultdict(Decimal)
        for (lv, _, _, cl, _), r in kept:
            if lv in ("county", "district") and len(cl.split()) == 1:
                tl_total[cl] += Decimal(fraction_to_percent(r["rate"]))
        for conv, r in kept:
            level, name, code, county_list, note = conv
            rate = fraction_to_percent(r["rate"])
            if (st, level, name) in TL_CORRECTIONS:
                rate, why = TL_CORRECTIONS[(st, level, name)]
                note = f"{CORRECTED} to {rate} %: {why}"
            if st == "NM":
                rate = nm_rate(rate)
            # The department's rows for this jurisdiction: by its code, else by its name.
            keys = [(st, level, norm(code))] if code else []
            keys.append((st, level, norm(name.split("|")[0])))
            key = next((k for k in keys if k in dept), keys[0])
            d = list(dept.get(key, []))
            used_dept.add(key)
            # A department total that equals TaxLocus's components (Ohio: county + transit; South Carolina: the
            # county's taxes) dates the components; a total that differs is reported, not split.
            for c in dept.get((st, "confirm", norm(county_list)), []) if level in ("county", "district") else []:
                total = tl_total.get(county_list)
                if total is not None and Decimal(c["rate_percent"]) == total:
                    d.append(dict(c, rate_percent=rate, notes=f"department total {c['rate_percent']} % confirms it. {c['notes']}"))
                elif level == "county":
                    report.append(f"{st} {name}: department total {c['rate_percent']} % (from {c['effective_from']}) vs TaxLocus county + districts {total} %")
            out[st].extend(dated_rows(st, level, name, code, county_list, rate, note, d, report))
        lacking = defaultdict(list)
        for key, d in dept.items():
            if key[0] == st and key not in used_dept and key[1] != "confirm":
                # A jurisdiction the department publishes and TaxLocus lacks.
                for x in d:
                    if x["level"] == "district" and not x["counties"]:
                        REPORT.append(f"{st}: department district {x['name']!r} is not tied to a county; not loaded")
                        continue
                    name, counties_ = x["name"], x["counties"]
                    if x["level"] == "city" and st == "LA":
                        # The parish: from the area code's first two digits, or "… inside X Parish".
                        m = re.search(r"inside (.+?) Parish", name)
                        if re.fullmatch(r"\d{4}", x["code"]):
                            counties_ = f"{2 * int(x['code'][:2]) - 1:03d}"
                        elif m and counties[st].get(norm(m.group(1))):
                            counties_ = counties[st][norm(m.group(1))][0]
                        name = la_city(name)
                        if not x["code"] and counties_:
                            # A town in two parishes is a row per parish: its Census place and the parish tell
                            # them apart ("22-03390-097", Arnaudville's St. Landry part), as Aurora's parts in CO.
                            x = dict(x, code=county_part_code(st, name, counties_) or "")
                    elif x["level"] == "city":
                        name = aliases(clean_city(name))
                    elif x["level"] == "county":
                        name = names.get((st, x["code"]), name)
                    to = x["effective_to"]
                    if x["source"] in TABLE_SOURCES and to == max(y["effective_to"] for y in d):
                        # A table of every location: its newest value holds until a newer table says otherwise,
                        # as TaxLocus's values do from their snapshot.
                        to = ""
                    lacking[(x["level"], name, x["code"], counties_)].append(
                        [st, x["level"], name, x["code"], counties_, x["rate_percent"], x["effective_from"],
                         to, x["source"], x["notes"] or "department value; not in TaxLocus"])
        for rs in lacking.values():
            out[st].extend(history(rs))
    for st, rs in out.items():
        for r in rs:
            if r[1] == "city" and not r[4]:
                r[4] = place_counties(places, st, r[2], r[3])
                if r[4]:
                    r[8] += f";{CENSUS_SOURCE}"
            elif r[1] == "county" and (st, r[3]) in UNINCORPORATED_DISTRICTS:
                # Under `replaces_county` a county row is the whole local rate outside its cities.
                extra, source, why = UNINCORPORATED_DISTRICTS[(st, r[3])]
                r[5] = format((Decimal(r[5]) + Decimal(extra)).normalize(), "f")
                r[8] = ";".join(dict.fromkeys(r[8].split(";") + source.split(";")))
                r[9] = f"county {r[5]} % = its own tax + {extra} % of districts covering its unincorporated area ({why}); {r[9]}"
    for st, cfg in STATES.items():
        if cfg["complete_from"] == AS_OF:
            continue  # a jurisdiction new since the snapshot (Vermont's 2026 towns) starts later
        # A state complete before the snapshot: every jurisdiction is dated from then, without a gap, to today.
        spans = defaultdict(list)
        for r in out[st]:
            spans[(r[1], r[2], r[3])].append((r[6], r[7]))
        broken = []
        for k, v in spans.items():
            # Only the periods from `complete_from` on: before it a jurisdiction may have gaps (Washington's April
            # 2026 quarter where DOR's table and TaxLocus differ).
            v = sorted(p for p in v if not p[1] or p[1] >= cfg["complete_from"])
            joined = all(a[1] and next_day(a[1]) == b[0] for a, b in zip(v, v[1:]))
            if v[0][0] > cfg["complete_from"] or not joined or v[-1][1]:
                broken.append(f"{k[1]} {v}")
        if broken:
            sys.exit(f"{st}: complete from {cfg['complete_from']}, but these are not: {'; '.join(sorted(broken))}")
    target = data / "us-county-city"
    target.mkdir(exist_ok=True)
    header = ["state", "level", "name", "code", "counties", "with_city", "rate", "effective_from", "effective_to",
              "source", "notes"]
    for st, rs in out.items():
        rs.sort(key=lambda r: (["county", "district", "city"].index(r[1]), r[2], r[6]))
        with open(target / f"{st.lower()}.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for r in rs:
                # "@City" in the counties slot: a district levied with that city (with_city).
                counties_, with_city = (r[4], "") if not r[4].startswith("@") else ("", r[4][1:])
                w.writerow(r[:4] + [counties_, with_city] + r[5:])
    with open(target / "rules.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["state", "city_rule", "unmodelled", "complete_from", "source", "notes"])
        for st, cfg in sorted(STATES.items()):
            # TaxLocus lists every jurisdiction as of its snapshot; before it we hold only department-dated rows,
            # unless a department table of every location dates them all from its first period (complete_from).
            w.writerow([st, cfg["rule"], cfg["unmodelled"], cfg["complete_from"], cfg["source"], cfg["notes"]])
    for line in report + REPORT:
        print(line)
    for (st, t), n in sorted(DROPPED.items()):
        print(f"{st}: {n} {t} rows not loaded (no county they can be tied to)")


def one_row_per_city(st, convs):
    """A city name must mean one rate. TaxLocus lists sub-areas of some cities as rows of their own
    ("Aurora (Cd Only)", "Lakewood (Within Local Improvement Dist)"): the row named exactly after the city wins;
    a name left with several different rates is a row per county when `county_parts` can tell the parts apart,
    else dropped and reported (we cannot tell the areas apart)."""
    by_name = defaultdict(list)
    for conv, r in convs:
        by_name[(conv[0], norm(conv[1].split("|")[0]), conv[3] if conv[0] != "city" else "")].append((conv, r))
    groups = defaultdict(list)
    for g in by_name.values():
        # A county's part of a city (`city_counties`, `city_parts`: a city row with counties) counts as plain.
        plain = [x for x in g if "(" not in x[1]["name"] or (x[0][0] == "city" and x[0][3])]
        for x in plain or g:
            groups[(x[0][0], norm(x[0][1].split("|")[0]), x[0][3])].append(x)
    county_rate = {conv[2]: Decimal(r["rate"]) for conv, r in convs if conv[0] == "county"}
    out = []
    for key, g in groups.items():
        if len({x[1]["rate"] for x in g}) > 1:
            parts = county_parts(st, g, county_rate) if st in CITY_TOTAL_HOLDS_COUNTY else None
            if parts:
                out.extend(parts)
                continue
            REPORT.append(f"{st}: {key[1]!r} has rows with different rates " +
                          str(sorted((x[1]["name"], x[1]["rate"]) for x in g)) + "; dropped")
            continue
        out.append(g[0])
    return out


# States whose city rows are the location's total local rate, the county's tax included.
CITY_TOTAL_HOLDS_COUNTY = {"CO"}


def county_parts(st, g, county_rate):
    """Rows of one city name with different rates (Superior's 6.215 and 5.38) as the parts of a city in several
    counties: each rate minus its county's rate must leave the same rest (the city's own rate and districts:
    6.215 - Boulder 1.335 = 5.38 - Jefferson 0.50 = 4.88), for exactly one way of giving each rate a county
    of the city's (Census). Then each is a row of its county, coded as `part_code`; else None."""
    from itertools import permutations

    name = g[0][0][1].split("|")[0]
    counties_ = place_counties(PLACES, st, name, "").split()
    rates = sorted({Decimal(x[1]["rate"]) for x in g})
    if len(rates) != len(counties_) or any(c not in county_rate for c in counties_):
        return None
    fits = [p for p in permutations(counties_) if len({r - county_rate[c] for r, c in zip(rates, p)}) == 1]
    if len(fits) != 1:
        return None
    out = []
    for r, c in zip(rates, fits[0]):
        conv, row = next(x for x in g if Decimal(x[1]["rate"]) == r)
        rest = fraction_to_percent(str(r - county_rate[c]))
        note = (f"TaxLocus has {len(g)} rows named {name!r}; this one's rate less the county's ({rest} %) is the "
                f"other part's too: the part in county {c}")
        out.append(((conv[0], conv[1], part_code(st, name, c), c, note), row))
    REPORT.append(f"{st}: {name!r} rows of different rates placed as county parts {fits[0]}")
    return out


def fraction_to_percent(v):
    from decimal import Decimal

    p = (Decimal(v) * 100).normalize()
    return format(p, "f")


def dated_rows(st, level, name, code, county_list, rate, note, dept_rows, report):
    """TaxLocus row + the department's values for the same jurisdiction → dated rows.

    Each observation holds from its date until the next observation's date (the newest wins from its date on):
    the department's values from their effective dates, TaxLocus's from 2026-05-19 (or its STARTS / TL_FROM
    day). Consecutive equal values merge into one row citing both, so a department value that confirms TaxLocus
    dates the row from the department's effective date. A department value that differs holds until the day
    before the next observation: the day it changed is not in our sources, and the difference is reported."""
    obs = []
    for d in sorted(dept_rows, key=lambda d: (d["effective_from"], d["effective_to"] or "9999")):
        o = (d["effective_from"], d["effective_to"], d["rate_percent"], d["source"], d["notes"])
        # A value another publication already gives for a period holding this one's is a second citation, not
        # an observation of its own (it would cut the longer period short).
        within = next((i for i, p in enumerate(obs) if p[0] <= o[0] and o[1] and (not p[1] or o[1] <= p[1])
                       and pct_eq(p[2], o[2])), None)
        if within is not None:
            p = obs[within]
            obs[within] = (p[0], p[1], p[2], ";".join(dict.fromkeys(p[3].split(";") + o[3].split(";"))), p[4])
        else:
            obs.append(o)
    start, why = STARTS.get((st, code), ("", ""))
    if start:
        obs.append((start, "", rate, TL_SOURCE, f"TaxLocus 2026-05-19; starts {start}: {why}"))
    elif st in TL_FROM:
        obs.append((TL_FROM[st][0], "", rate, TL_SOURCE, note or TL_FROM[st][1]))
    else:
        obs.append((AS_OF, "", rate, TL_SOURCE, note or "in force on 2026-05-19 (TaxLocus snapshot)"))
    obs.sort(key=lambda o: (o[0], o[3] == TL_SOURCE))

    def differs(seg, value):
        report.append(f"{st} {level} {name}: department {seg[2]} % (from {seg[0]}) vs TaxLocus {value} % on 2026-05-19")

    segs = segments(st, obs, differs)
    return [[st, level, name, code, county_list, v, f, t, src, why] for (f, t, v, src, why) in segs]


def segments(st, obs, differs=None):
    """Dated observations (from, to, value, sources, why), sorted by start → one segment per period: each holds
    until the next one's date, and consecutive equal values are one segment citing both. `differs(segment, value)`
    hears of a TaxLocus value that differs from the department value before it."""
    segs = []
    for i, (frm, to, value, src, why) in enumerate(obs):
        nxt = obs[i + 1][0] if i + 1 < len(obs) else ""
        end = to
        if nxt:
            cut = prev_day(nxt)
            end = min(end, cut) if end else cut
        if end and end < frm:
            continue
        joins = False
        if segs:
            last_end = segs[-1][1]
            joins = not last_end or last_end >= prev_day(frm)
            # Where local rates change only on a quarter's first day, a department value of the quarter before
            # the snapshot's that equals TaxLocus's was still in force when the snapshot's quarter began (and,
            # where TaxLocus holds the next quarter's rates, through the snapshot's quarter to them).
            joins = joins or (src == TL_SOURCE and st in QUARTERLY and last_end == prev_day(quarter_start(AS_OF)))
        if joins and pct_eq(segs[-1][2], value):
            last = segs[-1]
            srcs = ";".join(dict.fromkeys(last[3].split(";") + src.split(";")))
            agrees = why if why.startswith(CORRECTED) else "Equal to TaxLocus 2026-05-19."
            segs[-1] = (last[0], end, last[2], srcs, last[4] if src != TL_SOURCE else f"{last[4]} {agrees}".strip())
        else:
            if segs and src == TL_SOURCE and differs:
                differs(segs[-1], value)
            segs.append((frm, end, value, src, why))
    return segs


def history(rows):
    """Several publications' values of one jurisdiction TaxLocus lacks → one row per period (`segments`). Two
    publications with the same start are one observation citing both when they agree, and an error when not."""
    obs = []
    for r in sorted(rows, key=lambda r: (r[6], r[7] or "9999")):
        if obs and obs[-1][0] == r[6]:
            if not pct_eq(obs[-1][2], r[5]):
                sys.exit(f"{r[0]} {r[1]} {r[2]}: {obs[-1][2]} % and {r[5]} % both from {r[6]} ({obs[-1][3]}; {r[8]})")
            obs[-1] = (*obs[-1][:3], ";".join(dict.fromkeys(obs[-1][3].split(";") + r[8].split(";"))), obs[-1][4])
            continue
        obs.append((r[6], r[7], r[5], r[8], r[9]))
    return [[*rows[0][:5], v, f, t, src, why] for (f, t, v, src, why) in segments(rows[0][0], obs)]


def nm_rate(rate):
    """TaxLocus keeps New Mexico's rates to 0.001 % (3.188); the department's schedule has them to 0.0001 %, and
    most are multiples of 1/48 % (3.1875, 1.9583): a value that is such a multiple rounded to 0.001 % (within
    0.0005 %) is restored. Not every rate is one: Doña Ana County's places carry 0.0025 % more (Sunland Park
    3.315, Anthony 3.5025 in TRD's January 2026 schedule), and a wider window rounded them to the multiple."""
    x = Decimal(rate) * 48
    n = x.to_integral_value()
    if abs(x - n) <= Decimal("0.024"):  # within 0.0005 %
        return format((n / 48).quantize(Decimal("0.0001")).normalize(), "f")
    return rate


def prev_day(d):
    from datetime import date, timedelta

    return (date.fromisoformat(d) - timedelta(days=1)).isoformat()


def quarter_start(d):
    """The first day of the calendar quarter holding the ISO date `d`."""
    return f"{d[:4]}-{(int(d[5:7]) - 1) // 3 * 3 + 1:02d}-01"


def next_day(d):
    from datetime import date, timedelta

    return (date.fromisoformat(d) + timedelta(days=1)).isoformat()


def pct_eq(a, b):
    from decimal import Decimal

    return Decimal(a) == Decimal(b)


if __name__ == "__main__":
    main()
