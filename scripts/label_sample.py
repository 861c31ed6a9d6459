#!/usr/bin/env python3
"""Draw the random part of the mapping evaluation set (data/labels/), reproducibly.

Method (also in docs/mapping.md and data/labels/README.md):

* Frame: every `iati-activity` of every `*.xml` file under ../shared/data/iati/us-gov/ and
  us-gov-region/ (the regional files included), files in sorted relative-path order,
  activities in file order. v1-samples/ is left out: its six files are IATI 1.0x edge cases of
  other donors in Malawi and Mozambique, several with an empty iati-identifier, so none of
  them can be named in a label and none is aid to this region. An identifier already seen in an earlier file (e.g. usda- and
  dod-northandcentralamericaregion.xml are byte-identical) or earlier in the same file stays
  with its first occurrence, so each identifier is in the frame once.
* Stratified by file: the sample size N is shared out over the files in proportion to their
  number of (deduplicated) activities, largest remainders first, with at least one activity
  from every file that has any. The extra activities the minimum costs are taken back from
  the largest allocations.
* Within a file: `random.Random(f"{SEED}:{file}").sample(sorted identifiers, k)`, so a file's
  draw depends only on the seed, the file name, its identifiers and its allocation.

Usage:
  scripts/label_sample.py draw   [--n 250] [--seed 1919]   # CSV: file,iati_identifier,country,reporting_org
  scripts/label_sample.py dump   [--n 250] [--seed 1919]   # the sampled activities as text, for reading
  scripts/label_sample.py dump --ids data/labels/cmms-2021.csv   # the listed activities as text

The dump is for reading only: the labels are set by a person reading it against the scope
notes of the strategy files, never by running Senda's rules.
"""

import argparse
import csv
import os
import random
import sys
import xml.etree.ElementTree as ET

SEED = 1919
N = 250
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "iati")
FOLDERS = ("us-gov", "us-gov-region")


def files():
    out = []
    for dirpath, _, names in os.walk(ROOT):
        if os.path.relpath(dirpath, ROOT).split(os.sep)[0] not in FOLDERS:
            continue
        for n in names:
            if n.endswith(".xml"):
                out.append(os.path.relpath(os.path.join(dirpath, n), ROOT))
    return sorted(out)


def text(el):
    """Narratives of an element (2.0x), or its own text (1.0x)."""
    if el is None:
        return ""
    parts = [(n.text or "").strip() for n in el.findall("narrative")]
    parts = [p for p in parts if p]
    if not parts and el.text and el.text.strip():
        parts = [el.text.strip()]
    return " | ".join(parts)


def activities(rel):
    """(identifier, element) for each activity of a file, in file order."""
    for _, el in ET.iterparse(os.path.join(ROOT, rel), events=("end",)):
        if el.tag == "iati-activity":
            yield (el.findtext("iati-identifier") or "").strip(), el


def country(el):
    codes = [c.get("code", "").strip() for c in el.iter("recipient-country")]
    codes = sorted({c for c in codes if c})
    return ";".join(codes) if codes else "REGIONAL"


def frame():
    seen = set()
    out = {}
    for rel in files():
        ids = []
        for ident, el in activities(rel):
            if ident and ident not in seen:
                seen.add(ident)
                ro = el.find("reporting-org")
                ids.append((ident, country(el), ro.get("ref", "") if ro is not None else ""))
            el.clear()
        out[rel] = ids
    return out


def allocate(sizes, n):
    total = sum(sizes.values())
    quota = {f: n * s / total for f, s in sizes.items()}
    alloc = {f: int(q) for f, q in quota.items()}
    left = n - sum(alloc.values())
    for f in sorted(quota, key=lambda f: (-(quota[f] - alloc[f]), f))[:left]:
        alloc[f] += 1
    for f in sizes:
        if sizes[f] > 0 and alloc[f] == 0:
            alloc[f] = 1
    while sum(alloc.values()) > n:
        big = max(alloc, key=lambda f: (alloc[f], f))
        alloc[big] -= 1
    return alloc


def draw(n, seed):
    fr = frame()
    alloc = allocate({f: len(ids) for f, ids in fr.items()}, n)
    rows = []
    for rel in sorted(fr):
        ids = sorted(fr[rel])
        k = min(alloc[rel], len(ids))
        for ident, ctry, ro in random.Random(f"{seed}:{rel}").sample(ids, k):
            rows.append((rel, ident, ctry, ro))
    return rows


def describe(el):
    lines = []
    lines.append("TITLE: " + text(el.find("title")))
    for d in el.findall("description"):
        t = text(d)
        if t:
            lines.append(f"DESC[{d.get('type', '')}]: " + t[:1500])
    orgs = []
    for p in el.findall("participating-org"):
        orgs.append(f"{p.get('role', '')}:{p.get('ref', '')}:{text(p)}")
    lines.append("ORGS: " + " ; ".join(orgs))
    sectors = set()
    for s in el.iter("sector"):
        sectors.add(f"{s.get('vocabulary', '')}/{s.get('code', '')} {text(s)[:60]}")
    lines.append("SECTORS: " + " ; ".join(sorted(sectors)))
    extra = []
    if el.get("humanitarian") == "1" or any(t.get("humanitarian") == "1" for t in el.findall("transaction")):
        extra.append("HUMANITARIAN-FLAG")
    for t in el.findall("tag"):
        extra.append(f"tag {t.get('vocabulary', '')}/{t.get('code', '')}")
    for pm in el.findall("policy-marker"):
        if pm.get("significance", "0") not in ("0", ""):
            extra.append(f"pm {pm.get('code')}:{pm.get('significance')}")
    if extra:
        lines.append("FLAGS: " + " ".join(extra))
    txd = set()
    recv = set()
    for t in el.findall("transaction"):
        d = text(t.find("description"))
        if d and "GLIDE: (COVID-19)" not in d:
            txd.add(d[:120])
        r = text(t.find("receiver-org"))
        if r:
            recv.add(r)
    if recv:
        lines.append("RECEIVERS: " + " ; ".join(sorted(recv))[:400])
    if txd:
        lines.append("TX-DESC: " + " ; ".join(sorted(txd))[:600])
    return "\n".join(lines)


def dump(wanted):
    """wanted: set of (file name, identifier)."""
    for rel in files():
        name = os.path.basename(rel)
        if not any(f == name for f, _ in wanted):
            continue
        for ident, el in activities(rel):
            if (name, ident) in wanted:
                wanted.discard((name, ident))
                print(f"=== {ident} | {name} | {country(el)}")
                print(describe(el))
                print()
            el.clear()
    for f, i in sorted(wanted):
        print(f"!!! not found: {i} in {f}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["draw", "dump"])
    ap.add_argument("--n", type=int, default=N)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--ids", help="a labels CSV (iati_identifier, file columns) to dump instead of the sample")
    a = ap.parse_args()
    if a.cmd == "draw":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["file", "iati_identifier", "country", "reporting_org"])
        for rel, ident, ctry, ro in draw(a.n, a.seed):
            w.writerow([os.path.basename(rel), ident, ctry, ro])
    elif a.ids:
        with open(a.ids, newline="") as f:
            dump({(r["file"], r["iati_identifier"]) for r in csv.DictReader(f)})
    else:
        dump({(os.path.basename(rel), ident) for rel, ident, _, _ in draw(a.n, a.seed)})


if __name__ == "__main__":
    main()
