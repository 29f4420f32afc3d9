#!/usr/bin/env python3
"""Verifies a Pépinière ledger export (ExportLedger, version 2) offline, without trusting Pépinière.

Python 3 standard library, plus the `openssl` command for Ed25519 (tlog.py beside this file).
Usage:
    python3 verify-ledger.py --key '<name>+<key id>+<base64 key>' export.jsonl

The key is the log's published verifier key, obtained apart from the file. The checks (the
formats are in services/audit/LEDGER.md):
  - the first line's checkpoint is a C2SP signed note by that key, of a C2SP tlog-checkpoint;
  - every entry parses as a version 2 entry; a payload given hashes to the entry's payload hash
    (a withheld payload is allowed, and said so); the readable fields agree with the entry;
  - every entry's RFC 9162 inclusion proof leads from its leaf hash to the signed root;
  - within the file, each aggregate's versions run 1, 2, 3... (a gap is named);
  - sealed scoring: each revealed scorecard (ScorecardRevealed) hashes, with its salt, to the
    juror's last commitment on that idea (ScorecardCommitted) earlier in the file;
  - the last line ({"export_end": true, ...}) is there and agrees: the entry count and the tree
    size, so a file cut anywhere fails; an export of the whole log must hold every index.
Exit 0 when all hold, 1 otherwise (each problem on its own line).
"""
import argparse
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlog  # noqa: E402

FIELDS = ["ce_id", "ce_type", "ce_source", "ce_subject", "ce_time", "ce_actor", "ce_correlationid",
          "ce_causationid", "ce_aggregateversion", "ce_effectivetime", "topic", "payload_sha256"]


def parse_entry(entry: bytes) -> dict:
    tag = b"pep-ledger-v2"
    if not entry.startswith(tag):
        raise ValueError("not a version 2 entry")
    rest, out = entry[len(tag):], {}
    for name in FIELDS:
        if len(rest) < 4:
            raise ValueError("cut in field " + name)
        n = int.from_bytes(rest[:4], "big")
        if len(rest) < 4 + n:
            raise ValueError("cut in field " + name)
        value, rest = rest[4:4 + n], rest[4 + n:]
        out[name] = value if name == "payload_sha256" else value.decode("utf-8")
    if rest:
        raise ValueError("bytes after the last field")
    if len(out["payload_sha256"]) != 32:
        raise ValueError("payload hash is not 32 bytes")
    return out


def proto_fields(data: bytes) -> dict:
    """The fields of a protobuf message that are varints or length-delimited: {number: [values]}."""
    out, i = {}, 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 2:
            n = varint()
            value, i = data[i:i + n], i + n
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        out.setdefault(number, []).append(value)
    return out


def sealed_problem(ce_type: str, payload: bytes, commitments: dict):
    """Sealed scoring (LEDGER.md): a reveal must hash, with its salt, to the last commitment."""
    if ce_type not in ("pepiniere.ideas.v1.ScorecardCommitted", "pepiniere.ideas.v1.ScorecardRevealed"):
        return None
    f = proto_fields(payload)
    first = lambda n: f.get(n, [b""])[0]  # noqa: E731
    idea, juror = first(1).decode(), first(3).decode()
    if ce_type.endswith("Committed"):
        commitments[(idea, juror)] = first(4)
        return None
    who = "juror %s's scorecard on idea %s" % (juror, idea)
    if (idea, juror) not in commitments:
        return who + " is revealed without a commitment"
    if hashlib.sha256(first(5) + first(4)).digest() != commitments[(idea, juror)]:
        return who + " does not match its commitment: the scores changed after they were sealed"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--key", required=True, help="the log's verifier key, as published")
    ap.add_argument("export")
    args = ap.parse_args()
    problems, withheld = [], 0
    with open(args.export, "rb") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines or "checkpoint" not in lines[0]:
        print("the first line is not an export head with a checkpoint")
        return 1
    head = lines[0]
    try:
        text = tlog.open_note(head["checkpoint"].encode(), args.key).decode()
        origin, size, root = tlog.parse_checkpoint(text)
    except ValueError as e:
        print("checkpoint:", e)
        return 1
    end = lines[-1] if len(lines) > 1 and lines[-1].get("export_end") else None
    entries = [line for line in lines[1:] if "index" in line]
    seen, versions, commitments = set(), {}, {}
    for n, line in enumerate(entries, 1):
        where = "entry %d (index %s)" % (n, line.get("index"))
        try:
            entry = base64.b64decode(line["entry"], validate=True)
            fields = parse_entry(entry)
        except (KeyError, ValueError) as e:
            problems.append("%s: %s" % (where, e))
            continue
        index = line["index"]
        if index in seen:
            problems.append("%s: index given twice" % where)
        seen.add(index)
        if line.get("payload_withheld"):
            withheld += 1
        else:
            payload = base64.b64decode(line.get("payload", ""), validate=True)
            if hashlib.sha256(payload).digest() != fields["payload_sha256"]:
                problems.append("%s (%s): the payload does not hash to the entry" % (where, fields["ce_id"]))
            try:
                sealed = sealed_problem(fields["ce_type"], payload, commitments)
            except (IndexError, ValueError, UnicodeDecodeError) as e:
                sealed = "an unreadable sealed-scoring payload (%s)" % e
            if sealed:
                problems.append("%s (%s): %s" % (where, fields["ce_id"], sealed))
        for name in ("ce_id", "ce_type", "ce_subject", "ce_time", "ce_effectivetime"):
            if name in line and line[name] != fields[name]:
                problems.append("%s: %s says %r, the entry %r" % (where, name, line[name], fields[name]))
        if "ce_aggregateversion" in line and str(line["ce_aggregateversion"]) != fields["ce_aggregateversion"]:
            problems.append("%s: ce_aggregateversion differs from the entry" % where)
        proof = [base64.b64decode(h, validate=True) for h in line.get("proof", [])]
        if not tlog.verify_inclusion(index, size, tlog.leaf_hash(entry), proof, root):
            problems.append("%s (%s): the inclusion proof does not lead to the signed root" % (where, fields["ce_id"]))
        versions.setdefault(fields["ce_subject"], set()).add(int(fields["ce_aggregateversion"]))
    for aggregate, vs in sorted(versions.items()):
        for missing in sorted(set(range(1, max(vs) + 1)) - vs):
            problems.append("%s: version %d missing" % (aggregate, missing))
    if end is None:
        problems.append("no closing line: the export is cut short")
    else:
        if end.get("entries") != len(entries):
            problems.append("the closing line counts %s entries, the file holds %d: cut short or added to"
                            % (end.get("entries"), len(entries)))
        if end.get("tree_size") != size:
            problems.append("the closing line's tree size %s is not the checkpoint's %d" % (end.get("tree_size"), size))
        if end.get("subject", "") != head.get("subject", ""):
            problems.append("the closing line is for another subject")
    if head.get("subject", "") == "" and seen != set(range(size)):
        problems.append("an export of the whole log must hold entries 0..%d; %d are missing"
                        % (size - 1, len(set(range(size)) - seen)))
    for p in problems:
        print(p)
    if problems:
        return 1
    what = "lineage " + head["subject"] if head.get("subject") else "the whole log"
    print("OK: %d entries of %s, each included in the tree of size %d signed by %s (root %s)%s"
          % (len(entries), what, size, origin, root.hex(),
             "; %d payloads withheld, their hashes verified in place" % withheld if withheld else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
