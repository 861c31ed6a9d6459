#!/usr/bin/env bash
# Senda import benchmark. Builds nothing: run `cargo build --release` and
# `cargo build --release --example tokenize -p senda-iati` first.
#
#   bench/run.sh CORPUS_DIR            # corpus from bench/make_corpus.py
#
# In one run, interleaved, REPS times each (median reported):
#   (a) bench/iterparse_baseline.py       Python ElementTree.iterparse, sums per country
#   (b) target/release/examples/tokenize  bare quick-xml pass (the limit); skipped if not built
#   (c) senda import into a fresh SQLite file           (wall time, peak RSS)
#   (d) senda import again, corpus unchanged, same DB   (wall time; speed-up c/d)
#   (e) senda report --by line_of_effort,country,fiscal_year on that DB
#   (f) senda import of one generated activity with GEN_TRANSACTIONS transactions, fresh DB (RSS)
#
# Environment:
#   SENDA_BENCH_DIR   work folder for databases and logs (default /tmp/senda-bench; never the repo)
#   REPS              repetitions (default 3)
#   GEN_TRANSACTIONS  transactions in the generated activity (default 200000)
#   SENDA_BIN         senda binary (default target/release/senda)
#   TOKENIZE_BIN      tokenizer binary (default target/release/examples/tokenize)
#   PYTHON            python interpreter (default python3)
#   KEEP_DB=1         keep the last databases
# Wall times are measured around each process (startup included); every tool's own
# "(N MB/s)" figure is shown too. The corpus is read once before timing (warm page cache).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPUS="${1:-}"
if [[ -z "$CORPUS" || ! -d "$CORPUS" ]]; then
  echo "usage: bench/run.sh CORPUS_DIR   (make one with bench/make_corpus.py --target-mb 1024 --out DIR)" >&2
  exit 2
fi
CORPUS="$(cd "$CORPUS" && pwd)"
W="${SENDA_BENCH_DIR:-/tmp/senda-bench}"
REPS="${REPS:-3}"
GEN_TX="${GEN_TRANSACTIONS:-200000}"
SENDA="${SENDA_BIN:-$REPO/target/release/senda}"
TOK="${TOKENIZE_BIN:-$REPO/target/release/examples/tokenize}"
PY="${PYTHON:-python3}"

W="$(realpath -m "$W")"
case "$W/" in "$REPO"/*) echo "error: SENDA_BENCH_DIR ($W) is inside the repository; pick a folder outside it" >&2; exit 2;; esac
mkdir -p "$W"
if [[ ! -x "$SENDA" ]]; then
  echo "error: $SENDA not found: run \`cargo build --release\` first (this script builds nothing)" >&2
  exit 2
fi
NOTES=()
if [[ -x "$TOK" ]]; then HAVE_TOK=1; else
  HAVE_TOK=0
  NOTES+=("(b) skipped: $TOK missing; build it with \`cargo build --release --example tokenize -p senda-iati\`")
fi
if command -v /usr/bin/time >/dev/null 2>&1; then HAVE_TIME=1; else
  HAVE_TIME=0
  NOTES+=("peak RSS not measured: /usr/bin/time is missing; install it with \`apt-get install -y time\`")
fi

RUN="$W/run"
if [[ -e "$RUN" && ! -f "$RUN/results.tsv" ]]; then
  echo "error: $RUN exists and is not a previous benchmark run; set SENDA_BENCH_DIR to another folder" >&2
  exit 2
fi
rm -rf "$RUN"
mkdir -p "$RUN/logs"
RESULTS="$RUN/results.tsv"
printf 'step\trep\twall_s\trss_kb\tcpu_pct\texit\tlog\n' > "$RESULTS"

# measure STEP REP STDOUT_FILE CMD...: wall time (ns clock), peak RSS via /usr/bin/time -v.
measure() {
  local step="$1" rep="$2" out="$3"; shift 3
  local base="$RUN/logs/$step-$rep" t0 t1 rc=0 rss="" cpu=""
  t0=$(date +%s%N)
  if [[ $HAVE_TIME == 1 ]]; then
    /usr/bin/time -v -o "$base.time" "$@" >"$out" 2>"$base.err" || rc=$?
  else
    "$@" >"$out" 2>"$base.err" || rc=$?
  fi
  t1=$(date +%s%N)
  if [[ $HAVE_TIME == 1 ]]; then
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$base.time")
    cpu=$(sed -n 's/^[[:space:]]*Percent of CPU this job got: \([0-9]*\)%.*/\1/p' "$base.time")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$step" "$rep" "$(( (t1 - t0) / 1000 ))e-6" "${rss:-}" "${cpu:-}" "$rc" "$base" >> "$RESULTS"
  printf '  %-12s rep %s: %8.3f s%s\n' "$step" "$rep" "$(( (t1 - t0) / 1000 ))e-6" "$( [[ $rc != 0 ]] && echo "  (exit $rc, see $base.err)" )" >&2
}

