#!/usr/bin/env python3
"""Rewrite data/fx/ecb-eurofxref.csv from the ECB's historical euro reference-rate file.

Usage:
  refresh.py [SOURCE] [--out PATH] [--since YYYY-MM-DD]

SOURCE is a local path or an http(s) URL to `eurofxref-hist.zip` (the zip holds one `eurofxref-hist.csv`) or to
that `.csv` itself. Default: https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip
--out defaults to ecb-eurofxref.csv beside this script; --since defaults to 2017-01-01.

Output: `date,currency,per_eur`, one row per ECB publication date and currency, sorted by date then currency.
`per_eur` is the ECB's own decimal string, unchanged (units of the currency per 1 EUR). "N/A" and empty cells are
skipped (the ECB did not publish that currency that day). Only the currencies in CURRENCIES are kept; if the
result would exceed MAX_BYTES, only the first FALLBACK_COUNT of them are kept. Standard library only.
"""
import argparse
import hashlib
import io
import re
import sys
import urllib.request
import zipfile
from pathlib import Path

ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip"
CURRENCIES = ["USD", "GBP", "CAD", "AUD", "NZD", "NOK", "CHF", "SGD", "JPY", "SEK", "DKK", "PLN",
              "CZK", "HUF", "INR", "MXN", "BRL", "ZAR"]
FALLBACK_COUNT = 12
MAX_BYTES = 3 * 1024 * 1024
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RATE_RE = re.compile(r"^(0|[1-9]\d*)(\.\d+)?$")


def read_source(source):
    if re.match(r"^https?://", source):
        req = urllib.request.Request(source, headers={"User-Agent": "fx-refresh/1"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
    else:
        raw = Path(source).read_bytes()
    print(f"source: {source} ({len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()})", file=sys.stderr)
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                sys.exit(f"expected one .csv in the zip, found {names}")
            raw = z.read(names[0])
            print(f"  {names[0]}: {len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()}", file=sys.stderr)
    return raw.decode("utf-8-sig")


def parse(text, since):
    """{date: {currency: rate string}} for dates >= since, CURRENCIES only."""
    lines = [l for l in text.splitlines() if l.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    if header[0] != "Date":
        sys.exit(f"unexpected header {header[:3]}")
    cols = {h: i for i, h in enumerate(header) if h in CURRENCIES}
    out = {}
    for n, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(",")]
        date = cells[0]
        if not DATE_RE.match(date):
            sys.exit(f"line {n}: bad date {date!r}")
        if date < since:
            continue
        if date in out:
            sys.exit(f"line {n}: duplicate date {date}")
        day = {}
        for cur, i in cols.items():
            v = cells[i] if i < len(cells) else ""
            if v in ("", "N/A"):
                continue
            if not RATE_RE.match(v) or float(v) <= 0:
                sys.exit(f"line {n}: bad {cur} rate {v!r}")
            day[cur] = v
        out[date] = day
    return out, [c for c in CURRENCIES if c in cols]


def render(days, keep):
    rows = ["date,currency,per_eur"]
    for date in sorted(days):
        for cur in sorted(c for c in days[date] if c in keep):
            rows.append(f"{date},{cur},{days[date][cur]}")
    return "\n".join(rows) + "\n", len(rows) - 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", nargs="?", default=ECB_URL)
    ap.add_argument("--out", default=str(Path(__file__).resolve().with_name("ecb-eurofxref.csv")))
    ap.add_argument("--since", default="2017-01-01")
    a = ap.parse_args()
    days, present = parse(read_source(a.source), a.since)
    if not days:
        sys.exit("no dates on or after --since")
    missing = [c for c in CURRENCIES if c not in present]
    keep = set(present)
    text, count = render(days, keep)
    if len(text.encode()) > MAX_BYTES:
        keep = set(present) & set(CURRENCIES[:FALLBACK_COUNT])
        text, count = render(days, keep)
    Path(a.out).write_text(text, encoding="utf-8", newline="\n")
    dates = sorted(days)
    print(f"wrote {a.out}: {count} rows, {len(dates)} dates {dates[0]}..{dates[-1]}, "
          f"{len(text.encode())} bytes, currencies {','.join(c for c in CURRENCIES if c in keep)}"
          + (f"; not in source: {','.join(missing)}" if missing else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
