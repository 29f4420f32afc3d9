#!/usr/bin/env python3
"""Validates Pépinière's open data against beta.gouv.fr's OpenAPI document (v2.7), independently
of the C++ that wrote it: jsonschema (PyPI) over the schema each path declares for its 200 answer,
with the document's components for $ref, OpenAPI 3.0's `nullable` read as JSON Schema's null type,
and formats (date, email) checked. The CSV: the documented header, eleven cells a line.

usage: validate.py <openapi.json> <dir holding startups.json, startups_details.json,
                    incubators.json, sponsors.json, startups.csv>
Prints one line per file; exits 1 on the first file that does not validate."""
import csv
import io
import json
import sys

import jsonschema


def nullable_to_null(node):
    if isinstance(node, dict):
        out = {k: nullable_to_null(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and isinstance(node.get("type"), str):
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [nullable_to_null(v) for v in node]
    return node


def main():
    doc = nullable_to_null(json.load(open(sys.argv[1], encoding="utf-8")))
    where = sys.argv[2]
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    for name in ("startups.json", "startups_details.json", "incubators.json", "sponsors.json"):
        schema = doc["paths"]["/" + name]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema = dict(schema, components=doc["components"])  # local $refs resolve in the document
        data = json.load(open(f"{where}/{name}", encoding="utf-8"))
        errors = sorted(jsonschema.Draft7Validator(schema, format_checker=checker).iter_errors(data),
                        key=lambda e: list(e.absolute_path))
        if errors:
            for e in errors[:5]:
                print(f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
            sys.exit(1)
        count = len(data["data"]) if name == "startups.json" else len(data)
        print(f"{name}: valid ({count} entries)")
    example = doc["paths"]["/startups.csv"]["get"]["responses"]["200"]["content"]["text/csv"]["example"]
    header = example.split("\n")[0]
    text = open(f"{where}/startups.csv", encoding="utf-8").read()
    if text.split("\n")[0] != header:
        print(f"startups.csv: header {text.split(chr(10))[0]!r}, documented {header!r}")
        sys.exit(1)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    bad = [i for i, r in enumerate(rows) if r and len(r) != 11]
    if bad:
        print(f"startups.csv: line {bad[0] + 1} has {len(rows[bad[0]])} cells, not 11")
        sys.exit(1)
    print(f"startups.csv: valid ({len(rows) - 1} lines)")


if __name__ == "__main__":
    main()