fresh_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

echo "senda benchmark: corpus $CORPUS, work folder $W, $REPS repetitions" >&2
echo "warming the page cache (reading the corpus once)..." >&2
find "$CORPUS" -type f -name '*.xml' -exec cat {} + > /dev/null

GEN="$W/gen-1x${GEN_TX}.xml"
echo "generating $GEN (1 activity, $GEN_TX transactions)..." >&2
"$SENDA" generate --force --out "$GEN" --activities 1 --transactions-per-activity "$GEN_TX" 2>"$RUN/logs/generate.err"
cat "$GEN" > /dev/null

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
for rep in $(seq 1 "$REPS"); do
  echo "repetition $rep/$REPS" >&2
  measure a_iterparse "$rep" "$RUN/logs/a_iterparse-$rep.out" "$PY" "$REPO/bench/iterparse_baseline.py" "$CORPUS"
  if [[ $HAVE_TOK == 1 ]]; then
    measure b_tokenize "$rep" "$RUN/logs/b_tokenize-$rep.out" "$TOK" "$CORPUS"
  fi
  DB="$RUN/corpus-$rep.db"
  fresh_db "$DB"
  measure c_import "$rep" "$RUN/logs/c_import-$rep.out" "$SENDA" --db "$DB" import "$CORPUS" --no-progress
  size=0
  for f in "$DB" "$DB-wal"; do if [[ -f "$f" ]]; then size=$(( size + $(stat -c %s "$f") )); fi; done
  echo "$size" > "$RUN/logs/c_import-$rep.dbsize"
  measure d_reimport "$rep" "$RUN/logs/d_reimport-$rep.out" "$SENDA" --db "$DB" import "$CORPUS" --no-progress
  measure e_report "$rep" "$RUN/logs/e_report-$rep.out" "$SENDA" --db "$DB" report --by line_of_effort,country,fiscal_year
  GDB="$RUN/gen-$rep.db"
  fresh_db "$GDB"
  measure f_import_gen "$rep" "$RUN/logs/f_import_gen-$rep.out" "$SENDA" --db "$GDB" import "$GEN" --no-progress
  if [[ "${KEEP_DB:-0}" != 1 || $rep != "$REPS" ]]; then fresh_db "$DB"; fresh_db "$GDB"; fi
done

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
BIN_INFO="$("$SENDA" --version 2>/dev/null || echo senda), binary built $(date -r "$SENDA" '+%Y-%m-%d %H:%M:%S %Z')"
NOTES+=("load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER (a busy machine makes figures noisy)")
NOTES_TEXT="$(printf '%s\n' "${NOTES[@]+"${NOTES[@]}"}")"
"$PY" - "$RESULTS" "$CORPUS" "$GEN" "$GEN_TX" "$NOTES_TEXT" "$BIN_INFO" <<'PYEOF' | tee "$RUN/summary.txt"
import csv, os, re, statistics, sys
from pathlib import Path

results, corpus, gen, gen_tx, notes, bin_info = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
rows = list(csv.DictReader(open(results), delimiter="\t"))
files = [p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() == ".xml"]
cbytes = sum(p.stat().st_size for p in files)
gbytes = gen.stat().st_size

def steps(name):
    return [r for r in rows if r["step"] == name]

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None

def wall(name):
    return med([float(r["wall_s"]) for r in steps(name)])

def rss_mb(name):
    return med([int(r["rss_kb"]) / 1024 for r in steps(name) if r["rss_kb"]])

def cpu_pct(name):
    return med([int(r["cpu_pct"]) for r in steps(name) if r["cpu_pct"]])

def self_mbs(name):
    vals = []
    for r in steps(name):
        for suffix in (".out", ".err"):
            p = Path(r["log"] + suffix)
            if p.exists():
                m = re.findall(r"\(([\d.]+) MB/s\)", p.read_text(errors="replace"))
                if m:
                    vals.append(float(m[-1]))
    return med(vals)

