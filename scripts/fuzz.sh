#!/usr/bin/env bash
# Runs the property tests over splitting and discovery (tests/fuzz.rs) with many more cases, for
# a bounded time. Usage: scripts/fuzz.sh [SECONDS] [CASES]   (defaults: 120 s, 20000 cases)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
cases="${2:-20000}"
cargo build --release --tests --quiet
PROPTEST_CASES="$cases" timeout --signal=INT "$seconds" cargo test --release --test fuzz -- --nocapture
