//! LS134: ALTER TABLE … DISABLE TRIGGER ALL.
//!
//! PostgreSQL's documentation (sql-altertable.html, "DISABLE/ENABLE [ REPLICA | ALWAYS ] TRIGGER"):
//! ALL disables every trigger of the table, including "internally generated constraint triggers
//! such as those that are used to implement foreign key constraints or deferrable uniqueness and
//! exclusion constraints"; USER excludes those. Disabling them "should be done with caution since
//! of course the integrity of the constraint cannot be guaranteed if the triggers are not
//! executed". ENABLE/DISABLE TRIGGER takes SHARE ROW EXCLUSIVE (src/test/isolation/specs/
//! alter-table-3.spec: "ENABLE/DISABLE TRIGGER uses ShareRowExclusiveLock").

use super::prelude::*;
use crate::analyze::context::same_relation;

pub const RULE: Rule = Rule {
    id: "LS134",
    name: "disable-trigger-all",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DISABLE TRIGGER ALL turns off foreign key enforcement",
    trigger: "ALTER TABLE … DISABLE TRIGGER ALL (DISABLE TRIGGER USER, or a trigger by name, is not reported).",
    why: "ALL includes the internal triggers that implement foreign keys (and deferrable unique and exclusion \
          constraints). While they are disabled every INSERT, UPDATE and DELETE — the migration's and the \
          application's — skips the checks, and ENABLE TRIGGER ALL afterwards does not re-check the rows written \
          in between: orphaned rows stay, silently. It also takes SHARE ROW EXCLUSIVE, which blocks writes, and \
          needs superuser.",
    fix: "Don't. To skip your own triggers use DISABLE TRIGGER USER (or the trigger by name), which leaves the \
          constraint triggers on. If a bulk load really needs ALL, do it in one transaction with the load, ENABLE \
          TRIGGER ALL right after, and re-validate each foreign key afterwards (drop it and add it back NOT VALID, \
          then VALIDATE CONSTRAINT) so rows written meanwhile are checked.",
    bad: include_str!("../../../rules/LS134/bad.sql"),
    good: include_str!("../../../rules/LS134/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cmds.iter().any(|c| ast::subtype(c) == At::AtDisableTrigAll) {
        return Vec::new();
    }
    let enabled_again = cx.after().iter().any(|statement| {
        ast::alter_table(statement).is_some_and(|(altered, cmds)| {
            same_relation(&altered, &table) && cmds.iter().any(|c| ast::subtype(c) == At::AtEnableTrigAll)
        })
    });
    let tail = if enabled_again {
        "; rows written until ENABLE TRIGGER ALL are never checked"
    } else {
        ", and this migration never enables them again"
    };
    vec![Hit::new(format!(
        "DISABLE TRIGGER ALL on {table} also disables its foreign key triggers: writes skip the checks{tail}"
    ))
    .on(&table)
    .expect(Expect::Lock(LockMode::ShareRowExclusive))]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn only_all_is_reported() {
        assert!(fires("LS134", "ALTER TABLE orders DISABLE TRIGGER ALL;"));
        assert!(!fires("LS134", "ALTER TABLE orders DISABLE TRIGGER USER;"));
        assert!(!fires("LS134", "ALTER TABLE orders DISABLE TRIGGER orders_audit;"));
        assert!(!fires("LS134", "ALTER TABLE orders ENABLE TRIGGER ALL;"));
    }

    #[test]
    fn the_message_says_whether_they_come_back() {
        let never = &hits("LS134", "ALTER TABLE orders DISABLE TRIGGER ALL;")[0].message;
        assert!(never.contains("never enables them again"), "{never}");
        let later =
            &hits("LS134", "ALTER TABLE orders DISABLE TRIGGER ALL;\nALTER TABLE orders ENABLE TRIGGER ALL;")[0];
        assert!(later.message.contains("never checked"), "{}", later.message);
    }
}