def first_line(name, pattern):
    for r in steps(name):
        for suffix in (".err", ".out"):
            p = Path(r["log"] + suffix)
            if p.exists():
                for line in p.read_text(errors="replace").splitlines():
                    if re.search(pattern, line):
                        return line.strip()
    return ""

def fmt(v, spec):
    if v is not None:
        return format(v, spec)
    width = re.match(r"[<>^]?(\d*)", spec).group(1)
    return "-".rjust(int(width)) if width else "-"

def spread(name):
    w = [float(r["wall_s"]) for r in steps(name)]
    return f"{min(w):.3f}-{max(w):.3f}" if w else "-"

table = [
    ("a_iterparse", "(a) Python iterparse baseline", cbytes),
    ("b_tokenize", "(b) quick-xml tokenizer pass", cbytes),
    ("c_import", "(c) senda import, fresh DB", cbytes),
    ("d_reimport", "(d) senda re-import, unchanged", cbytes),
    ("e_report", "(e) senda report loe,country,fy", None),
    ("f_import_gen", f"(f) senda import 1 act x {gen_tx:,} tx", gbytes),
]
print()
print(f"corpus: {corpus} - {cbytes} bytes ({cbytes / 1e6:.1f} MB), {len(files)} files")
print(f"generated: {gen} - {gbytes / 1e6:.1f} MB")
print(f"repetitions: {len({r['rep'] for r in rows})}; median wall time shown (min-max); MB = 10^6 bytes; page cache warm")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {os.cpu_count()} CPUs ({cpu}); {bin_info}")
print()
hdr = f"{'step':<38} {'wall s':>9} {'min-max':>15} {'MB/s':>8} {'self MB/s':>10} {'peak RSS MB':>12} {'CPU %':>6}"
print(hdr)
print("-" * len(hdr))
mbs = {}
for key, label, nbytes in table:
    if not steps(key):
        print(f"{label:<38} {'skipped':>9}")
        continue
    w = wall(key)
    mbs[key] = nbytes / 1e6 / w if nbytes else None
    print(f"{label:<38} {w:>9.3f} {spread(key):>15} {fmt(mbs[key], '>8.1f')} {fmt(self_mbs(key), '>10.1f')} {fmt(rss_mb(key), '>12.0f')} {fmt(cpu_pct(key), '>6.0f')}")
print("MB/s = input bytes / median wall time of the whole process; self MB/s = the tool's own figure;")
print("CPU % from /usr/bin/time (over 100 = more than one core busy).")
print()
def ratio(a, b):
    if not (mbs.get(a) and mbs.get(b)):
        return "-"
    r = mbs[a] / mbs[b]
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.3f}x"
print(f"senda import / iterparse (MB/s):    {ratio('c_import', 'a_iterparse')}")
print(f"senda import / tokenizer (MB/s):    {ratio('c_import', 'b_tokenize')}")
if steps("c_import") and steps("d_reimport"):
    print(f"re-import speed-up (first / again): {wall('c_import') / wall('d_reimport'):.1f}x")
if steps("e_report"):
    print(f"report seconds:                     {wall('e_report'):.3f}")
sizes = [int(p.read_text()) for p in Path(results).parent.glob("logs/c_import-*.dbsize")]
if sizes:
    print(f"database size after first import:   {statistics.median(sizes) / 1e6:.1f} MB")
print(f"peak RSS, corpus import:            {fmt(rss_mb('c_import'), '.0f')} MB")
print(f"peak RSS, {gen_tx:,}-transaction activity: {fmt(rss_mb('f_import_gen'), '.0f')} MB")
failed = [f"{r['step']} rep {r['rep']} exit {r['exit']}" for r in rows if r["exit"] != "0"]
if failed:
    print("NON-ZERO EXIT: " + "; ".join(failed) + " (see the logs)")
print()
for key, label in (("c_import", "first import"), ("d_reimport", "re-import"), ("f_import_gen", "generated")):
    s = first_line(key, r"^import run ")
    a = first_line(key, r"^activities: ")
    if s:
        print(f"{label}: {s}")
        print(f"{' ' * len(label)}  {a}")
for n in notes.splitlines():
    if n.strip():
        print("NOTE: " + n)
print(f"logs: {Path(results).parent / 'logs'}")
PYEOF
