//! LS901 and LS902: lockscope's own ignore directives, applied by the engine
//! (`analyze::evaluate`): a directive needs a reason, and must match something.

use super::prelude::*;

pub const WITHOUT_REASON: Rule = Rule {
    id: "LS901",
    name: "ignore-without-reason",
    severity: Severity::Medium,
    kind: RuleKind::Meta,
    size_matters: false,
    title: "`lockscope:ignore` without a reason",
    trigger: "A `-- lockscope:ignore LS…` comment that names rules but gives no reason after them.",
    why: "An ignore silences a real risk for everyone who reads the migration later; without the reason nobody \
          can tell whether it still holds. lockscope does not apply such a directive.",
    fix: "Write why the risk is acceptable after the rule ids: `-- lockscope:ignore LS107 table has 200 rows, \
          written once a day`.",
    bad: include_str!("../../../rules/LS901/bad.sql"),
    good: include_str!("../../../rules/LS901/good.sql"),
    check: Check::Engine,
};

pub const UNUSED: Rule = Rule {
    id: "LS902",
    name: "unused-ignore",
    severity: Severity::Low,
    kind: RuleKind::Meta,
    size_matters: false,
    title: "`lockscope:ignore` that matches no finding",
    trigger: "A `-- lockscope:ignore` comment naming a rule that reports nothing on its statement, a rule that \
              does not exist, or no rule at all.",
    why: "A stale or misspelt ignore hides nothing today and may hide a real finding tomorrow, after the \
          statement changes.",
    fix: "Remove the directive, or correct the rule id (see `lockscope rules`).",
    bad: include_str!("../../../rules/LS902/bad.sql"),
    good: include_str!("../../../rules/LS902/good.sql"),
    check: Check::Engine,
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn an_ignore_without_reason_is_not_applied() {
        let found = lint_on(
            18,
            "SET lock_timeout = '1s';\n-- lockscope:ignore LS107\nCREATE INDEX IF NOT EXISTS i ON users (name);",
        );
        assert!(found.iter().any(|f| f.rule == "LS107"), "{found:#?}");
        let reason = found.iter().find(|f| f.rule == "LS901").expect("LS901");
        assert_eq!(reason.line, Some(2));
    }

    #[test]
    fn an_ignore_with_a_reason_removes_the_finding() {
        let found = lint_on(
            18,
            "SET lock_timeout = '1s';\n-- lockscope:ignore LS107, LS105 tiny table\nCREATE INDEX i ON users (name);",
        );
        assert!(found.iter().all(|f| f.rule != "LS107" && f.rule != "LS105" && f.rule != "LS902"), "{found:#?}");
    }

    #[test]
    fn unknown_and_unmatched_rules_are_reported() {
        let found = lint_on(18, "SET lock_timeout = '1s';\n-- lockscope:ignore LS999 because\nALTER TABLE users ADD COLUMN IF NOT EXISTS x int;");
        assert!(found.iter().any(|f| f.rule == "LS902" && f.message.contains("no rule LS999")), "{found:#?}");
        // Trace-only rules cannot match in lint: ignoring them there is not reported.
        let found = lint_on(18, "SET lock_timeout = '1s';\n-- lockscope:ignore LS001 small\nALTER TABLE users ADD COLUMN IF NOT EXISTS x int;");
        assert!(found.iter().all(|f| f.rule != "LS902"), "{found:#?}");
    }
}
