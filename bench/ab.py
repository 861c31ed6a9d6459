#!/usr/bin/env python3
"""Side by side: several senda builds import the same corpus into fresh databases, interleaved.

    python3 bench/ab.py CORPUS_DIR REPS LABEL=BINARY [LABEL=BINARY ...]

Each repetition runs every build once, in turn (A B A B ...), so that a machine whose speed
drifts over the minutes slows every build alike. Prints, per build, the median wall time,
the median CPU time (user + system, from os.wait4), the median peak RSS, and the ratio of
each build's median wall time to the first build's. Databases go to $SENDA_BENCH_DIR
(default /tmp/senda-bench/ab), never into the repository; they are deleted after each run.
Python 3.11 standard library only.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time


def run_once(binary: str, corpus: str, db: str) -> tuple[float, float, float]:
    """One import into a fresh database: (wall s, CPU s, peak RSS MB)."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    started = time.monotonic()
    proc = subprocess.Popen(
        [binary, "--db", db, "import", corpus, "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"error: {binary} exited with {code} on {corpus}")
    # ru_maxrss is in KiB on Linux.
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    if len(sys.argv) < 4 or not os.path.isdir(sys.argv[1]):
        sys.exit(__doc__)
    corpus, reps = sys.argv[1], int(sys.argv[2])
    builds = []
    for arg in sys.argv[3:]:
        label, _, binary = arg.partition("=")
        if not binary or not os.access(binary, os.X_OK):
            sys.exit(f"error: {arg!r}: expected LABEL=BINARY with an executable BINARY")
        builds.append((label, binary))
    work = os.environ.get("SENDA_BENCH_DIR", "/tmp/senda-bench") + "/ab"
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.abspath(work).startswith(repo + os.sep):
        sys.exit(f"error: {work} is inside the repository; set SENDA_BENCH_DIR elsewhere")
    os.makedirs(work, exist_ok=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs)
    # Warm the page cache once, so that no build pays for reading the corpus from disk.
    for d, _, fs in os.walk(corpus):
        for f in fs:
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass
    results: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _ in builds}
    for rep in range(reps):
        for label, binary in builds:
            r = run_once(binary, corpus, os.path.join(work, "ab.db"))
            results[label].append(r)
            print(f"rep {rep + 1}/{reps} {label:>12}: {r[0]:7.2f} s wall {r[1]:7.2f} s CPU {r[2]:6.0f} MB", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"\ncorpus {corpus}: {size / 1e6:.1f} MB; {reps} interleaved runs per build; load now {load[0]:.2f}")
    print(f"{'build':>12} {'wall s':>8} {'min-max':>15} {'MB/s':>7} {'CPU s':>7} {'RSS MB':>7} {'wall ratio':>10}")
    first = None
    for label, _ in builds:
        rows = results[label]
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        rss = statistics.median(r[2] for r in rows)
        first = first or wall
        lo, hi = min(r[0] for r in rows), max(r[0] for r in rows)
        print(
            f"{label:>12} {wall:8.2f} {lo:7.2f}-{hi:<7.2f} {size / 1e6 / wall:7.1f} {cpu:7.2f} {rss:7.0f} {wall / first:10.3f}"
        )


if __name__ == "__main__":
    main()
