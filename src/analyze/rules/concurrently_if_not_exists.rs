//! LS135: CREATE INDEX CONCURRENTLY IF NOT EXISTS, which keeps an INVALID index from a failed build.
//!
//! PostgreSQL's documentation (sql-createindex.html, "Building Indexes Concurrently"): "If a
//! problem arises while scanning the table, such as a deadlock or a uniqueness violation in a
//! unique index, the CREATE INDEX command will fail but leave behind an 'invalid' index … The
//! recommended recovery method in such cases is to drop the index and try again". IF NOT EXISTS:
//! "Do not throw an error if a relation with the same name already exists" — it does not look at
//! indisvalid (verified on PostgreSQL 15: `NOTICE: relation "…" already exists, skipping` on an
//! invalid index). On a target the rule reads pg_index.indisvalid for the index's name.

use super::prelude::*;
use crate::analyze::context::same_relation;
use crate::sql::Statement;

pub const RULE: Rule = Rule {
    id: "LS135",
    name: "concurrently-if-not-exists",
    // Medium from the SQL alone: a failed or cancelled concurrent build is common (a duplicate, a
    // deadlock, a deploy killed halfway), and IF NOT EXISTS then turns it into a silent success
    // without a usable index (sql-createindex.html, "Building Indexes Concurrently": the
    // recommended recovery is to drop the index and try again). High when the target shows one.
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "CREATE INDEX CONCURRENTLY IF NOT EXISTS keeps an INVALID index from a failed build",
    trigger: "CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS name … when no earlier statement of the migration \
              drops an index of that name. High when the target already has an INVALID index of that name.",
    why: "A CONCURRENTLY build that fails or is cancelled (a duplicate key, a deadlock, a statement_timeout, a \
          deploy killed halfway) leaves the index behind, INVALID: not used by queries but still updated by every \
          write. Running the migration again, IF NOT EXISTS sees the name, prints a NOTICE and skips: the \
          migration succeeds and the index is never built.",
    fix: "DROP INDEX CONCURRENTLY IF EXISTS name; before CREATE INDEX CONCURRENTLY IF NOT EXISTS name … (each alone \
          in a migration that runs outside a transaction): a retry then starts from scratch. Afterwards check \
          pg_index.indisvalid.",
    bad: include_str!("../../../rules/LS135/bad.sql"),
    good: include_str!("../../../rules/LS135/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(NodeEnum::IndexStmt(index)) = cx.ast() else { return Vec::new() };
    if !index.concurrent || !index.if_not_exists || index.idxname.is_empty() {
        return Vec::new();
    }
    let Some(table) = index.relation.as_ref().map(ast::range_var) else { return Vec::new() };
    // The index lives in its table's schema.
    let name = RelationName::new(table.schema.as_deref(), &index.idxname);
    if cx.earlier_in_run().any(|statement| drops_index(statement, &name)) {
        return Vec::new();
    }
    let hit = Hit::new(format!(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {name}: if an earlier attempt failed, the INVALID index it left \
         is kept and this statement silently does nothing"
    ))
    .help(format!(
        "DROP INDEX CONCURRENTLY IF EXISTS {name}; then CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} … (each \
         alone in a migration that runs outside a transaction); afterwards check pg_index.indisvalid."
    ));
    match cx.facts().invalid_index(&name) {
        Some(invalid) => vec![hit.severity(Severity::High).verdict(
            Status::Confirmed,
            vec![format!(
                "the target has {}.{} on {} with pg_index.indisvalid = false (left by a failed or cancelled \
                     build): this statement would skip it",
                invalid.index.schema.as_deref().unwrap_or("public"),
                invalid.index.name,
                invalid.table
            )],
        )],
        None => vec![hit],
    }
}

/// `DROP INDEX [CONCURRENTLY] [IF EXISTS] … name …`.
fn drops_index(statement: &Statement, index: &RelationName) -> bool {
    let Some(NodeEnum::DropStmt(drop)) = &statement.ast else { return false };
    if pg_query::protobuf::ObjectType::try_from(drop.remove_type) != Ok(pg_query::protobuf::ObjectType::ObjectIndex) {
        return false;
    }
    drop.objects.iter().any(|object| {
        let Some(NodeEnum::List(list)) = &object.node else { return false };
        let parts = ast::strings(&list.items);
        let dropped = match parts.as_slice() {
            [name] => RelationName::new(None, name),
            [schema, name] => RelationName::new(Some(schema), name),
            _ => return false,
        };
        same_relation(&dropped, index)
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::analyze::Severity;

    const CREATE: &str = "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n";

    #[test]
    fn a_drop_first_makes_it_safe() {
        assert_eq!(hits("LS135", CREATE)[0].severity, Severity::Medium);
        let dropped = format!(
            "-- file: 001_a.up.sql\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;\n-- file: 002_b.up.sql\n{CREATE}"
        );
        assert!(!fires("LS135", &dropped));
        assert!(fires("LS135", &dropped.replace("IF EXISTS users_email_idx", "IF EXISTS other_idx")));
    }

    #[test]
    fn only_concurrently_if_not_exists() {
        assert!(!fires("LS135", "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"));
        assert!(!fires("LS135", "CREATE INDEX IF NOT EXISTS users_email_idx ON users (email);"));
    }
}
