#!/usr/bin/env bash
# Renders lockscope's HTML reports in headless Chromium and checks they display: the fixed
# reports of tests/report_formats.rs (check, failed run, lint, many migrations) and, unless
# --fixtures-only, a live `lockscope check examples/migrations` on the embedded PostgreSQL.
#
#   scripts/check-html.sh [--fixtures-only] [OUT_DIR]     (default OUT_DIR: target/html-check)
#
# For each page it checks that Chromium parsed the lock timeline (the SVG is in the rendered
# DOM), that the page tried to load nothing (its Content-Security-Policy forbids every fetch, and
# Chromium logs each attempt as a violation on the page's console), and writes a screenshot PNG next to
# the HTML for a person to look at. Needs `chromium` (apt-get install -y chromium).
set -euo pipefail

cd "$(dirname "$0")/.."

fixtures_only=false
if [ "${1:-}" = "--fixtures-only" ]; then
    fixtures_only=true
    shift
fi
out="$(realpath -m "${1:-target/html-check}")"
mkdir -p "$out"

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
    echo "check-html: no Chromium found; install it with: apt-get install -y chromium" >&2
    exit 2
fi

echo "==> writing the fixed reports to $out"
LOCKSCOPE_REPORT_DIR="$out" cargo test --quiet --test report_formats html_pages_for_the_browser_check >/dev/null

if [ "$fixtures_only" = false ]; then
    echo "==> lockscope check examples/migrations --format html (embedded PostgreSQL)"
    cargo build --quiet
    status=0
    "${CARGO_TARGET_DIR:-./target}/debug/lockscope" check examples/migrations --quiet --format html --output "$out/examples.html" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "check-html: lockscope check failed with exit $status" >&2
        exit 1
    fi
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium_run() {
    # No sandbox: CI runs as root. Every host resolves to nothing, so a fetch could not succeed
    # anyway; the page's console (on stderr) says whether one was attempted.
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$profile" --no-first-run --disable-background-networking \
        --host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=0 "$@"
}

failed=0
for page in "$out"/*.html; do
    name="$(basename "$page" .html)"
    dom="$out/$name.dom.txt"
    console="$out/$name.console.log"
    chromium_run --dump-dom "file://$page" >"$dom" 2>"$console"
    if ! grep -q '<main>' "$dom"; then
        echo "FAIL $name: Chromium did not render the page" >&2
        failed=1
        continue
    fi
    if grep -q 'Lock timeline of the dry-run' "$page" && ! grep -q '<svg class="timeline"' "$dom"; then
        echo "FAIL $name: the lock timeline SVG is not in the rendered page" >&2
        failed=1
    fi
    # Console lines of the page itself (not the browser's own housekeeping).
    if grep 'CONSOLE' "$console" | grep -F "source: file://$page" | grep -Eqi 'violates|failed to load|ERR_'; then
        echo "FAIL $name: the page tried to load something:" >&2
        grep 'CONSOLE' "$console" | grep -F "source: file://$page" >&2
        failed=1
    fi
    # Tall enough for the whole page; the screenshot is cropped by the window.
    chromium_run --window-size=1280,2400 --screenshot="$out/$name.png" "file://$page" >/dev/null 2>&1
    size="$(stat -c %s "$out/$name.png" 2>/dev/null || echo 0)"
    if [ "$size" -lt 20000 ]; then
        echo "FAIL $name: the screenshot is (nearly) empty: $size bytes" >&2
        failed=1
        continue
    fi
    echo "ok   $name: $out/$name.png ($size bytes)"
done
exit "$failed"
