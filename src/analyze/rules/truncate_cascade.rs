//! LS129: TRUNCATE … CASCADE.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS129",
    name: "truncate-cascade",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: false,
    title: "TRUNCATE … CASCADE",
    trigger: "TRUNCATE … CASCADE.",
    why: "CASCADE also empties every table with a foreign key to the named ones — tables the migration does not \
          name and its author may not know about — each under ACCESS EXCLUSIVE, and no application sees it coming.",
    fix: "Name every table to empty explicitly, without CASCADE: PostgreSQL then refuses if a table outside the \
          list references them.",
    bad: include_str!("../../../rules/LS129/bad.sql"),
    good: include_str!("../../../rules/LS129/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(NodeEnum::TruncateStmt(truncate)) = cx.ast() else { return Vec::new() };
    if pg_query::protobuf::DropBehavior::try_from(truncate.behavior)
        != Ok(pg_query::protobuf::DropBehavior::DropCascade)
    {
        return Vec::new();
    }
    let names: Vec<String> = cx.statement.summary.locks.iter().map(|l| l.relation.to_string()).collect();
    let mut hit = Hit::new(format!(
        "TRUNCATE {} CASCADE also empties every table that references them, under ACCESS EXCLUSIVE",
        names.join(", ")
    ))
    .expect(Expect::Lock(LockMode::AccessExclusive));
    if let Some(first) = cx.statement.summary.locks.first() {
        hit = hit.on(&first.relation);
    }
    vec![hit]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn only_cascade_fires() {
        assert!(fires("LS129", "TRUNCATE orders, users CASCADE;"));
        assert!(!fires("LS129", "TRUNCATE orders RESTRICT;"));
    }
}
