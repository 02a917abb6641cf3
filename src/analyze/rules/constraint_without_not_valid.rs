//! LS115: FOREIGN KEY or CHECK added without NOT VALID.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS115",
    name: "constraint-without-not-valid",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "FOREIGN KEY or CHECK added without NOT VALID",
    trigger: "ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY or CHECK without NOT VALID on an existing table.",
    why: "PostgreSQL checks every existing row while holding the lock of the ADD: a CHECK holds ACCESS EXCLUSIVE \
          (no reads, no writes), a FOREIGN KEY holds SHARE ROW EXCLUSIVE on both tables (no writes to either) \
          for the whole scan.",
    fix: "ADD CONSTRAINT … NOT VALID (brief lock, no scan; new rows are checked from then on), then VALIDATE \
          CONSTRAINT in a later migration: it scans under SHARE UPDATE EXCLUSIVE, which lets reads and writes \
          through.",
    bad: include_str!("../../../rules/LS115/bad.sql"),
    good: include_str!("../../../rules/LS115/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for constraint in cmds.iter().filter(|c| ast::subtype(c) == At::AtAddConstraint).filter_map(|c| ast::constraint(c))
    {
        if constraint.skip_validation || !constraint.is_enforced {
            continue;
        }
        let name = if constraint.conname.is_empty() { String::new() } else { format!(" {}", constraint.conname) };
        let message = match ast::constr_type(constraint) {
            ConstrType::ConstrForeign => {
                let referenced = constraint.pktable.as_ref().map(ast::range_var);
                let both = referenced.map(|r| format!("{table} and {r}")).unwrap_or_else(|| table.to_string());
                format!(
                    "ADD FOREIGN KEY{name} without NOT VALID checks every row of {table} while holding SHARE ROW \
                     EXCLUSIVE on {both}: writes to them wait"
                )
            }
            ConstrType::ConstrCheck => format!(
                "ADD CHECK{name} without NOT VALID checks every row of {table} while holding ACCESS EXCLUSIVE: reads \
                 and writes wait"
            ),
            _ => continue,
        };
        hits.push(Hit::new(message).on(&table).expect(Expect::Scan));
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn check_constraints_and_not_enforced() {
        assert!(fires("LS115", "ALTER TABLE orders ADD CONSTRAINT q CHECK (quantity > 0);"));
        assert!(!fires("LS115", "ALTER TABLE orders ADD CONSTRAINT q CHECK (quantity > 0) NOT ENFORCED;"));
        assert!(!fires("LS115", "ALTER TABLE orders ADD CONSTRAINT q CHECK (quantity > 0) NOT VALID;"));
    }
}
