//! LS107: CREATE INDEX without CONCURRENTLY on a table that already exists.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS107",
    name: "create-index-without-concurrently",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "CREATE INDEX without CONCURRENTLY on an existing table",
    trigger: "CREATE [UNIQUE] INDEX without CONCURRENTLY on a table that exists before the migration.",
    why: "CREATE INDEX holds SHARE on the table while it reads every row and sorts them: INSERT, UPDATE and DELETE \
          wait for the whole build (reads continue), and so does every session queued behind them.",
    fix: "CREATE INDEX CONCURRENTLY …, alone in a migration that runs outside a transaction; it takes SHARE \
          UPDATE EXCLUSIVE, which lets reads and writes through. If it fails it leaves an INVALID index: drop it \
          (DROP INDEX CONCURRENTLY IF EXISTS) and retry — without IF NOT EXISTS on the CREATE, which would keep \
          the INVALID index and succeed silently. For a partitioned table: CREATE INDEX ON ONLY the parent, \
          CREATE INDEX CONCURRENTLY on each partition, then ALTER INDEX … ATTACH PARTITION.",
    bad: include_str!("../../../rules/LS107/bad.sql"),
    good: include_str!("../../../rules/LS107/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(NodeEnum::IndexStmt(index)) = cx.ast() else { return Vec::new() };
    let Some(relation) = &index.relation else { return Vec::new() };
    // `ON ONLY parent` builds nothing: it is the first step of the partitioned recipe.
    if index.concurrent || !relation.inh {
        return Vec::new();
    }
    let table = ast::range_var(relation);
    if !cx.existing(&table) {
        return Vec::new();
    }
    let name = if index.idxname.is_empty() { String::new() } else { format!(" {}", index.idxname) };
    vec![Hit::new(format!(
        "CREATE INDEX{name} without CONCURRENTLY holds SHARE on {table} while it reads every row: writes wait for \
         the whole build"
    ))
    .on(&table)
    .expect(Expect::Lock(LockMode::Share))]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn tables_created_in_the_run_are_fine() {
        assert!(!fires("LS107", "CREATE TABLE IF NOT EXISTS t (a int);\nCREATE INDEX IF NOT EXISTS t_a ON t (a);"));
        assert!(!fires("LS107", "CREATE INDEX IF NOT EXISTS e_idx ON ONLY events (id);"));
    }
}
