#!/usr/bin/env python3
"""Convert the two PyPI VAT data packages into data/rates/eu-vat.csv and data/vat/id-formats.csv.

Inputs (unpacked wheels; fetch with `pip download <pkg>==<ver> --no-deps -d /tmp/x` and unzip):
  duty27-eu-vat 0.1.0          duty27_eu_vat/_data.py        EU-27 standard rates with history (CC BY 4.0 data)
  eu-vat-rates-data 2026.9.29  eu_vat_rates_data/*.json       current standard/reduced rates + VAT-id regexes (MIT)

Usage: convert_vat.py <duty27 _data.py> <eu_vat_rates_data.json> <data dir>

Standard rates of EU-27 come from duty27 (dated). Reduced / super-reduced / parking rates, and standard rates of
the non-EU countries that data/rates/world.csv does not already carry, come from eu-vat-rates-data, which has no
dates: we record its version date as the first day we know them to be in force.
The script cross-checks the current duty27 standard rate against eu-vat-rates-data and our hand-curated world.csv
against eu-vat-rates-data, and fails on a mismatch.
VAT-id regexes are expanded into fixed-width templates (`#` digit, `@` letter A-Z, `*` letter or digit, anything
else literal), a subset the Rust engine can check without a regex crate. Character classes narrower than these
(e.g. [01], [A-W]) are widened, so the check is a format check, never stricter than the source regex.
"""
import ast, csv, json, re, sys
from pathlib import Path

try:
    import re._parser as sre_parse  # Python >= 3.11
    import re._constants as C
except ImportError:  # pragma: no cover
    import sre_parse, sre_constants as C

DUTY27_SRC = "duty27-eu-vat-0.1.0"
EVRD_SRC = "eu-vat-rates-data-2026.9.29"
EVRD_DATE = "2026-09-29"
HEADER = ["country", "region", "jurisdiction", "level", "tax_type", "kind", "rate", "effective_from",
          "effective_to", "display_name", "source", "notes"]


def load_duty27(path):
    tree = ast.parse(Path(path).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DATA":
            return ast.literal_eval(node.value)
    raise SystemExit("DATA not found in duty27 _data.py")


def day_before(iso):
    import datetime as dt
    return (dt.date.fromisoformat(iso) - dt.timedelta(days=1)).isoformat()


def num(x):
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return s


def class_token(items):
    chars = set()
    for op, av in items:
        if op == C.LITERAL:
            chars.add(chr(av))
        elif op == C.RANGE:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op == C.CATEGORY and av == C.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:
            raise ValueError(f"unsupported class item {op}")
    digits = chars & set("0123456789")
    letters = chars & set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    other = chars - digits - letters
    if other:
        return "*"  # widened (e.g. IE's [A-Z+*])
    if digits and letters:
        return "*"
    if digits:
        return "#"
    return "@"


def expand(parsed):
    """Expand a parsed regex into the list of fixed templates it matches (subset of regex syntax)."""
    outs = [""]
    for op, av in parsed:
        if op == C.AT:
            continue
        if op == C.LITERAL:
            alts = [chr(av)]
        elif op == C.IN:
            alts = [class_token(av)]
        elif op == C.SUBPATTERN:
            alts = expand(av[-1])
        elif op == C.BRANCH:
            alts = [t for b in av[1] for t in expand(b)]
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, sub = av
            if hi == C.MAXREPEAT:
                raise ValueError("unbounded repeat")
            inner = expand(sub)
            alts = []
            for n in range(lo, hi + 1):
                reps = [""]
                for _ in range(n):
                    reps = [r + i for r in reps for i in inner]
                alts.extend(reps)
        elif op == C.CATEGORY and av == C.CATEGORY_DIGIT:
            alts = ["#"]
        else:
            raise ValueError(f"unsupported regex op {op}")
        outs = [o + a for o in outs for a in alts]
    return outs


def templates(pattern):
    return sorted(set(expand(sre_parse.parse(pattern))))


def main():
    duty27_path, evrd_path, data_dir = sys.argv[1:4]
    data_dir = Path(data_dir)
    duty = load_duty27(duty27_path)
    evrd = json.loads(Path(evrd_path).read_text())
    assert evrd["version"] == EVRD_DATE, evrd["version"]
    rates = evrd["rates"]
    world = {r["country"] for r in csv.DictReader(open(data_dir / "rates" / "world.csv"))}
    world_current = {}
    for r in csv.DictReader(open(data_dir / "rates" / "world.csv")):
        if r["effective_to"] == "":
            world_current[r["country"]] = float(r["rate"])

    rows = []
    eu = set()
    for code, name, history in duty:
        iso = "GR" if code == "EL" else code
        eu.add(iso)
        abbr = rates[iso]["vat_abbr"] if iso in rates else "VAT"
        for i, (start, rate) in enumerate(history):
            end = day_before(history[i + 1][0]) if i + 1 < len(history) else ""
            note = "duty27 history starts 2016-01-01; earlier history not in our data" if i == 0 else ""
            rows.append([iso, "", name, "country", "vat", "standard", rate, start, end, abbr, DUTY27_SRC, note])
        cur = float(history[-1][1])
        if iso in rates and abs(rates[iso]["standard"] - cur) > 1e-9:
            raise SystemExit(f"{iso}: duty27 standard {cur} != eu-vat-rates-data {rates[iso]['standard']}")
    for iso, v in sorted(rates.items()):
        if iso in world_current and abs(world_current[iso] - v["standard"]) > 1e-9:
            raise SystemExit(f"{iso}: world.csv {world_current[iso]} != eu-vat-rates-data {v['standard']}")
        if iso not in eu and iso not in world and iso != "XI":
            rows.append([iso, "", v["country"], "country", "vat", "standard", num(v["standard"]), EVRD_DATE, "",
                         v["vat_abbr"], EVRD_SRC, "in force on the package date; start date not in source"])
        if iso == "XI":
            continue  # Northern Ireland: GB rates apply (resolved through country GB + region)
        kinds = [("reduced", r) for r in v["reduced"]]
        if v["super_reduced"] is not None:
            kinds.append(("super_reduced", v["super_reduced"]))
        if v["parking"] is not None:
            kinds.append(("parking", v["parking"]))
        for kind, r in kinds:
            rows.append([iso, "", v["country"], "country", "vat", kind, num(r), EVRD_DATE, "", v["vat_abbr"],
                         EVRD_SRC, "in force on the package date; start date not in source"])
    rows.sort(key=lambda r: (r[0], r[5], r[7], float(r[6])))
    with open(data_dir / "rates" / "eu-vat.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)

    with open(data_dir / "vat" / "id-formats.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "templates", "source", "regex"])
        for iso, v in sorted(rates.items()):
            try:
                t = templates(v["pattern"])
            except ValueError as e:
                print(f"skip {iso}: {e}", file=sys.stderr)
                continue
            w.writerow([iso, "|".join(t), EVRD_SRC, v["pattern"]])
    print(f"wrote {len(rows)} rate rows")


if __name__ == "__main__":
    main()
