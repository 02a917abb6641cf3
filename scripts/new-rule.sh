#!/usr/bin/env bash
# Scaffolds a rule: src/analyze/rules/<name>.rs (data, check, unit tests), rules/<ID>/bad.sql and
# good.sql, and its line in src/analyze/rules/mod.rs. Usage:
#   scripts/new-rule.sh LS140 drop-sequence "DROP SEQUENCE still in use"
# Then write the check, the examples and the tests; tests/rules_examples.rs picks the examples up
# (lint and trace) without further changes.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 3 ]; then
    echo "usage: $0 LSnnn rule-name \"one-line title\"" >&2
    exit 2
fi
id="$1"; name="$2"; title="$3"
if ! [[ "$id" =~ ^LS[0-9]{3}$ ]]; then echo "rule id must look like LS140, not $id" >&2; exit 2; fi
if ! [[ "$name" =~ ^[a-z][a-z0-9-]*$ ]]; then echo "rule name must be kebab-case, not $name" >&2; exit 2; fi
if grep -rq "id: \"$id\"" src/analyze/rules/; then echo "$id is taken" >&2; exit 2; fi
module="${name//-/_}"
file="src/analyze/rules/$module.rs"
if [ -e "$file" ]; then echo "$file exists" >&2; exit 2; fi

mkdir -p "rules/$id"
cat > "rules/$id/bad.sql" <<SQL
-- What the rule catches, as a migration would write it.
SET lock_timeout = '2s';
SQL
cat > "rules/$id/good.sql" <<SQL
-- The same change done safely.
SET lock_timeout = '2s';
SQL

cat > "$file" <<RUST
//! $id: $title.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "$id",
    name: "$name",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "$title",
    trigger: "TODO: what makes it fire.",
    why: "TODO: which lock, blocking what, for how long (cite the PostgreSQL documentation).",
    fix: "TODO: the safe alternative.",
    bad: include_str!("../../../rules/$id/bad.sql"),
    good: include_str!("../../../rules/$id/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let _ = cx;
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn fires_on_the_bad_example_only() {
        assert!(fires("$id", super::RULE.bad));
        assert!(!fires("$id", super::RULE.good));
    }
}
RUST

# Register the module and the rule (before the ignore-directive entries, which stay last).
python3 - "$module" <<'PY'
import sys
module = sys.argv[1]
path = "src/analyze/rules/mod.rs"
text = open(path).read()
mods = [l for l in text.splitlines() if l.startswith("mod ") and l.endswith(";")]
last_mod = mods[-1]
text = text.replace(last_mod + "\n", last_mod + "\n" + f"mod {module};\n", 1)
text = text.replace("    &ignore_directives::WITHOUT_REASON,", f"    &{module}::RULE,\n    &ignore_directives::WITHOUT_REASON,", 1)
open(path, "w").write(text)
PY
echo "created $file, rules/$id/bad.sql, rules/$id/good.sql; registered in src/analyze/rules/mod.rs"
echo "next: write the check and examples, then: cargo test --lib $module && cargo test --test rules_examples"
