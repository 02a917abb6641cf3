#!/usr/bin/env bash
# Runs lockscope's benchmark suite on this machine, prints issue 16's figures as ONE table with
# each peer's figure beside ours, and rewrites the benchmark table in README.md (between the
# `bench:start` and `bench:end` markers) from it. Figures are costs and ratios measured in one run
# on one machine; they are never asserted by tests.
#
#   scripts/bench.sh            # full size: tens of minutes
#   BENCH_MIGRATIONS=50 BENCH_TABLES=1000 BENCH_PGBENCH_SECONDS=5 BENCH_ROUNDS=1 scripts/bench.sh   # a quick look
#   BENCH_NO_README=1 scripts/bench.sh   # print the table only
#   BENCH_KEEP=DIR scripts/bench.sh      # keep each bench's output file in DIR (DIR/bench.watch, …)
#   BENCH_KEEP=DIR BENCH_REUSE=watch,lint,trace scripts/bench.sh
#                                        # run only the other benches; the named ones' rows are read
#                                        # from DIR's files of an earlier run, and the header says so
#
# THE LINE FORMAT (every bench follows it; benches/support/row.rs writes it for Rust benches):
# a bench run as `BENCH_OUTPUT=FILE cargo bench --bench NAME` writes to FILE
#   * one line per figure, a Markdown table row of exactly six cells:
#         | work | peer | peer figure | lockscope | ratio | target |
#     work        what was done, at what size ("`check` of the crates.io corpus, 285 migrations");
#     peer        what it is compared with, measured in the same run ("`psql -1 -f` per file");
#     peer figure the peer's figure ("3.54 s", "median 6.1 ms, p95 7.0 ms"); "—" when none;
#     lockscope   our figure in the same run;
#     ratio       lockscope / peer as "1.01×" (or another stated ratio); "—" when none;
#     target      the issue's target ("≤ 1.15×"), or "—";
#     a cell never contains a raw "|" (write "\|"); a figure that was not measured says why
#     ("not run: ../shared/corpora/crates.io is absent") instead of a number;
#   * optionally, note lines starting with "- " (how a figure was measured), printed under the
#     table in order;
#   * optionally the header `| work | peer | … |` and the `|---|…` separator (ignored here).
# Anything else in FILE is ignored. Rows of the old three-cell format (`| what | how | figure |`)
# are still accepted: the figure goes in the lockscope column and "how" becomes a note.
# Files read: $out.watch (benches/watch.rs), $out.trace (benches/trace.rs: trace overhead, check
# vs `psql -1 -f` on the generated corpus and on ../shared/corpora/crates.io), $out.estimate
# (benches/estimate.rs: estimate extrapolated / measured), $out.lint (lint vs squawk, parsed from
# benches/lint.rs's report line). A missing file or row gives a row that says "not run" and why.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

if [ -n "${BENCH_KEEP:-}" ]; then
    mkdir -p "$BENCH_KEEP"
    out="$BENCH_KEEP/bench"
else
    out="$(mktemp)"
    trap 'rm -f "$out" "$out".*' EXIT
fi
reused() { # name: true when BENCH_REUSE names it and an earlier run's file is there
    [ -n "${BENCH_KEEP:-}" ] && [ -f "$out.$1" ] && [[ ",${BENCH_REUSE:-}," == *",$1,"* ]]
}
reuse_note=""
for name in watch lint trace estimate; do
    if reused "$name"; then
        reuse_note="$reuse_note${reuse_note:+, }$name from $(date -u -r "$out.$name" +%Y-%m-%dT%H:%MZ)"
    fi
done

corpus=""
for candidate in "${LOCKSCOPE_LINT_CORPUS:-}" ../shared/corpora/crates.io /work/shared/corpora/crates.io; do
    if [ -n "$candidate" ] && [ -d "$candidate" ]; then corpus="$candidate"; break; fi
done
if [ -z "$corpus" ]; then
    echo "bench.sh: the crates.io corpus (../shared/corpora/crates.io) is absent: its rows say so"
fi

run_bench() { # name, output file
    if reused "$1"; then
        echo "bench.sh: $1's rows are reused from $2"
        return 0
    fi
    rm -f "$2" "$2.failed"
    if [ ! -f "benches/$1.rs" ]; then
        echo "bench.sh: benches/$1.rs does not exist: its rows say not run"
        return 0
    fi
    if ! BENCH_OUTPUT="$2" cargo bench --bench "$1"; then
        echo "bench.sh: cargo bench --bench $1 failed: its rows say so"
        echo "failed" > "$2.failed"
    fi
}

