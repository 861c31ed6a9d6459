#!/usr/bin/env python3
"""Build a benchmark corpus by replicating the real US-government IATI files.

Copies every *.xml file of the source folder into OUT/copy-NNN/<file>.xml, as many
times as needed for the total to reach --target-mb (MB = 10^6 bytes). In copy n the text
of every <iati-identifier>...</iati-identifier> gets the suffix "-C{n}", so every copy
holds distinct activities; every other byte is kept as is (byte-level substitution, so
the files' own encodings are untouched).

    python3 bench/make_corpus.py --target-mb 1024 --out /tmp/senda-bench/corpus

Standard library only. Generated data never goes inside the repository.
"""

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SRC = (REPO / ".." / "shared" / "data" / "iati" / "us-gov").resolve()
DEFAULT_OUT = Path(os.environ.get("SENDA_BENCH_DIR", "/tmp/senda-bench")) / "corpus"

# Text of an identifier element: suffix goes after the trimmed text (before any trailing
# whitespace) so a trimming reader sees "ID-Cn". Empty identifiers stay empty.
IDENT = re.compile(rb"(<iati-identifier(?:\s[^>]*)?>)(\s*)([^<]*?)(\s*)(</iati-identifier>)")


def rewrite(data: bytes, n: int) -> tuple[bytes, int]:
    suffix = b"-C%d" % n

    def sub(m: re.Match) -> bytes:
        if not m.group(3):
            return m.group(0)
        return m.group(1) + m.group(2) + m.group(3) + suffix + m.group(4) + m.group(5)

    return IDENT.subn(sub, data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-mb", type=float, default=1024, help="minimum total size in MB (10^6 bytes); default 1024")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}, or $SENDA_BENCH_DIR/corpus)")
    ap.add_argument("--src", type=Path, default=Path(os.environ.get("SENDA_BENCH_SRC", DEFAULT_SRC)),
                    help=f"folder of real IATI files (default {DEFAULT_SRC}, or $SENDA_BENCH_SRC)")
    ap.add_argument("--force", action="store_true", help="replace OUT if it already holds copy-* folders")
    a = ap.parse_args()

    out = a.out.resolve()
    if out == REPO or REPO in out.parents:
        print(f"error: {out} is inside the repository {REPO}; pick a folder outside it", file=sys.stderr)
        return 2
    sources = sorted(p for p in a.src.iterdir() if p.is_file() and p.suffix.lower() == ".xml") if a.src.is_dir() else []
    if not sources:
        print(f"error: no *.xml files in {a.src}", file=sys.stderr)
        return 2
    if out.exists() and any(out.glob("copy-*")):
        if not a.force:
            print(f"error: {out} already holds copy-* folders; remove it or pass --force", file=sys.stderr)
            return 2
        for d in out.glob("copy-*"):
            shutil.rmtree(d)
    out.mkdir(parents=True, exist_ok=True)

    originals = [(p.name, p.read_bytes()) for p in sources]
    target = int(a.target_mb * 1e6)
    total = files = copies = idents = 0
    while total < target:
        copies += 1
        d = out / f"copy-{copies:03d}"
        d.mkdir()
        for name, data in originals:
            new, k = rewrite(data, copies)
            (d / name).write_bytes(new)
            total += len(new)
            files += 1
            idents += k
    print(f"corpus {out}: {total} bytes ({total / 1e6:.1f} MB), {files} files, {copies} copies "
          f"({len(originals)} source files from {a.src.resolve()}, {idents} identifiers rewritten)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
