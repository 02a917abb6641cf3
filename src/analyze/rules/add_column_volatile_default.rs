//! LS111: ADD COLUMN with a default that makes PostgreSQL rewrite the table.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS111",
    name: "add-column-volatile-default",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "ADD COLUMN with a volatile DEFAULT (any DEFAULT before PostgreSQL 11)",
    trigger: "ALTER TABLE … ADD COLUMN … DEFAULT expr on an existing table, where expr is volatile (random(), \
              gen_random_uuid(), clock_timestamp(), nextval(), a user function) — or any non-NULL default when \
              judging for PostgreSQL 10.",
    why: "PostgreSQL 11+ stores a non-volatile default in the catalog and fills nothing; a volatile one must be \
          computed per row, so the whole table (and every index) is rewritten under ACCESS EXCLUSIVE: no reads, \
          no writes until it finishes.",
    fix: "Add the column without the default (or with a constant one), backfill it in batches, then SET DEFAULT \
          for new rows (SET DEFAULT does not touch existing rows).",
    bad: include_str!("../../../rules/LS111/bad.sql"),
    good: include_str!("../../../rules/LS111/good.sql"),
    check: Check::Statement(check),
};

/// Functions PostgreSQL marks VOLATILE that defaults commonly call.
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "setseed",
    "random_normal",
];

/// Functions commonly used in defaults that are STABLE or IMMUTABLE: stored, not computed per row.
const NOT_VOLATILE: &[&str] = &[
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_setting",
    "coalesce",
    "lower",
    "upper",
    "concat",
    "format",
    "to_jsonb",
    "to_json",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "json_build_array",
    "make_interval",
    "date_trunc",
    "timezone",
    "to_char",
    "to_timestamp",
    "length",
    "replace",
    "abs",
    "round",
    "greatest",
    "least",
    "nullif",
    "md5",
];

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for column in cmds.iter().filter(|c| ast::subtype(c) == At::AtAddColumn).filter_map(|c| ast::column_def(c)) {
        if super::add_column_not_null_without_default::SERIAL_TYPES.contains(&ast::type_name(column).as_str()) {
            continue; // LS112 reports serial columns.
        }
        let Some(default) = ast::column_constraints(column)
            .find(|c| ast::constr_type(c) == ConstrType::ConstrDefault)
            .and_then(|c| c.raw_expr.as_ref())
        else {
            continue;
        };
        if is_null_constant(default) {
            continue;
        }
        let functions = ast::functions_called(default);
        let volatile: Vec<&String> = functions.iter().filter(|f| VOLATILE.contains(&f.as_str())).collect();
        let unknown: Vec<&String> = functions
            .iter()
            .filter(|f| !VOLATILE.contains(&f.as_str()) && !NOT_VOLATILE.contains(&f.as_str()))
            .collect();
        let column = &column.colname;
        let hit = if cx.pg() < 11 {
            Hit::new(format!(
                "ADD COLUMN {column} with a DEFAULT rewrites {table} under ACCESS EXCLUSIVE on PostgreSQL {} (defaults \
                 are stored without a rewrite only from 11)",
                cx.pg()
            ))
        } else if let Some(function) = volatile.first() {
            Hit::new(format!(
                "ADD COLUMN {column} DEFAULT {function}(…) is volatile: every row of {table} is rewritten under ACCESS \
                 EXCLUSIVE"
            ))
        } else if let Some(function) = unknown.first() {
            Hit::new(format!(
                "ADD COLUMN {column} DEFAULT calls {function}(): if it is VOLATILE, every row of {table} is rewritten \
                 under ACCESS EXCLUSIVE"
            ))
            .severity(Severity::Medium)
        } else {
            continue;
        };
        hits.push(hit.on(&table).expect(Expect::Rewrite));
    }
    hits
}

fn is_null_constant(node: &pg_query::protobuf::Node) -> bool {
    matches!(&node.node, Some(NodeEnum::AConst(constant)) if constant.isnull)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn stable_defaults_are_free_from_postgresql_11() {
        let sql = "ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now();";
        assert!(!fires("LS111", sql));
        assert!(fires_on("LS111", 10, sql));
        assert!(!fires_on("LS111", 10, "ALTER TABLE users ADD COLUMN x int DEFAULT NULL;"));
        let found = hits("LS111", "ALTER TABLE users ADD COLUMN x int DEFAULT my_counter();");
        assert_eq!(found[0].severity, crate::analyze::Severity::Medium);
    }
}
