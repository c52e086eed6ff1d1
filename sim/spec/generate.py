#!/usr/bin/env python3
"""Writes sequence-2024-07-30.json from our research notes (research/sequence-fields.md).

Usage: python3 sim/spec/generate.py ../shared/research/sequence-fields.md > sim/spec/sequence-2024-07-30.json

The notes list, per response and per schema, each field's JSON type and required flag as we read them
from Sequence's published document. This script only turns our tables into data the simulator's
departure checker reads; it never reads Sequence's document itself. Value lists that recur (countries,
US/Canadian states, currencies, integration services) become named enums; the rest stay inline.
"""
import json
import re
import sys

NAMED = {
    "Country": lambda v: "US" in v and "GB" in v and len(v) > 200,
    "UsCaState": lambda v: "TX" in v and "ON" in v,
    "Currency": lambda v: "EUR" in v and "USD" in v,
    "IntegrationService": lambda v: "Sphere" in v and "Stripe" in v,
}


def enum_values(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_type(text, enums):
    t = text.strip()
    nullable = False
    if t.endswith(", nullable"):
        nullable, t = True, t[: -len(", nullable")]
    out = {}
    if t.startswith("array of "):
        out = {"type": "array", "items": parse_type(t[len("array of "):], enums)[0]}
    elif t.startswith("object map"):
        m = re.match(r"object map \((\w+) → (\w+)\)", t)
        assert m and m.group(1) == "string", t
        out = {"type": "map", "values": {"type": m.group(2)}}
    elif t.startswith("object "):
        out = {"type": "object", "schema": t[len("object "):].strip()}
    elif t.startswith("string enum "):
        values = enum_values(t[len("string enum "):])
        name = next((n for n, test in NAMED.items() if test(values)), None)
        if name:
            if name in enums:
                assert enums[name] == values, (name, values)
            enums[name] = values
            out = {"type": "string", "enum": name}
        else:
            out = {"type": "string", "enum": values}
    elif t == "string":
        out = {"type": "string"}
    elif t.startswith("integer"):
        out = {"type": "integer"}
        m = re.match(r"integer \((int32|int64)\)", t)
        if m:
            out["format"] = m.group(1)
    elif t == "boolean":
        out = {"type": "boolean"}
    else:
        raise SystemExit(f"unknown type {text!r}")
    return out, nullable


def main(path):
    endpoints, schemas, enums = [], {}, {}
    current = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^### (GET) (\S+) → (\w+)$", line)
        if m:
            current = m.group(3)
            endpoints.append({"method": m.group(1), "path": m.group(2), "response": current})
            schemas.setdefault(current, {})
            continue
        m = re.match(r"^### (\w+)$", line)
        if m:
            current = m.group(1)
            schemas.setdefault(current, {})
            continue
        m = re.match(r"^\| `(\w+)` \| (.+?) \| (yes)? ?\|$", line)
        if m and current:
            field, nullable = parse_type(m.group(2), enums)
            field["required"] = m.group(3) == "yes"
            field["nullable"] = nullable
            schemas[current][m.group(1)] = field
    doc = {
        "about": "Required fields and JSON types of the 12 Sequence API 2024-07-30 responses the connector "
        "reads, written by this project from its own research notes (research/sequence-fields.md) for the "
        "simulator's departure checker. Not Sequence's document: see there for descriptions and examples.",
        "apiVersion": "2024-07-30",
        "rules": {
            "required": "the field is always sent",
            "nullable": "null is allowed (otherwise an optional field is absent, never null)",
            "map": "a JSON object with arbitrary keys whose values have the given type, never a list",
            "enum": "the documented values (inline list, or the name of a list under enums); Sequence may add values",
        },
        "enums": enums,
        "endpoints": endpoints,
        "schemas": {name: {"fields": fields} for name, fields in schemas.items()},
    }
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