# The peer for lint speed and memory: squawk, from PyPI, measured in the same run (benches/lint.rs).
if ! command -v squawk >/dev/null 2>&1; then
    python3 -m pip install --quiet squawk-cli || echo "squawk-cli could not be installed: the lint-vs-squawk row is skipped"
fi

run_bench watch "$out.watch"
# benches/lint.rs prints one "lint vs squawk ..." line before its criterion groups; a filter that
# matches no group runs only that comparison (the criterion statistics: BENCH_LINT_CRITERION=1).
reused lint || rm -f "$out.lint" "$out.lint.failed"
if reused lint; then
    echo "bench.sh: lint's rows are reused from $out.lint"
elif [ "${BENCH_LINT_CRITERION:-0}" = 1 ]; then
    cargo bench --bench lint | tee "$out.lint"
else
    cargo bench --bench lint -- --test only-the-squawk-comparison | tee "$out.lint" || echo "failed" > "$out.lint.failed"
fi
run_bench trace "$out.trace"
run_bench estimate "$out.estimate"

bindir="${LOCKSCOPE_PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
header="Measured on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(date -u +%Y-%m-%d), $("$bindir/postgres" --version), by \`scripts/bench.sh\`$( [ -n "${BENCH_SIZES_NOTE:-}" ] && echo " ($BENCH_SIZES_NOTE)" )$( [ -n "$reuse_note" ] && echo "; rows reused from an earlier run on the same machine: $reuse_note" ):"

python3 - "$out" "$corpus" "$header" > "$out.block" <<'PY'
import os, re, sys

out, corpus, header = sys.argv[1], sys.argv[2], sys.argv[3]
rows, notes = [], []

def cells(line):
    inner = line.strip()[1:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]

def read(name):
    """Rows and notes of one BENCH_OUTPUT file; None when the bench did not run."""
    path = f"{out}.{name}"
    if not os.path.exists(path) or os.path.exists(path + ".failed"):
        return None
    got_rows, got_notes = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("- "):
            got_notes.append(line)
        elif line.startswith("|") and line.rstrip().endswith("|"):
            c = cells(line)
            if c[0] in ("work", "what") or set("".join(c)) <= set("-: "):
                continue  # header or separator
            if len(c) == 6:
                got_rows.append(c)
            elif len(c) == 3:  # the old format: | what | how measured | figure |
                got_rows.append([c[0], "—", "—", c[2], "—", "—"])
                got_notes.append(f"- {c[0]}: {c[1]}")
    return got_rows, got_notes

def missing(work, peer, why, target):
    return [work, peer, "—", f"not run: {why}", "—", target]

def has(found, *words):
    return any(all(w.lower() in r[0].lower() for w in words) for r in found)

# 1. watch: the sample at 500 waiters and at 1,000 idle sessions first.
watch = read("watch")
if watch is None:
    rows.append(missing("one `inspect --once` sample, 500 sessions queued behind one ACCESS EXCLUSIVE",
                        "one `pg_locks` ⋈ `pg_stat_activity` read", "`cargo bench --bench watch` did not run",
                        "≤ 15 ms (median and p95), one sweep per sample"))
    rows.append(missing("one `--watch` sample, 1,000 idle sessions", "one `pg_locks` ⋈ `pg_stat_activity` read",
                        "`cargo bench --bench watch` did not run", "≤ 10 ms"))
    watch = ([], [])
else:
    if not has(watch[0], "queued behind"):
        rows.append(missing("one `inspect --once` sample, 500 sessions queued behind one ACCESS EXCLUSIVE",
                            "one `pg_locks` ⋈ `pg_stat_activity` read", "BENCH_PARTS left out `queue`",
                            "≤ 15 ms (median and p95), one sweep per sample"))
    if not has(watch[0], "idle sessions"):
        rows.append(missing("one `--watch` sample, 1,000 idle sessions", "one `pg_locks` ⋈ `pg_stat_activity` read",
                            "BENCH_PARTS left out `idle`", "≤ 10 ms"))
