//! LS114: SET NOT NULL that must read the whole table to prove it.

use super::prelude::*;
use crate::sql::Statement;

pub const RULE: Rule = Rule {
    id: "LS114",
    name: "set-not-null",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "SET NOT NULL without a validated CHECK (col IS NOT NULL) first",
    trigger: "ALTER TABLE … ALTER COLUMN … SET NOT NULL (or, on PostgreSQL 18, ADD CONSTRAINT … NOT NULL col \
              without NOT VALID) on an existing table, when no earlier statement of the run added and validated a \
              CHECK (col IS NOT NULL) — or, on 18, a NOT NULL … NOT VALID constraint — on it.",
    why: "PostgreSQL reads every row to prove there is no NULL, holding ACCESS EXCLUSIVE: no reads, no writes \
          until the scan finishes. From PostgreSQL 12 a validated CHECK (col IS NOT NULL) is proof enough and \
          the scan is skipped.",
    fix: "PostgreSQL 12+: ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; in a later migration VALIDATE \
          CONSTRAINT c (SHARE UPDATE EXCLUSIVE: reads and writes go on); then SET NOT NULL (no scan) and drop the \
          CHECK. PostgreSQL 18: ADD CONSTRAINT c NOT NULL col NOT VALID, then VALIDATE CONSTRAINT c in a later \
          migration.",
    bad: include_str!("../../../rules/LS114/bad.sql"),
    good: include_str!("../../../rules/LS114/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for cmd in cmds {
        let column = match ast::subtype(cmd) {
            At::AtSetNotNull => cmd.name.clone(),
            At::AtAddConstraint => match ast::constraint(cmd) {
                Some(c) if ast::constr_type(c) == ConstrType::ConstrNotnull && !c.skip_validation => {
                    match ast::strings(&c.keys).first() {
                        Some(column) => column.clone(),
                        None => continue,
                    }
                }
                _ => continue,
            },
            _ => continue,
        };
        if cx.pg() >= 12 && proven_not_null(cx.earlier_in_run(), &table, &column) {
            continue;
        }
        hits.push(
            Hit::new(format!(
                "SET NOT NULL on {table}.{column} reads every row under ACCESS EXCLUSIVE to prove there is no NULL"
            ))
            .on(&table)
            .expect(Expect::Scan)
            .help(help(cx.pg(), &table, &column)),
        );
    }
    hits
}

fn help(pg: u32, table: &RelationName, column: &str) -> String {
    let name = format!("{}_{column}_not_null", table.name);
    let check_path = format!(
        "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IS NOT NULL) NOT VALID; then, in a later \
         migration, ALTER TABLE {table} VALIDATE CONSTRAINT {name} (reads and writes go on); then SET NOT NULL (no \
         scan) and DROP CONSTRAINT {name}."
    );
    match pg {
        ..=11 => format!(
            "Before PostgreSQL 12 SET NOT NULL always scans: keep a validated CHECK ({column} IS NOT NULL) instead of \
             NOT NULL ({check_path}), or run it while {table} is small or quiet, with a short lock_timeout."
        ),
        12..=17 => check_path,
        _ => format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} NOT NULL {column} NOT VALID; then, in a later migration, \
             ALTER TABLE {table} VALIDATE CONSTRAINT {name} (reads and writes go on). Or: {check_path}"
        ),
    }
}

/// Whether statements earlier in the run leave a validated proof that `column` has no NULL: a
/// CHECK (column IS NOT NULL) added validated, or added NOT VALID and validated afterwards; on
/// PostgreSQL 18 also a NOT NULL … NOT VALID constraint validated afterwards.
fn proven_not_null<'a>(earlier: impl Iterator<Item = &'a Statement>, table: &RelationName, column: &str) -> bool {
    ast::validated_constraint(earlier, table, |constraint| {
        ast::check_is_not_null_column(constraint).as_deref() == Some(column)
            || (ast::constr_type(constraint) == ConstrType::ConstrNotnull
                && ast::strings(&constraint.keys).first().map(String::as_str) == Some(column))
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const CHECK_THEN_SET: &str =
        "-- file: 001_a.up.sql\nALTER TABLE users ADD CONSTRAINT c CHECK (name IS NOT NULL) NOT VALID;\n\
        -- file: 002_b.up.sql\nALTER TABLE users VALIDATE CONSTRAINT c;\n\
        -- file: 003_c.up.sql\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n";

    #[test]
    fn a_validated_check_avoids_the_scan_from_postgresql_12() {
        assert!(!fires_on("LS114", 12, CHECK_THEN_SET));
        assert!(fires_on("LS114", 11, CHECK_THEN_SET));
        // Added NOT VALID and never validated: no proof.
        assert!(fires("LS114", &CHECK_THEN_SET.replace("VALIDATE CONSTRAINT c", "VALIDATE CONSTRAINT other")));
    }

    #[test]
    fn postgresql_18_not_null_constraints() {
        assert!(fires("LS114", "ALTER TABLE users ADD CONSTRAINT n NOT NULL name;"));
        assert!(!fires("LS114", "ALTER TABLE users ADD CONSTRAINT n NOT NULL name NOT VALID;"));
        let help = &hits_on("LS114", 18, "ALTER TABLE users ALTER COLUMN name SET NOT NULL;")[0].help;
        assert!(help.contains("NOT NULL name NOT VALID"), "{help}");
        let help = &hits_on("LS114", 15, "ALTER TABLE users ALTER COLUMN name SET NOT NULL;")[0].help;
        assert!(
            help.contains("CHECK (name IS NOT NULL) NOT VALID") && !help.contains("NOT NULL name NOT VALID"),
            "{help}"
        );
    }
}
