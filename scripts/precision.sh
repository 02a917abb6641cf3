#!/usr/bin/env bash
# Measures lockscope's precision on the labelled corpus tests/corpus/ (benches/precision.rs):
# strict and loose detection on dangerous files, false positives on safe files, static (lint) and
# traced (check against a seeded throwaway PostgreSQL) for the context files. Prints the table and
# writes it to target/precision.md; with README markers `<!-- precision:start -->` and
# `<!-- precision:end -->` present, also rewrites the table between them.
#
#   scripts/precision.sh                      # static for all, traced for context/ files
#   PRECISION_TRACE=all scripts/precision.sh  # traced for every file too (a few minutes)
#   PRECISION_TRACE=none scripts/precision.sh # static only, no database
set -euo pipefail
cd "$(dirname "$0")/.."

out="${PRECISION_OUTPUT:-target/precision.md}"
# Precision is not a timing: the dev profile (the build every engineer already has) is enough.
PRECISION_OUTPUT="$out" cargo bench --profile dev --bench precision

if grep -q '<!-- precision:start -->' README.md; then
    python3 - "$out" <<'PY'
import sys
block = open(sys.argv[1]).read().strip()
readme = open("README.md").read()
start, end = "<!-- precision:start -->", "<!-- precision:end -->"
before, rest = readme.split(start, 1)
_, after = rest.split(end, 1)
open("README.md", "w").write(before + start + "\n" + block + "\n" + end + after)
PY
    echo "README.md: precision table updated"
fi
