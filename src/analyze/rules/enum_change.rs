//! LS128: changes to enum types that break running code or fail in a transaction.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS128",
    name: "enum-change",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Enum value renamed, or added where it cannot be (used)",
    trigger: "ALTER TYPE … RENAME VALUE; ALTER TYPE … ADD VALUE inside a transaction before PostgreSQL 12; ALTER \
              TYPE … ADD VALUE followed, in the same transaction, by a statement that uses the new value.",
    why: "Code still running the previous release reads and writes the old label and fails once it is renamed. \
          Before PostgreSQL 12, ADD VALUE cannot run in a transaction block; from 12 it can, but the new value \
          cannot be used until the transaction commits (ERROR: unsafe use of new value). Values can never be \
          removed without recreating the type.",
    fix: "Only ever add values, in a migration of their own (PostgreSQL 11 and older: outside a transaction), and \
          use them from a later migration or release. To rename, add the new value, migrate rows in batches, and \
          stop writing the old one. For values that change often, use a lookup table or a CHECK constraint.",
    bad: include_str!("../../../rules/LS128/bad.sql"),
    good: include_str!("../../../rules/LS128/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(NodeEnum::AlterEnumStmt(alter)) = cx.ast() else { return Vec::new() };
    let type_name = ast::strings(&alter.type_name).join(".");
    if !alter.old_val.is_empty() {
        return vec![Hit::new(format!(
            "RENAME VALUE '{}' TO '{}' on {type_name}: code still using '{}' fails until it is redeployed",
            alter.old_val, alter.new_val, alter.old_val
        ))];
    }
    let in_transaction = cx.file.in_transaction_block(cx.index);
    if cx.pg() < 12 && in_transaction {
        return vec![Hit::new(format!(
            "ADD VALUE '{}' to {type_name} cannot run inside a transaction block on PostgreSQL {}",
            alter.new_val,
            cx.pg()
        ))
        .severity(Severity::High)
        .expect(Expect::Error)];
    }
    let literal = format!("'{}'", alter.new_val.replace('\'', "''"));
    let user = cx
        .after()
        .iter()
        .enumerate()
        .find(|(offset, s)| cx.file.same_transaction(cx.index, cx.index + 1 + offset) && s.sql.contains(&literal));
    match user {
        Some((_, statement)) => vec![Hit::new(format!(
            "the new value {literal} of {type_name} is used at line {} in the same transaction: PostgreSQL refuses \
             (unsafe use of new value) until the ADD VALUE commits",
            statement.line
        ))
        .severity(Severity::High)],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn add_value_depends_on_version_and_use() {
        let add = "SET lock_timeout = '1s';\nALTER TYPE order_state ADD VALUE 'refunded';";
        assert!(!fires("LS128", add));
        assert!(fires_on("LS128", 11, add));
        assert!(fires("LS128", "BEGIN;\nALTER TYPE order_state ADD VALUE 'refunded';\nUPDATE orders SET state = 'refunded' WHERE id = 1;\nCOMMIT;"));
    }
}
