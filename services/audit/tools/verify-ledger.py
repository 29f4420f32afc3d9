#!/usr/bin/env python3
"""Re-verifies a Pépinière ledger export (ExportLedger JSON Lines) offline.

Python 3 standard library only. Usage:
    python3 verify-ledger.py [--whole-ledger] export.jsonl
Recomputes every record's SHA-256 from its fields (canonical form "pep-ledger-v1", described in
services/audit/LEDGER.md), checks each lineage chain link by link and numbered 1..n, each
record's global hash, aggregate versions 1, 2, 3... and, with --whole-ledger (an export of the
whole ledger, in global order), that the global chain is unbroken. The export's last line
({"export_end": true, ...}) must be there and agree with the records above it: how many, and
each chain's count and head, so a file cut short fails even though a prefix of a valid chain
is valid. Exit 0 when all hold.
"""
import base64
import hashlib
import json
import sys

TAG = b"pep-ledger-v1"
ZERO = "00" * 32


def canonical(r):
    fields = [
        r["subject"], str(r["subject_seq"]), r["ce_id"], r["ce_type"], r["ce_source"],
        r["ce_subject"], r["ce_time"], r["ce_actor"], r["ce_correlationid"],
        r["ce_causationid"], str(r["ce_aggregateversion"]), r["ce_effectivetime"], r["topic"],
    ]
    out = bytearray(TAG)
    for f in fields:
        b = f.encode("utf-8")
        out += len(b).to_bytes(4, "big") + b
    payload = base64.b64decode(r["payload_base64"])
    out += len(payload).to_bytes(4, "big") + payload
    return bytes(out)


def main(argv):
    whole = "--whole-ledger" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    records = []
    with open(paths[0], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as e:
                    print(f"line {n}: not JSON ({e})")
                    return 1
    problems = []
    end = records.pop() if records and records[-1].get("export_end") is True else None
    if end is None:
        problems.append("export is incomplete: its closing line (export_end) is missing, "
                        "the file was cut short")
    if any(r.get("export_end") for r in records):
        problems.append("export_end appears before the last line")
        records = [r for r in records if not r.get("export_end")]
    chains = {}
    for r in records:
        chains.setdefault(r["subject"], []).append(r)
    for subject, chain in chains.items():
        chain.sort(key=lambda r: r["subject_seq"])
        prev = ZERO
        for i, r in enumerate(chain, 1):
            if r["subject_seq"] != i:
                problems.append(f"{subject}: record {i} missing (next is {r['subject_seq']})")
                break
            digest = hashlib.sha256(bytes.fromhex(prev) + canonical(r)).hexdigest()
            if r["prev_hash"] != prev or r["hash"] != digest:
                problems.append(f"{subject}: record {i} ({r['ce_id']}) does not recompute")
                break
            prev = r["hash"]
    global_prev = ZERO
    for r in records:
        g = hashlib.sha256(bytes.fromhex(r["global_prev"]) + bytes.fromhex(r["hash"])).hexdigest()
        if r["global_hash"] != g:
            problems.append(f"global: {r['ce_id']} global hash does not recompute")
            break
        if whole and r["global_prev"] != global_prev:
            problems.append(f"global: {r['ce_id']} does not follow the record before it")
            break
        global_prev = r["global_hash"]
    versions = {}
    for r in records:
        versions.setdefault(r["ce_subject"], []).append(r["ce_aggregateversion"])
    for aggregate, seen in versions.items():
        expected = 1
        for v in sorted(seen):
            while expected < v:
                problems.append(f"{aggregate}: version {expected} missing")
                expected += 1
            if v < expected:
                problems.append(f"{aggregate}: version {v} twice")
            expected = v + 1
    if end is not None:
        if end.get("records") != len(records):
            problems.append(f"export_end says {end.get('records')} records, the file has {len(records)}")
        declared = end.get("chains", {})
        for subject in sorted(set(declared) | set(chains)):
            got = chains.get(subject, [])
            want = declared.get(subject, {})
            if want.get("records") != len(got) or (got and want.get("head") != got[-1]["hash"]):
                problems.append(f"{subject}: export_end says {want.get('records')} records ending "
                                f"at {want.get('head')}, the file has {len(got)}")
        if records and end.get("last_global_hash") != records[-1]["global_hash"]:
            problems.append("export_end: the last global hash does not match the last record")
    if problems:
        for p in problems:
            print("FAIL", p)
        return 1
    heads = {s: c[-1]["hash"] for s, c in chains.items()}
    print(f"OK {len(records)} records, {len(chains)} chains"
          + (f", global head {global_prev}" if whole else "")
          + "".join(f"\n  {s} head {h}" for s, h in sorted(heads.items())[:20]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
