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
              that (INSERT … SELECT, COPY … FROM), that a trigger installed by the run already writes into (its \
              PL/pgSQL function inserts, updates or deletes there), when the index does not run in the same \
              transaction as the CREATE TABLE (a script run statement by statement, a migration outside a \
              transaction).",
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
                filled = ast::fills(statement, &table);
            } else if created.is_some() && ast::fills(statement, &table) {
                filled = true;
            }
        }
    }
    let Some((file, statement)) = created else { return Vec::new() };
    if !filled || (file == cx.file.index && cx.file.same_transaction(statement, cx.index)) {
        return Vec::new();
    }
    // Writes only wait if something writes: the application cannot know a table its release has
    // not shipped yet, but a trigger the run installed (a shadow table kept in sync) already does.
    let Some(writer) = trigger_writing_into(cx, &table) else { return Vec::new() };
    let name = if index.idxname.is_empty() { String::new() } else { format!(" {}", index.idxname) };
    // No relation on the hit: "created earlier in this run" is exactly what this rule is about,
    // so the engine's downgrade for new tables must not apply.
    vec![Hit::new(format!(
        "CREATE INDEX{name} without CONCURRENTLY on {table}, which this run created and filled in an earlier \
         transaction and which {writer} writes into: the writes (and the writes to the trigger's table) wait \
         for the whole build"
    ))]
    // No trace expectation: a dry-run reports no locks on tables the same run created (nobody else
    // can see them inside its one transaction), so the SHARE lock cannot be confirmed there.
}

/// "trigger crates_sync on crates": a trigger created earlier in the run whose function (created
/// earlier in the run, PL/pgSQL parsed with PostgreSQL's own parser) inserts, updates, deletes or
/// merges into `table`.
fn trigger_writing_into(cx: &Cx<'_>, table: &RelationName) -> Option<String> {
    let earlier: Vec<&Statement> = cx.earlier_in_run().collect();
    let writing: Vec<String> = earlier
        .iter()
        .filter_map(|statement| match &statement.ast {
            Some(NodeEnum::CreateFunctionStmt(function)) if function_writes_into(&statement.sql, table) => {
                ast::strings(&function.funcname).last().cloned()
            }
            _ => None,
        })
        .collect();
    earlier.iter().find_map(|statement| match &statement.ast {
        Some(NodeEnum::CreateTrigStmt(trigger)) => {
            let function = ast::strings(&trigger.funcname).last().cloned().unwrap_or_default();
            let on = trigger.relation.as_ref().map(ast::range_var)?;
            writing.contains(&function).then(|| format!("trigger {} on {on}", trigger.trigname))
        }
        _ => None,
    })
}

/// Whether a `CREATE FUNCTION` body runs a statement that writes into `table`: `INSERT INTO t`,
/// `UPDATE [ONLY] t`, `DELETE FROM [ONLY] t`, `MERGE INTO t`, read from the body's tokens as
/// PostgreSQL's own lexer splits them (pg_query::scan_tokens). (pg_query's PL/pgSQL tree comes
/// back as invalid JSON for such bodies in pg_query 18.1, so the lexer is the parser used here.)
fn function_writes_into(sql: &str, table: &RelationName) -> bool {
    let Ok(parsed) = pg_query::parse(sql, 0) else { return false };
    let Some(NodeEnum::CreateFunctionStmt(function)) =
        parsed.protobuf.stmts.first().and_then(|raw| raw.stmt.as_ref()?.node.as_ref())
    else {
        return false;
    };
    let body: Vec<String> = function
        .options
        .iter()
        .filter_map(|option| match option.node.as_ref()? {
            NodeEnum::DefElem(def) if def.defname == "as" => def.arg.as_ref(),
            _ => None,
        })
        .flat_map(|arg| match arg.node.as_ref() {
            Some(NodeEnum::List(list)) => ast::strings(&list.items),
            Some(NodeEnum::String(text)) => vec![text.sval.clone()],
            _ => Vec::new(),
        })
        .collect();
    body.iter().any(|body| writes_into(body, table))
}

fn writes_into(body: &str, table: &RelationName) -> bool {
    let Ok(tokens) = pg_query::scan_tokens(body) else { return false };
    let words: Vec<String> = tokens
        .iter()
        .filter_map(|t| body.get(t.start as usize..t.end as usize))
        .map(|w| w.trim_matches('"').to_ascii_lowercase())
        .collect();
    let names_table = |at: usize| -> bool {
        let (schema, name) = match (words.get(at), words.get(at + 1), words.get(at + 2)) {
            (Some(schema), Some(dot), Some(name)) if dot == "." => (Some(schema.as_str()), name.as_str()),
            (Some(name), _, _) => (None, name.as_str()),
            _ => return false,
        };
        same_relation(&RelationName::new(schema, name), table)
    };
    (0..words.len()).any(|i| {
        let next = |offset: usize| words.get(i + offset).map(String::as_str);
        let skip_only = |at: usize| if words.get(at).is_some_and(|w| w == "only") { at + 1 } else { at };
        match words[i].as_str() {
            "insert" | "merge" if next(1) == Some("into") => names_table(i + 2),
            "delete" if next(1) == Some("from") => names_table(skip_only(i + 2)),
            "update" => names_table(skip_only(i + 1)),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const SHADOW: &str = "SET lock_timeout = '2s';\n\
        CREATE TABLE orders_shadow (LIKE orders INCLUDING ALL);\n\
        CREATE FUNCTION sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO orders_shadow VALUES (NEW.*); RETURN NEW; END $$;\n\
        CREATE TRIGGER sync AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION sync();\n\
        INSERT INTO orders_shadow SELECT * FROM orders;\n\
        CREATE INDEX orders_shadow_user ON orders_shadow (user_id);\n";

    #[test]
    fn fires_when_a_trigger_writes_into_the_committed_table() {
        // psql -f: the table, the trigger and the fill have committed before the index.
        assert!(fires("LS137", &format!("-- file: 001_a.sql\n{SHADOW}")));
        // golang-migrate: one implicit transaction, nobody sees the table or the trigger yet.
        assert!(!fires("LS137", &format!("-- file: 001_a.up.sql\n{SHADOW}")));
        let concurrently = SHADOW.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY");
        assert!(!fires("LS137", &format!("-- file: 001_a.sql\n{concurrently}")));
    }

    #[test]
    fn needs_a_fill_and_a_writer() {
        let no_trigger: String =
            SHADOW.lines().filter(|l| !l.starts_with("CREATE TRIGGER")).map(|l| format!("{l}\n")).collect();
        assert!(
            !fires("LS137", &format!("-- file: 001_a.sql\n{no_trigger}")),
            "the application cannot know the table yet"
        );
        let no_fill: String = SHADOW
            .lines()
            .filter(|l| !l.starts_with("INSERT INTO orders_shadow SELECT"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(!fires("LS137", &format!("-- file: 001_a.sql\n{no_fill}")));
        let as_select: String = no_fill.replace("(LIKE orders INCLUDING ALL)", "AS SELECT * FROM orders");
        assert!(fires("LS137", &format!("-- file: 001_a.sql\n{as_select}")), "CREATE TABLE … AS fills it");
        let no_data = as_select.replace("FROM orders;", "FROM orders WITH NO DATA;");
        assert!(!fires("LS137", &format!("-- file: 001_a.sql\n{no_data}")), "WITH NO DATA creates it empty");
        let other_table = SHADOW.replace("INSERT INTO orders_shadow VALUES", "INSERT INTO audit_log VALUES");
        assert!(!fires("LS137", &format!("-- file: 001_a.sql\n{other_table}")), "the trigger writes elsewhere");
    }
}
