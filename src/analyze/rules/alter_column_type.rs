//! LS113: ALTER COLUMN … TYPE — a rewrite under ACCESS EXCLUSIVE unless PostgreSQL can relabel the
//! column; and a new type for every application that reads it.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS113",
    name: "alter-column-type",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "ALTER COLUMN TYPE that rewrites the table (and changes what applications read)",
    trigger: "ALTER TABLE … ALTER COLUMN … TYPE on an existing table. Without a trace lockscope cannot know the old \
              type: widening varchar/numeric/varbit or varchar → text is reported as low (usually no rewrite), \
              anything else as a rewrite. A trace says which it was: a type change that did not rewrite is \
              reported quietly (low, not observed).",
    why: "Unless the old and new types are binary compatible, PostgreSQL copies every row and rebuilds every index \
          of the table under ACCESS EXCLUSIVE: no reads, no writes until it finishes. Either way, applications \
          that read the column (drivers, ORMs, caches) get values of a new type.",
    fix: "Expand and contract: add a column of the new type, backfill it in batches, keep both in sync (trigger or \
          application), switch readers, then drop the old column. Widening varchar(n), numeric(p,s) or varbit, \
          or varchar → text, needs no rewrite.",
    bad: include_str!("../../../rules/LS113/bad.sql"),
    good: include_str!("../../../rules/LS113/good.sql"),
    check: Check::Statement(check),
};

/// Target types to which a widening change is usually a relabel, not a rewrite.
const MAYBE_RELABEL: &[&str] = &["text", "varchar", "numeric", "varbit", "citext"];

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for cmd in cmds.iter().filter(|c| ast::subtype(c) == At::AtAlterColumnType) {
        let Some(column) = ast::column_def(cmd) else { continue };
        let new_type = written_type(column);
        let using = column.raw_default.is_some();
        let change = format!("ALTER COLUMN {} TYPE {new_type}", cmd.name);
        let hit = match cx.observed() {
            Some(trace) => {
                let rewrites: Vec<String> = trace
                    .rewrites
                    .iter()
                    .filter(|r| r.relkind.ends_with("table") && crate::analyze::context::traced_is(&table, &r.relation))
                    .map(|r| format!("rewrote {} (~{:.0} rows)", r.relation, r.rows_estimate.max(0.0)))
                    .collect();
                if rewrites.is_empty() {
                    Hit::new(format!(
                        "{change} changed the type without rewriting {table} (applications reading the column still \
                         see a new type)"
                    ))
                    .verdict(Status::NotObserved, vec![format!("{table} was not rewritten")])
                } else {
                    Hit::new(format!("{change} rewrote {table} and its indexes under ACCESS EXCLUSIVE"))
                        .verdict(Status::Confirmed, rewrites)
                }
            }
            None if !using && MAYBE_RELABEL.contains(&ast::type_name(column).as_str()) => Hit::new(format!(
                "{change}: no rewrite if it only widens (varchar(n) → varchar(m ≥ n) or text, numeric(p,s) → \
                 numeric(q ≥ p,s)); any other change rewrites {table} under ACCESS EXCLUSIVE"
            ))
            .severity(Severity::Low),
            None => Hit::new(format!(
                "{change} rewrites {table} and its indexes under ACCESS EXCLUSIVE (unless the old type is binary \
                 compatible); applications reading the column see a new type"
            )),
        };
        hits.push(hit.on(&table).expect(Expect::Rewrite));
    }
    hits
}

/// The type as written: `varchar(200)`, `bigint[]`.
fn written_type(column: &pg_query::protobuf::ColumnDef) -> String {
    let name = ast::type_name(column);
    let modifiers = column
        .type_name
        .as_ref()
        .map(|t| {
            t.typmods
                .iter()
                .filter_map(|m| match &m.node {
                    Some(NodeEnum::AConst(c)) => match &c.val {
                        Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let name = match name.as_str() {
        "int8" => "bigint".to_string(),
        "int4" => "integer".to_string(),
        "int2" => "smallint".to_string(),
        "float8" => "double precision".to_string(),
        "bool" => "boolean".to_string(),
        _ => name,
    };
    let mut written = if modifiers.is_empty() { name } else { format!("{name}({})", modifiers.join(",")) };
    if ast::is_array(column) {
        written.push_str("[]");
    }
    written
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::analyze::Severity;

    #[test]
    fn widening_is_low_and_anything_else_high() {
        let widen = hits("LS113", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);");
        assert_eq!(widen[0].severity, Severity::Low);
        assert!(widen[0].message.contains("TYPE varchar(200)"), "{}", widen[0].message);
        let using = hits("LS113", "ALTER TABLE orders ALTER COLUMN note TYPE text USING upper(note);");
        assert_eq!(using[0].severity, Severity::High);
        let bigint = hits("LS113", "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;");
        assert!(bigint[0].message.contains("TYPE bigint rewrites orders"), "{}", bigint[0].message);
    }
}
