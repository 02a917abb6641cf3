//! LS102: a migration with a down script and no up script.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS102",
    name: "down-without-up",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Down migration without an up migration",
    trigger: "The layout pairs scripts and the migration has a down script but no up script (often a renamed or \
              deleted up file). `check` refuses such a migration as bad input; `lint` reports it.",
    why: "The migration tool skips or fails on the version, and the down script undoes a change nothing applies.",
    fix: "Restore or rename the up script so both share the version and name, or delete the stray down script.",
    bad: include_str!("../../../rules/LS102/bad.sql"),
    good: include_str!("../../../rules/LS102/good.sql"),
    check: Check::File(check),
};

fn check(file: &FileCx<'_>) -> Vec<Hit> {
    let pairing = file.subject.pairing;
    if !(pairing.expected && pairing.has_down && !pairing.has_up) {
        return Vec::new();
    }
    let hit = Hit::new(format!("migration {} has a down script but no up script", file.subject.version));
    vec![if file.statements().is_empty() { hit } else { hit.at(0) }]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn an_orphan_down_script_is_a_file_finding() {
        let found = hits("LS102", "-- file: 001_a.down.sql\nSELECT 1;\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].path.as_deref().unwrap_or_default().ends_with("001_a.down.sql"));
        assert!(!fires("LS102", "-- file: 001_a.up.sql\nSELECT 1;\n-- file: 001_a.down.sql\nSELECT 1;\n"));
    }
}
