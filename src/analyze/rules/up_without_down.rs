//! LS101: a migration with an up script and no down script.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS101",
    name: "up-without-down",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Up migration without a down migration",
    trigger: "The layout pairs scripts (golang-migrate: NNN_name.up.sql and NNN_name.down.sql) and the \
              migration has an up script but no down script.",
    why: "When the release goes wrong there is no tested way back: someone writes the reverse DDL by hand, under \
          pressure, on the production database.",
    fix: "Write the down script with the up script, reversing it with IF EXISTS guards, and run both in CI \
          (lockscope check --direction down).",
    bad: include_str!("../../../rules/LS101/bad.sql"),
    good: include_str!("../../../rules/LS101/good.sql"),
    check: Check::File(check),
};

fn check(file: &FileCx<'_>) -> Vec<Hit> {
    let pairing = file.subject.pairing;
    if !(pairing.expected && pairing.has_up && !pairing.has_down) {
        return Vec::new();
    }
    let hit = Hit::new(format!("migration {} has an up script but no down script", file.subject.version));
    vec![if file.statements().is_empty() { hit } else { hit.at(0) }]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn plain_numbered_files_need_no_down() {
        assert!(!fires("LS101", "-- file: 001_a.sql\nSELECT 1;\n"));
        assert!(fires(
            "LS101",
            "-- file: 001_a.up.sql\nSELECT 1;\n-- file: 002_b.up.sql\nSELECT 1;\n-- file: 002_b.down.sql\nSELECT 1;\n"
        ));
    }
}
