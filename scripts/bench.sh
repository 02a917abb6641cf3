#!/usr/bin/env bash
# Runs lockscope's benchmark suite on this machine and rewrites the benchmark table in README.md
# (between the `bench:start` and `bench:end` markers). Figures are ratios and costs measured in
# one run on one machine; they are never asserted by tests.
#
#   scripts/bench.sh            # full size (300 migrations, 10,000 tables): several minutes
#   BENCH_MIGRATIONS=50 BENCH_TABLES=1000 scripts/bench.sh   # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(mktemp)"
trap 'rm -f "$out" "$out".*' EXIT

# The peer for lint speed and memory: squawk, from PyPI, measured in the same run (benches/lint.rs).
if ! command -v squawk >/dev/null 2>&1; then
    python3 -m pip install --quiet squawk-cli || echo "squawk-cli could not be installed: the lint-vs-squawk ratio is skipped"
fi

BENCH_OUTPUT="$out.trace" cargo bench --bench trace
cat "$out.trace" > "$out"
# watch.rs prints its rows the same way (a Markdown table body) to BENCH_OUTPUT.
BENCH_OUTPUT="$out.watch" cargo bench --bench watch
tail -n +3 "$out.watch" >> "$out"
# lint.rs is a criterion benchmark (statistics in target/criterion); the trace suite above already
# measures lint throughput of the whole process for the table.
# lint vs squawk on the real crates.io corpus is printed by the lint bench itself.
if [ "${BENCH_LINT_CRITERION:-0}" = 1 ]; then
    cargo bench --bench lint
fi

{
    bindir="${LOCKSCOPE_PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}"
    echo "Measured on $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(date -u +%Y-%m-%d), $("$bindir/postgres" --version), by \`scripts/bench.sh\`:"
    echo
    cat "$out"
} > "$out.block"

python3 - "$out.block" <<'PY'
import re, sys
block = open(sys.argv[1]).read().strip()
readme = open("README.md").read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
if start not in readme:
    sys.exit("README.md has no bench markers")
before, rest = readme.split(start, 1)
_, after = rest.split(end, 1)
open("README.md", "w").write(f"{before}{start}\n{block}\n{end}{after}")
PY
echo "README.md benchmark table updated"
