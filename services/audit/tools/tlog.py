#!/usr/bin/env python3
"""Offline checks of the verifiable ledger's parts, with Python's standard library and the
`openssl` command only (issue 14): RFC 9162 Merkle hashing, inclusion and consistency proof
verification, C2SP tlog-checkpoint parsing and C2SP signed-note verification (Ed25519, by
`openssl pkeyutl -verify -rawin`). Written from the RFC and the C2SP texts, not from
Pépinière's C++: an auditor can read it whole.

    python3 tlog.py selftest FILE   # FILE from `pep-tlog-vectors`: every line must check out
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: list) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, from leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list, want: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == want


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: list) -> bool:
    """RFC 9162 2.1.4.2."""
    if m == 0 or m > n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if not proof:
        return False
    path = ([root_m] if m & (m - 1) == 0 else []) + list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0


def parse_checkpoint(text: str):
    """(origin, size, root) of a C2SP tlog-checkpoint body."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise ValueError("checkpoint: origin, size and root lines ending in a newline")
    origin, size, digest = lines[0], lines[1], base64.b64decode(lines[2], validate=True)
    if not origin or not size.isdigit() or (len(size) > 1 and size[0] == "0") or len(digest) != 32:
        raise ValueError("checkpoint: malformed")
    return origin, int(size), digest


def _ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    # SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): a fixed 12-byte prefix, then the key.
    der = bytes.fromhex("302a300506032b6570032100") + public_key
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"
    with tempfile.TemporaryDirectory() as d:
        paths = {name: os.path.join(d, name) for name in ("key.pem", "msg", "sig")}
        for name, data in (("key.pem", pem), ("msg", message), ("sig", signature)):
            with open(paths[name], "wb") as f:
                f.write(data)
        done = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"],
                               "-rawin", "-in", paths["msg"], "-sigfile", paths["sig"]],
                              capture_output=True)
        return done.returncode == 0


def open_note(note: bytes, vkey: str) -> bytes:
    """The text of a C2SP signed note if `vkey` (<name>+<hex id>+<base64 0x01||key>) signed it."""
    name, key_id, key = vkey.split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("verifier key: not Ed25519")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        raise ValueError("verifier key: key id does not match")
    split = note.rfind(b"\n\n")
    if split < 0 or not note.endswith(b"\n"):
        raise ValueError("note: no signatures")
    text, signatures = note[:split + 1], note[split + 2:]
    for line in signatures.decode().split("\n")[:-1]:
        if not line.startswith("\u2014 "):
            raise ValueError("note: malformed signature line")
        signer, _, sig = line[2:].rpartition(" ")
        sig = base64.b64decode(sig, validate=True)
        if signer != name or sig[:4].hex() != key_id:
            continue  # another key's signature
        if len(sig) == 68 and _ed25519_verify(raw[1:], text, sig[4:]):
            return text
        raise ValueError("note: the signature does not verify")
    raise ValueError("note: not signed by " + name)


def selftest(path: str) -> int:
    """Checks a `pep-tlog-vectors` file: leaves, roots, proofs, a signed checkpoint; and that a
    changed byte of each is refused."""
    leaves, roots, checked = [], {}, 0
    note, vkey = None, None
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode().rstrip("\n")
            kind, _, rest = line.partition(" ")
            if kind == "leaf":
                leaves.append(leaf_hash(bytes.fromhex(rest)))
            elif kind == "root":
                size, digest = rest.split(" ")
                roots[int(size)] = bytes.fromhex(digest)
                assert root(leaves[:int(size)]) == roots[int(size)], f"root of {size}"
            elif kind == "incl":
                size, index, *proof = rest.split(" ")
                proof = [bytes.fromhex(h) for h in (proof[0].split(",") if proof and proof[0] else [])]
                size, index = int(size), int(index)
                assert verify_inclusion(index, size, leaves[index], proof, roots[size]), line
                bad = leaf_hash(b"autre")
                assert not verify_inclusion(index, size, bad, proof, roots[size]), "changed leaf accepted"
                checked += 1
            elif kind == "cons":
                m, n, *proof = rest.split(" ")
                proof = [bytes.fromhex(h) for h in (proof[0].split(",") if proof and proof[0] else [])]
                m, n = int(m), int(n)
                assert verify_consistency(m, n, roots[m], roots[n], proof), line
                if m < n:
                    assert not verify_consistency(m, n, leaf_hash(b"x"), roots[n], proof), "changed root accepted"
                checked += 1
            elif kind == "vkey":
                vkey = rest
            elif kind == "note":
                note = base64.b64decode(rest)
    text = open_note(note, vkey)
    origin, size, digest = parse_checkpoint(text.decode())
    assert digest == roots[size], "the signed checkpoint names the tree's root"
    forged = note.replace(b"\n%d\n" % size, b"\n%d\n" % (size + 1), 1)
    try:
        open_note(forged, vkey)
        raise AssertionError("a changed checkpoint was accepted")
    except ValueError:
        pass
    print(f"ok: {len(roots)} roots, {checked} proofs, checkpoint of {origin} at size {size} verified")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "selftest":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(selftest(sys.argv[2]))
