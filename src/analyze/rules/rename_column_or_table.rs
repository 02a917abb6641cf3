//! LS118: RENAME of a column or table that running code uses.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS118",
    name: "rename-column-or-table",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "RENAME COLUMN / RENAME TABLE",
    trigger: "ALTER TABLE … RENAME COLUMN … or ALTER TABLE/VIEW … RENAME TO … on a relation that exists before the \
              migration.",
    why: "The rename itself is quick (ACCESS EXCLUSIVE for an instant), but the application version still running \
          during and after the deploy uses the old name: its queries fail until every instance runs the new code.",
    fix: "Expand and contract: add the new column (or a view with the new name), write both, backfill, move \
          readers to the new name, and drop the old one in a later release.",
    bad: include_str!("../../../rules/LS118/bad.sql"),
    good: include_str!("../../../rules/LS118/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(NodeEnum::RenameStmt(rename)) = cx.ast() else { return Vec::new() };
    let Some(relation) = rename.relation.as_ref().map(ast::range_var) else { return Vec::new() };
    if !cx.existing(&relation) {
        return Vec::new();
    }
    use pg_query::protobuf::ObjectType;
    // After a rename the trace names the relation by its new name, so the lock on the table is
    // only checked for column renames; a renamed table breaks old code whatever the lock showed.
    let renames_relation = ObjectType::try_from(rename.rename_type) != Ok(ObjectType::ObjectColumn);
    let message = match ObjectType::try_from(rename.rename_type) {
        Ok(ObjectType::ObjectColumn) => format!(
            "RENAME COLUMN {} TO {} on {relation}: code still using the old name fails until it is redeployed",
            rename.subname, rename.newname
        ),
        Ok(
            ObjectType::ObjectTable
            | ObjectType::ObjectView
            | ObjectType::ObjectMatview
            | ObjectType::ObjectForeignTable,
        ) => {
            format!(
                "RENAME {relation} TO {}: code still using the old name fails until it is redeployed",
                rename.newname
            )
        }
        _ => return Vec::new(),
    };
    let expect = if renames_relation { Expect::Nothing } else { Expect::Lock(LockMode::AccessExclusive) };
    vec![Hit::new(message).on(&relation).expect(expect)]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn renames_of_indexes_and_constraints_are_fine() {
        assert!(fires("LS118", "ALTER TABLE users RENAME TO people;"));
        assert!(fires("LS118", "ALTER VIEW v RENAME TO w;"));
        assert!(!fires("LS118", "ALTER INDEX users_pkey RENAME TO users_pk;"));
        assert!(!fires("LS118", "ALTER TABLE users RENAME CONSTRAINT a TO b;"));
    }
}
