//! LS132: syntax or features the judged PostgreSQL version does not have.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS132",
    name: "needs-newer-postgres",
    severity: Severity::Critical,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Feature newer than the target PostgreSQL",
    trigger: "A statement uses something the PostgreSQL version being judged for (the traced server's, or \
              --pg-version / pg_version) does not have: REINDEX CONCURRENTLY (12), DETACH PARTITION … CONCURRENTLY \
              (14), MERGE and NULLS NOT DISTINCT (15), named NOT NULL constraints, NOT NULL … NOT VALID, NOT \
              ENFORCED, virtual generated columns and uuidv7() (18).",
    why: "PostgreSQL refuses the statement (a syntax error or an unknown function): the deploy stops at this \
          migration — often after a newer development database accepted it.",
    fix: "Write the migration for the oldest PostgreSQL it runs on (set pg_version in lockscope.toml), or upgrade \
          that server first.",
    bad: include_str!("../../../rules/LS132/bad.sql"),
    good: include_str!("../../../rules/LS132/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let pg = cx.pg();
    let mut needs: Vec<(u32, &str)> = Vec::new();
    let summary = &cx.statement.summary;
    if summary.kind == StatementKind::Reindex && summary.concurrently {
        needs.push((12, "REINDEX CONCURRENTLY"));
    }
    if summary.kind == StatementKind::Merge {
        needs.push((15, "MERGE"));
    }
    if let Some(NodeEnum::IndexStmt(index)) = cx.ast() {
        if index.nulls_not_distinct {
            needs.push((15, "NULLS NOT DISTINCT"));
        }
    }
    if let Some((_, cmds)) = ast::alter_table(cx.statement) {
        for cmd in cmds {
            match (ast::subtype(cmd), cmd.def.as_ref().and_then(|d| d.node.as_ref())) {
                (At::AtDetachPartition, Some(NodeEnum::PartitionCmd(p))) if p.concurrent => {
                    needs.push((14, "DETACH PARTITION … CONCURRENTLY"))
                }
                (At::AtAddConstraint, Some(NodeEnum::Constraint(c))) => constraint_needs(c, &mut needs),
                (At::AtAddColumn, Some(NodeEnum::ColumnDef(column))) => {
                    ast::column_constraints(column).for_each(|c| constraint_needs(c, &mut needs))
                }
                _ => {}
            }
        }
    }
    if let Some(NodeEnum::CreateStmt(create)) = cx.ast() {
        for element in &create.table_elts {
            match &element.node {
                Some(NodeEnum::ColumnDef(column)) => {
                    ast::column_constraints(column).for_each(|c| constraint_needs(c, &mut needs))
                }
                Some(NodeEnum::Constraint(c)) => constraint_needs(c, &mut needs),
                _ => {}
            }
        }
    }
    // The text first: serialising every tree to look for a call would slow lint down.
    if pg < 18
        && cx.statement.sql.to_ascii_lowercase().contains("uuidv7")
        && cx.ast().is_some_and(|ast| ast::contains_node(ast, "FuncCall"))
    {
        needs.push((18, "uuidv7()"));
    }
    needs
        .into_iter()
        .filter(|(since, _)| pg < *since)
        .map(|(since, what)| {
            Hit::new(format!("{what} needs PostgreSQL {since}; judged for PostgreSQL {pg}, where the statement fails"))
                .expect(Expect::Error)
        })
        .collect()
}

fn constraint_needs(constraint: &pg_query::protobuf::Constraint, needs: &mut Vec<(u32, &'static str)>) {
    match ast::constr_type(constraint) {
        ConstrType::ConstrNotnull if constraint.skip_validation => needs.push((18, "NOT NULL … NOT VALID")),
        ConstrType::ConstrNotnull if !constraint.conname.is_empty() => needs.push((18, "a named NOT NULL constraint")),
        ConstrType::ConstrGenerated if constraint.generated_kind == "v" => {
            needs.push((18, "a virtual generated column"))
        }
        ConstrType::ConstrCheck | ConstrType::ConstrForeign if !constraint.is_enforced => {
            needs.push((18, "NOT ENFORCED"))
        }
        ConstrType::ConstrUnique | ConstrType::ConstrPrimary if constraint.nulls_not_distinct => {
            needs.push((15, "NULLS NOT DISTINCT"))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn answers_for_the_judged_version() {
        let not_valid = "ALTER TABLE users ADD CONSTRAINT n NOT NULL name NOT VALID;";
        assert!(fires_on("LS132", 17, not_valid));
        assert!(!fires_on("LS132", 18, not_valid));
        assert!(fires_on("LS132", 11, "REINDEX INDEX CONCURRENTLY orders_pkey;"));
        assert!(!fires_on("LS132", 12, "REINDEX INDEX CONCURRENTLY orders_pkey;"));
        assert!(fires_on("LS132", 14, "MERGE INTO users u USING users v ON u.id = v.id WHEN MATCHED THEN DO NOTHING;"));
        assert!(fires_on("LS132", 17, "ALTER TABLE orders ADD COLUMN c bigint GENERATED ALWAYS AS (quantity * 2);"));
        assert!(!fires_on(
            "LS132",
            17,
            "ALTER TABLE orders ADD COLUMN c bigint GENERATED ALWAYS AS (quantity * 2) STORED;"
        ));
    }
}