first = [r for r in watch[0] if "queued behind" in r[0] or "idle sessions" in r[0]]
rest = [r for r in watch[0] if r not in first]
rows[:0] = first

# 2. lint vs squawk, from benches/lint.rs's line:
# "lint vs squawk on DIR (N migrations), median of R: lockscope X ms, peak RSS Y MiB; squawk Z ms,
#  peak RSS W MiB; time ratio lockscope/squawk Q"
lint_work = "`lint` of the crates.io corpus"
lint_target = "≤ 0.8× squawk's time, ≤ 40 MiB"
lint_text = open(f"{out}.lint", encoding="utf-8", errors="replace").read() if os.path.exists(f"{out}.lint") else ""
m = re.search(r"lint vs squawk on (\S+) \((\d+) migrations\), median of (\d+): lockscope (\d+) ms, peak RSS ([\d.]+) MiB; "
              r"squawk (\d+) ms, peak RSS ([\d.]+) MiB; time ratio lockscope/squawk ([\d.]+)", lint_text)
if m:
    _, n, runs, ours, our_rss, theirs, their_rss, ratio = m.groups()
    rows.append([f"{lint_work}, {n} migrations", "squawk (PyPI `squawk-cli`) on the same up.sql files",
                 f"{theirs} ms, peak RSS {their_rss} MiB", f"{ours} ms, peak RSS {our_rss} MiB",
                 f"{float(ratio):.2f}× time, {float(our_rss) / float(their_rss):.2f}× memory", lint_target])
    notes.append(f"- lint vs squawk: whole processes, median wall time of {runs} runs each in the same run, peak RSS from "
                 "`/usr/bin/time` (benches/lint.rs)")
else:
    why = re.search(r"lint vs squawk: (.*)", lint_text)
    reason = why.group(1) if why else ("the crates.io corpus is absent" if not corpus
                                       else "`cargo bench --bench lint` printed no comparison")
    rows.append(missing(lint_work, "squawk (PyPI `squawk-cli`)", reason, lint_target))

# 3. check vs psql -1 -f (benches/trace.rs), generated corpus and crates.io.
trace = read("trace")
check_target = "≤ 1.15×"
if trace is None:
    rows.append(missing("`check` of the generated corpus", "`psql -1 -f` per file", "`cargo bench --bench trace` did not run or failed", check_target))
    rows.append(missing("`check` of the crates.io corpus", "`psql -1 -f` per file", "`cargo bench --bench trace` did not run or failed", check_target))
else:
    t_rows, t_notes = trace
    crates = [r for r in t_rows if "crates.io" in r[0]]
    others = [r for r in t_rows if r not in crates]
    rows.extend(others)
    if crates:
        rows.extend(crates)
    elif not corpus:
        rows.append(missing("`check` of the crates.io corpus", "`psql -1 -f` per file",
                            "../shared/corpora/crates.io is absent", check_target))
    else:
        rows.append(missing("`check` of the crates.io corpus", "`psql -1 -f` per file",
                            "benches/trace.rs wrote no crates.io row", check_target))
    notes.extend(t_notes)

# 4. estimates (benches/estimate.rs).
estimate = read("estimate")
if estimate is None or not estimate[0]:
    rows.append(missing("production estimate at 10× the staging rows, extrapolated / measured", "the real run at that size",
                        "`cargo bench --bench estimate` did not run" if estimate is None else "benches/estimate.rs wrote no row",
                        "within ±15% (0.85–1.15)"))
else:
    rows.extend(estimate[0])
    notes.extend(estimate[1])

# 5. the rest of the watch bench.
rows.extend(rest)
notes[:0] = watch[1]

print(header)
print()
print("| work | peer | peer figure | lockscope | ratio | target |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
if notes:
    print()
    for n in notes:
        print(n)
PY

cat "$out.block"
if [ "${BENCH_NO_README:-0}" = 1 ]; then
    exit 0
fi
python3 - "$out.block" <<'PY'
import sys
block = open(sys.argv[1], encoding="utf-8").read().strip()
readme = open("README.md", encoding="utf-8").read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
if start not in readme or end not in readme:
    sys.exit("README.md has no bench markers")
before, rest = readme.split(start, 1)
_, after = rest.split(end, 1)
open("README.md", "w", encoding="utf-8").write(f"{before}{start}\n{block}\n{end}{after}")
PY
echo "README.md benchmark table updated"
