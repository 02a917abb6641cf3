//! LS105: CREATE without IF NOT EXISTS.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS105",
    name: "create-without-if-not-exists",
    severity: Severity::Low,
    kind: RuleKind::Static,
    size_matters: false,
    title: "CREATE without IF NOT EXISTS",
    trigger: "CREATE TABLE, INDEX, SEQUENCE, SCHEMA, EXTENSION or MATERIALIZED VIEW written without IF NOT EXISTS.",
    why: "A migration that failed halfway (or ran by hand once) cannot be re-run: it stops at the object that \
          already exists, in the middle of a deploy.",
    fix: "Write CREATE … IF NOT EXISTS, so re-running the migration is harmless.",
    bad: include_str!("../../../rules/LS105/bad.sql"),
    good: include_str!("../../../rules/LS105/good.sql"),
    check: Check::Statement(check),
};

fn guarded(kind: &StatementKind) -> bool {
    use ObjectType as O;
    matches!(
        kind,
        StatementKind::Create(
            O::ObjectTable
                | O::ObjectIndex
                | O::ObjectSequence
                | O::ObjectSchema
                | O::ObjectExtension
                | O::ObjectMatview
        ) | StatementKind::CreateTableAs
    )
}

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let summary = &cx.statement.summary;
    if summary.if_exists || !guarded(&summary.kind) {
        return Vec::new();
    }
    // An index without a name cannot say IF NOT EXISTS; and a concurrent build should not (LS135:
    // IF NOT EXISTS would keep the INVALID index a failed attempt left).
    if let Some(NodeEnum::IndexStmt(index)) = cx.ast() {
        if index.idxname.is_empty() || index.concurrent {
            return Vec::new();
        }
    }
    let name =
        crate::analyze::ast::created_relations(cx.statement).first().map(|r| format!(" {r}")).unwrap_or_default();
    vec![Hit::new(format!("{}{name} without IF NOT EXISTS: the migration cannot be re-run", summary.kind))]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn guarded_and_unnamed_creates_are_fine() {
        assert!(fires("LS105", "CREATE INDEX i ON users (name);"));
        assert!(!fires("LS105", "CREATE INDEX ON users (name);"));
        assert!(!fires("LS105", "CREATE INDEX CONCURRENTLY i ON users (name);"), "LS135 advises against it");
        assert!(!fires("LS105", "CREATE SCHEMA IF NOT EXISTS app;"));
        assert!(fires("LS105", "CREATE EXTENSION pgcrypto;"));
    }
}
