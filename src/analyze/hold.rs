//! How long each statement's locks are held when the migration's own tool applies it: from the
//! statement's start to the end of the transaction the runner commits (the statement itself under
//! autocommit). One number, used by every report format; the dry-run's own hold (to its final
//! rollback) stays in `MigrationTrace::transaction_ms`, labelled as such.

use crate::plan::PlannedMigration;
use crate::trace::MigrationTrace;

use super::context::{transaction_blocks, Block};
use super::MigrationAssessment;

/// Fills `execution`, `lock_hold_ms` and `runner_transaction` of `judged`, the assessment of
/// `migration` (traced from `plan`).
pub fn apply(plan: &PlannedMigration, migration: &MigrationTrace, judged: &mut MigrationAssessment) {
    let blocks = transaction_blocks(&plan.statements, plan.model);
    // One number per transaction of the file, in order: statements with the same number commit together.
    let mut seen: Vec<Block> = Vec::new();
    let numbers: Vec<usize> = blocks
        .iter()
        .map(|block| match seen.iter().position(|b| b == block) {
            Some(number) => number,
            None => {
                seen.push(*block);
                seen.len() - 1
            }
        })
        .collect();
    let groups: Vec<Option<usize>> = migration.statements.iter().map(|s| numbers.get(s.index).copied()).collect();
    let ends: Vec<f64> = migration.statements.iter().map(|s| s.started_ms + s.duration_ms.unwrap_or(0.0)).collect();
    for position in 0..migration.statements.len() {
        let statement = &migration.statements[position];
        let Some(transaction) = groups[position] else { continue };
        let end = (position..migration.statements.len())
            .filter(|&later| groups[later] == Some(transaction))
            .map(|later| ends[later])
            .fold(ends[position], f64::max);
        let hold = (statement.executed && !statement.locks.is_empty())
            .then(|| ((end - statement.started_ms).max(0.0) * 1000.0).round() / 1000.0);
        if let Some(verdict) = judged.statements.get_mut(position) {
            verdict.runner_transaction = Some(transaction);
            verdict.lock_hold_ms = hold;
        }
    }
    judged.execution = Some(plan.model);
    judged.lock_hold_ms = judged.statements.iter().filter_map(|s| s.lock_hold_ms).reduce(f64::max);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Direction, Runner};
    use crate::trace::{LockSource, RelationLock, StatementTrace};

    fn judged(plan: &PlannedMigration, migration: &MigrationTrace) -> MigrationAssessment {
        let mut judged = MigrationAssessment {
            statements: vec![Default::default(); migration.statements.len()],
            ..MigrationAssessment::default()
        };
        apply(plan, migration, &mut judged);
        judged
    }

    fn traced(sql: &str, runner: Runner, durations: &[f64]) -> (PlannedMigration, MigrationTrace) {
        let statements = crate::sql::parse_file(std::path::Path::new("m.sql"), sql).expect("parse");
        let plan = PlannedMigration {
            path: "m.sql".into(),
            version: "1".into(),
            name: "m".into(),
            direction: Direction::Up,
            model: runner.model(false, false),
            no_transaction: false,
            statements: statements.clone(),
        };
        let mut started = 0.0;
        let statements = statements
            .iter()
            .zip(durations)
            .map(|(statement, ms)| {
                let trace = StatementTrace {
                    executed: true,
                    started_ms: started,
                    duration_ms: Some(*ms),
                    locks: vec![RelationLock {
                        relation: "public.t".into(),
                        relkind: "table".into(),
                        mode: crate::locks::LockMode::AccessExclusive,
                        source: LockSource::Observed,
                    }],
                    ..StatementTrace::from_statement(statement)
                };
                started += ms;
                trace
            })
            .collect();
        let migration = MigrationTrace {
            path: "m.sql".into(),
            version: "1".into(),
            name: "m".into(),
            direction: Direction::Up,
            statements,
            transaction_ms: Some(10_000.0),
            locks: Vec::new(),
            reversibility: None,
        };
        (plan, migration)
    }

    const SQL: &str = "ALTER TABLE t ADD COLUMN a int;\nUPDATE t SET a = 1;\nALTER TABLE t ADD COLUMN b int;\n";

    #[test]
    fn autocommit_holds_only_for_the_statement() {
        let (plan, migration) = traced(SQL, Runner::Psql, &[1.0, 500.0, 2.0]);
        let judged = judged(&plan, &migration);
        let holds: Vec<Option<f64>> = judged.statements.iter().map(|s| s.lock_hold_ms).collect();
        assert_eq!(holds, vec![Some(1.0), Some(500.0), Some(2.0)]);
        assert_eq!(judged.lock_hold_ms, Some(500.0));
    }

    #[test]
    fn one_transaction_holds_to_its_end_not_to_the_dry_runs_rollback() {
        let (plan, migration) = traced(SQL, Runner::GolangMigrate, &[1.0, 500.0, 2.0]);
        let judged = judged(&plan, &migration);
        let holds: Vec<Option<f64>> = judged.statements.iter().map(|s| s.lock_hold_ms).collect();
        assert_eq!(holds, vec![Some(503.0), Some(502.0), Some(2.0)]);
        assert_eq!(judged.lock_hold_ms, Some(503.0));
        assert!(judged.statements.iter().all(|s| s.runner_transaction == Some(0)));
    }
}
