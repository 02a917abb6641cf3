//! LS133: ATTACH PARTITION without a validated CHECK constraint that proves the bound.
//!
//! PostgreSQL's documentation (sql-altertable.html, "ATTACH PARTITION"; ddl-partitioning.html,
//! "Partition Maintenance"): without a CHECK constraint matching the partition constraint the
//! table is scanned to validate it "while holding an ACCESS EXCLUSIVE lock on that partition";
//! the DEFAULT partition, if any, is scanned too and locked the same way; the parent takes SHARE
//! UPDATE EXCLUSIVE (PostgreSQL 12+, commit 898e5e32; ACCESS EXCLUSIVE before). The recommended
//! pattern is a CHECK created NOT VALID, validated, then ATTACH, then drop the CHECK.
//! A NOT VALID constraint is no proof (verified on PostgreSQL 15: the ATTACH still scans).

use super::prelude::*;
use crate::analyze::context::traced_is;
use crate::sql::Statement;

pub const RULE: Rule = Rule {
    id: "LS133",
    name: "attach-partition-without-check",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "ATTACH PARTITION without a validated CHECK constraint matching the bound",
    trigger: "ALTER TABLE parent ATTACH PARTITION child FOR VALUES … on an existing table, when no earlier \
              statement of the run added a validated CHECK constraint to child (one added NOT VALID counts only \
              once VALIDATE CONSTRAINT ran). lockscope does not prove that the CHECK implies the bound; when the \
              run is traced and the server still scanned the partition, the rule fires anyway.",
    why: "PostgreSQL reads every row of the new partition to prove it fits the bound, holding ACCESS EXCLUSIVE on \
          it (and on the DEFAULT partition, which it scans as well to prove no row there belongs to the new \
          partition); the parent takes SHARE UPDATE EXCLUSIVE (ACCESS EXCLUSIVE before PostgreSQL 12). A validated \
          CHECK constraint that implies the bound lets it skip the scan.",
    fix: "ALTER TABLE child ADD CONSTRAINT child_bound CHECK (<the bound as a condition on the partition key>) NOT \
          VALID; in a later migration ALTER TABLE child VALIDATE CONSTRAINT child_bound (SHARE UPDATE EXCLUSIVE: \
          reads and writes go on); then ATTACH PARTITION (no scan) and DROP CONSTRAINT child_bound. With a DEFAULT \
          partition, give it a CHECK that excludes the new bound the same way.",
    bad: include_str!("../../../rules/LS133/bad.sql"),
    good: include_str!("../../../rules/LS133/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((parent, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    let mut hits = Vec::new();
    for cmd in cmds.iter().filter(|c| ast::subtype(c) == At::AtAttachPartition) {
        let Some(NodeEnum::PartitionCmd(partition)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
        let Some(child) = partition.name.as_ref().map(ast::range_var) else { continue };
        let parent_lock = if cx.pg() >= 12 { "SHARE UPDATE EXCLUSIVE" } else { "ACCESS EXCLUSIVE" };
        let message = format!(
            "ATTACH PARTITION {child} reads every row of {child} under ACCESS EXCLUSIVE to prove it fits the bound \
             (and scans {parent}'s DEFAULT partition, if it has one); {parent} takes {parent_lock}"
        );
        if !has_validated_check(cx.earlier_in_run(), &child) {
            hits.push(Hit::new(message).on(&child).expect(Expect::Scan));
            continue;
        }
        // A CHECK was validated, but whether it implies the bound only the server knows.
        if let Some(trace) = cx.observed() {
            let scanned: Vec<String> = trace
                .scans
                .iter()
                .filter(|s| traced_is(&child, &s.relation))
                .map(|s| format!("read all {} rows of {}", s.rows / s.scans.max(1), s.relation))
                .collect();
            if !scanned.is_empty() {
                hits.push(
                    Hit::new(format!(
                        "{message}: the CHECK constraint added earlier does not imply the partition bound"
                    ))
                    .on(&child)
                    .expect(Expect::Scan)
                    .verdict(Status::Confirmed, scanned),
                );
            }
        }
    }
    hits
}

/// Whether earlier statements leave a validated CHECK constraint on `child`: added without NOT
/// VALID, or added NOT VALID and validated afterwards.
fn has_validated_check<'a>(earlier: impl Iterator<Item = &'a Statement>, child: &RelationName) -> bool {
    ast::validated_constraint(earlier, child, |constraint| ast::constr_type(constraint) == ConstrType::ConstrCheck)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const ATTACH: &str = "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO \
                          ('2027-01-01');\n";

    #[test]
    fn a_validated_check_avoids_the_finding() {
        assert!(fires("LS133", ATTACH));
        let not_valid = format!(
            "-- file: 001_a.up.sql\nALTER TABLE events_2026 ADD CONSTRAINT b CHECK (created_at >= '2026-01-01' AND \
             created_at < '2027-01-01') NOT VALID;\n-- file: 002_b.up.sql\n{ATTACH}"
        );
        assert!(fires("LS133", &not_valid), "NOT VALID and never validated is no proof");
        let validated = not_valid.replace(
            "-- file: 002_b.up.sql\n",
            "-- file: 002_b.up.sql\nALTER TABLE events_2026 VALIDATE CONSTRAINT b;\n",
        );
        assert!(!fires("LS133", &validated));
        // A CHECK on another table proves nothing about this one.
        assert!(fires("LS133", &validated.replace("ALTER TABLE events_2026", "ALTER TABLE events_2025")));
    }

    #[test]
    fn the_parent_lock_depends_on_the_version() {
        assert!(hits_on("LS133", 11, ATTACH)[0].message.contains("events takes ACCESS EXCLUSIVE"));
        assert!(hits_on("LS133", 12, ATTACH)[0].message.contains("events takes SHARE UPDATE EXCLUSIVE"));
    }

    #[test]
    fn detach_and_new_partitions_are_not_attach() {
        assert!(!fires("LS133", "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;"));
        assert!(!fires("LS133", "ALTER INDEX events_pkey ATTACH PARTITION events_2026_pkey;"));
    }
}
