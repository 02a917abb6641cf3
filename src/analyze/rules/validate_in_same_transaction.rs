//! LS116: VALIDATE CONSTRAINT in the same transaction as the NOT VALID add.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS116",
    name: "validate-in-same-transaction",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "VALIDATE CONSTRAINT in the same transaction as its NOT VALID add",
    trigger: "ALTER TABLE … VALIDATE CONSTRAINT c in the same transaction (same script, no COMMIT between) as the \
              ALTER TABLE … ADD CONSTRAINT c … NOT VALID that created it.",
    why: "Locks are held to the end of the transaction: the ADD's lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW \
          EXCLUSIVE on both tables for a FOREIGN KEY) is still held while VALIDATE reads every row, so NOT VALID \
          saves nothing.",
    fix: "Put VALIDATE CONSTRAINT in its own, later migration (its own transaction): it then scans under SHARE \
          UPDATE EXCLUSIVE only, which lets reads and writes through.",
    bad: include_str!("../../../rules/LS116/bad.sql"),
    good: include_str!("../../../rules/LS116/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    let mut hits = Vec::new();
    for cmd in cmds.iter().filter(|c| ast::subtype(c) == At::AtValidateConstraint) {
        for (index, earlier) in cx.before().iter().enumerate() {
            if !cx.file.same_transaction(index, cx.index) {
                continue;
            }
            let Some((altered, earlier_cmds)) = ast::alter_table(earlier) else { continue };
            if !crate::analyze::context::same_relation(&altered, &table) {
                continue;
            }
            let added = earlier_cmds
                .iter()
                .filter(|c| ast::subtype(c) == At::AtAddConstraint)
                .filter_map(|c| ast::constraint(c))
                .find(|c| c.skip_validation && c.conname == cmd.name);
            if let Some(added) = added {
                let lock = if ast::constr_type(added) == ConstrType::ConstrForeign {
                    "SHARE ROW EXCLUSIVE"
                } else {
                    "ACCESS EXCLUSIVE"
                };
                hits.push(
                    Hit::new(format!(
                        "VALIDATE CONSTRAINT {} runs in the same transaction as its NOT VALID add (line {}): the \
                         add's {lock} on {table} is held while every row is checked",
                        cmd.name, earlier.line
                    ))
                    .on(&table)
                    .expect(Expect::Scan),
                );
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn only_the_same_transaction_counts() {
        let add = "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;";
        let validate = "ALTER TABLE orders VALIDATE CONSTRAINT fk;";
        assert!(fires("LS116", &format!("BEGIN;\n{add}\n{validate}\nCOMMIT;")));
        assert!(!fires("LS116", &format!("BEGIN;\n{add}\nCOMMIT;\nBEGIN;\n{validate}\nCOMMIT;")));
        assert!(!fires("LS116", validate));
    }
}
