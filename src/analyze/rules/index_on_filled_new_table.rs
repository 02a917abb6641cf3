//! LS137: a plain CREATE INDEX on a table this run created and filled, in a later transaction.
//!
//! CREATE INDEX without CONCURRENTLY takes SHARE on the table and reads every row
//! (sql-createindex.html: "a normal index build locks out writes (but not reads) on the table
//! until it's done"). A table created in this run is normally harmless (no one else can see it
//! until the run commits), but once the CREATE TABLE and the fill have committed — psql's
//! autocommit, a migration that runs outside a transaction, or a later migration — the table is
//! visible and may already be in use, and it is no longer empty.

use super::prelude::*;
use crate::analyze::context::same_relation;
use crate::sql::Statement;

pub const RULE: Rule = Rule {
    id: "LS137",
    name: "index-on-filled-new-table",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "CREATE INDEX without CONCURRENTLY on a table the run created and filled, after they committed",
    trigger: "CREATE [UNIQUE] INDEX without CONCURRENTLY on a table created earlier in the run and filled after \
              that (INSERT … SELECT, COPY … FROM), when the index does not run in the same transaction as the CREATE \
              TABLE (a later migration, a script run statement by statement, a migration outside a transaction).",
    why: "By the time the index is built the CREATE TABLE and the fill have committed: the table is visible, it is \
          not empty, and the application (or a backfill) may already write to it. CREATE INDEX holds SHARE while it \
          reads every row: those writes wait for the whole build.",
    fix: "Create the index in the same transaction as the table (right after CREATE TABLE, before the fill, is \
          cheapest), or build it with CREATE INDEX CONCURRENTLY, alone in a migration that runs outside a \
          transaction.",
    bad: include_str!("../../../rules/LS137/bad.sql"),
    good: include_str!("../../../rules/LS137/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(NodeEnum::IndexStmt(index)) = cx.ast() else { return Vec::new() };
    let Some(relation) = &index.relation else { return Vec::new() };
    if index.concurrent || !relation.inh {
        return Vec::new();
    }
    let table = ast::range_var(relation);
    // Where the table was created: (file, statement), the last time in the run.
    let subjects = cx.file.run.subjects;
    let mut created: Option<(usize, usize)> = None;
    let mut filled = false;
    for (f, subject) in subjects.iter().enumerate().take(cx.file.index + 1) {
        let end = if f == cx.file.index { cx.index } else { subject.statements.len() };
        for (s, statement) in subject.statements[..end.min(subject.statements.len())].iter().enumerate() {
            if ast::created_relations(statement).iter().any(|made| same_relation(made, &table)) {
                created = Some((f, s));
                filled = creates_filled(statement);
            } else if created.is_some() && fills(statement, &table) {
                filled = true;
            }
        }
    }
    let Some((file, statement)) = created else { return Vec::new() };
    if !filled || (file == cx.file.index && cx.file.same_transaction(statement, cx.index)) {
        return Vec::new();
    }
    let name = if index.idxname.is_empty() { String::new() } else { format!(" {}", index.idxname) };
    // No relation on the hit: "created earlier in this run" is exactly what this rule is about,
    // so the engine's downgrade for new tables must not apply.
    vec![Hit::new(format!(
        "CREATE INDEX{name} without CONCURRENTLY on {table}, which this run created and filled in an earlier \
         transaction: by now it is visible and not empty, and writes to it wait for the whole build"
    ))
    .expect(Expect::Lock(LockMode::Share))]
}

/// `CREATE TABLE … AS SELECT` (not `WITH NO DATA`) / `SELECT … INTO`: created full.
fn creates_filled(statement: &Statement) -> bool {
    match &statement.ast {
        Some(NodeEnum::CreateTableAsStmt(create)) => !create.into.as_ref().is_some_and(|into| into.skip_data),
        Some(NodeEnum::SelectStmt(_)) => true,
        _ => false,
    }
}

/// `INSERT INTO table … SELECT …` or `COPY table FROM …`.
fn fills(statement: &Statement, table: &RelationName) -> bool {
    match &statement.ast {
        Some(NodeEnum::InsertStmt(insert)) => {
            insert.select_stmt.as_ref().is_some_and(|select| match &select.node {
                Some(NodeEnum::SelectStmt(select)) => select.values_lists.is_empty(),
                _ => false,
            }) && insert.relation.as_ref().is_some_and(|r| same_relation(&ast::range_var(r), table))
        }
        Some(NodeEnum::CopyStmt(copy)) => {
            copy.is_from && copy.relation.as_ref().is_some_and(|r| same_relation(&ast::range_var(r), table))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const CREATE_AND_FILL: &str = "-- file: 001_a.up.sql\nCREATE TABLE order_totals (user_id bigint, total bigint);\n\
        INSERT INTO order_totals SELECT user_id, count(*) FROM orders GROUP BY user_id;\n";

    #[test]
    fn fires_only_across_transactions() {
        let later = format!(
            "{CREATE_AND_FILL}-- file: 002_b.up.sql\nCREATE INDEX order_totals_user ON order_totals (user_id);\n"
        );
        assert!(fires("LS137", &later));
        let same = format!("{CREATE_AND_FILL}CREATE INDEX order_totals_user ON order_totals (user_id);\n");
        assert!(!fires("LS137", &same), "one transaction: no one else sees the table yet");
        let concurrently = later.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY");
        assert!(!fires("LS137", &concurrently));
    }

    #[test]
    fn needs_a_fill() {
        let empty = "-- file: 001_a.up.sql\nCREATE TABLE order_totals (user_id bigint);\n\
                     -- file: 002_b.up.sql\nCREATE INDEX order_totals_user ON order_totals (user_id);\n";
        assert!(!fires("LS137", empty));
        let values = empty.replace("-- file: 002_b", "INSERT INTO order_totals VALUES (1);\n-- file: 002_b");
        assert!(!fires("LS137", &values), "a few literal rows are not a fill");
        let as_select = empty.replace("(user_id bigint)", "AS SELECT user_id FROM orders");
        assert!(fires("LS137", &as_select));
        assert!(!fires("LS137", &as_select.replace("FROM orders", "FROM orders WITH NO DATA")));
    }

    #[test]
    fn statements_outside_a_transaction_each_commit() {
        use crate::analyze::{Options, Subject};
        let statements = crate::sql::parse_file(
            std::path::Path::new("001_a.sql"),
            "CREATE TABLE t (a int);\nINSERT INTO t SELECT 1;\nCREATE INDEX t_a ON t (a);\n",
        )
        .unwrap();
        let subject = Subject {
            path: std::path::Path::new("001_a.sql"),
            version: "001",
            direction: crate::source::Direction::Up,
            statements: &statements,
            // psql -f: every statement commits on its own.
            model: crate::source::Runner::Psql.model(false, false),
            pairing: Default::default(),
        };
        let found = crate::analyze::evaluate(&[subject], None, &Options::default());
        assert!(found[0].all().any(|f| f.rule == "LS137"), "{:#?}", found[0]);
        // golang-migrate: the whole file is one implicit transaction, nobody sees the table.
        let subject = Subject { model: crate::source::Runner::GolangMigrate.model(false, false), ..subject };
        let found = crate::analyze::evaluate(&[subject], None, &Options::default());
        assert!(!found[0].all().any(|f| f.rule == "LS137"));
    }
}
