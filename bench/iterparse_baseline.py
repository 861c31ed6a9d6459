#!/usr/bin/env python3
"""Baseline: what an analyst would write instead of Senda.

Streams every *.xml file under the given folders with xml.etree.ElementTree.iterparse and
sums transaction values per recipient country: the transaction's own <recipient-country>,
else the activity's (split by percentage when it names several), else "REGIONAL".
Each <iati-activity> is cleared once summed, so memory stays flat; nothing is stored.
Currencies are not converted (the sums are only there to make the parser do the work).

    python3 bench/iterparse_baseline.py DIR [DIR...] [--top N]

Prints one summary line ending in "(N MB/s)", MB = 10^6 bytes, timed inside the script
(file listing excluded, parsing and summing included).
"""

import argparse
import resource
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def xml_files(roots):
    for r in roots:
        p = Path(r)
        if p.is_dir():
            yield from sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() == ".xml")
        elif p.is_file():
            yield p


def activity_countries(act):
    """[(code, share)] from the activity's recipient-country elements."""
    rows = []
    for rc in act.findall("recipient-country"):
        code = (rc.get("code") or "").strip().upper()
        if not code:
            continue
        try:
            pct = float(rc.get("percentage")) if rc.get("percentage") else None
        except ValueError:
            pct = None
        rows.append((code, pct))
    if not rows:
        return []
    if len(rows) == 1:
        return [(rows[0][0], 1.0)]
    if all(p is not None for _, p in rows) and sum(p for _, p in rows) > 0:
        total = sum(p for _, p in rows)
        return [(c, p / total) for c, p in rows]
    return [(c, 1.0 / len(rows)) for c, _ in rows]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="folders (searched recursively) or files")
    ap.add_argument("--top", type=int, default=0, help="also print the N countries with the largest sums")
    a = ap.parse_args()

    files = list(xml_files(a.paths))
    if not files:
        print("error: no *.xml files", file=sys.stderr)
        return 2
    sums = defaultdict(float)
    nbytes = acts = txs = bad_values = bad_files = 0
    start = time.perf_counter()
    for path in files:
        nbytes += path.stat().st_size
        try:
            for _event, elem in ET.iterparse(path):  # "end" events only
                if elem.tag != "iati-activity":
                    continue
                acts += 1
                shares = None  # computed lazily: most transactions name no country of their own
                for tx in elem.iterfind("transaction"):
                    v = tx.find("value")
                    try:
                        value = float(v.text.strip())
                    except (AttributeError, ValueError):
                        bad_values += 1
                        continue
                    txs += 1
                    rc = tx.find("recipient-country")
                    code = (rc.get("code") or "").strip().upper() if rc is not None else ""
                    if code:
                        sums[code] += value
                        continue
                    if shares is None:
                        shares = activity_countries(elem) or [("REGIONAL", 1.0)]
                    for c, s in shares:
                        sums[c] += value * s
                elem.clear()
        except ET.ParseError as e:
            bad_files += 1
            print(f"warning: {path}: {e}", file=sys.stderr)
    secs = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if a.top:
        for c, v in sorted(sums.items(), key=lambda kv: -kv[1])[: a.top]:
            print(f"  {c:<10} {v:>22,.0f}")
    print(f"iterparse: {len(files)} files ({bad_files} not well-formed), {nbytes / 1e6:.1f} MB, "
          f"{acts} activities, {txs} transactions ({bad_values} bad values), {len(sums)} countries, "
          f"peak RSS {rss_mb:.0f} MB, {secs:.3f} s ({nbytes / 1e6 / secs:.1f} MB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
