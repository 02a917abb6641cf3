//! `--reversible`: after a migration's up script, in the same transaction, run its down script
//! and then the up again, snapshotting the schema (and the data of the tables they name) before
//! up, after up and after down. Everything the round trip does is rolled back to a savepoint, so
//! the next migration starts from the state the first up left.

use super::snapshot::{self, Snapshot};
use super::{MigrationTrace, PlannedMigration, ReversibilityTrace, ScriptFailure, StatementTrace, Tracer};
use crate::error::Result;
use crate::sql::{Execution, TxControl};

const ROUND_TRIP_SAVEPOINT: &str = "lockscope_round_trip";

/// Migration index the down script runs under: relations the up created count as created by an
/// earlier migration, as they would be once the up has committed.
const DOWN_INDEX_OFFSET: usize = usize::MAX / 2;

/// Tables the up and down scripts name, as written: the tables whose data is compared.
fn named_tables(up: &PlannedMigration, down: &PlannedMigration) -> Vec<String> {
    let mut names: Vec<String> = up
        .statements
        .iter()
        .chain(&down.statements)
        .flat_map(|statement| statement.summary.targets.iter().map(|target| target.to_sql()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Why the round trip cannot run inside lockscope's transaction, when it cannot.
fn blocker(up: &PlannedMigration, down: &PlannedMigration) -> Option<String> {
    for script in [up, down] {
        if script.no_transaction {
            return Some(format!(
                "{} is declared to run outside a transaction, so lockscope cannot run and undo it in one",
                script.path.display()
            ));
        }
        for statement in &script.statements {
            if let Execution::NotInTransaction { reason } = &statement.summary.execution {
                return Some(format!(
                    "{}:{} ({}) cannot run inside a transaction block: {reason}",
                    script.path.display(),
                    statement.line,
                    statement.summary.kind
                ));
            }
        }
    }
    None
}

fn failure(script: &PlannedMigration, traced: &StatementTrace) -> Option<ScriptFailure> {
    traced.error.as_ref().map(|error| ScriptFailure {
        path: script.path.display().to_string(),
        line: traced.line,
        message: error.message.clone(),
    })
}

impl Tracer {
    /// The snapshot before up, when a round trip will follow.
    pub(super) async fn before_up(
        &mut self,
        up: &PlannedMigration,
        down: Option<&PlannedMigration>,
    ) -> Result<Option<Snapshot>> {
        let Some(down) = down else { return Ok(None) };
        if blocker(up, down).is_some() {
            return Ok(None);
        }
        let tables = named_tables(up, down);
        snapshot::take(&mut self.conn, &tables, self.in_transaction).await.map(Some)
    }

    /// Runs down and up again after `up`, and records what each left.
    pub(super) async fn round_trip(
        &mut self,
        up: &PlannedMigration,
        up_trace: &MigrationTrace,
        down: Option<&PlannedMigration>,
        before_up: Option<Snapshot>,
    ) -> Result<ReversibilityTrace> {
        let Some(down) = down else {
            let mut trace = ReversibilityTrace::skipped("the migration has no down script", None);
            trace.missing_down = true;
            return Ok(trace);
        };
        let down_path = Some(down.path.display().to_string());
        if let Some(reason) = blocker(up, down) {
            return Ok(ReversibilityTrace::skipped(reason, down_path));
        }
        let not_executed = up
            .statements
            .iter()
            .zip(&up_trace.statements)
            .find(|(planned, traced)| {
                !traced.executed && traced.error.is_none() && planned.summary.tx == TxControl::None
            })
            .map(|(_, traced)| traced);
        if let Some(statement) = not_executed {
            return Ok(ReversibilityTrace::skipped(
                format!(
                    "{}:{} was not executed ({}), so the round trip would not start from what the up really does",
                    up.path.display(),
                    statement.line,
                    statement.not_executed_reason.as_deref().unwrap_or("not run")
                ),
                down_path,
            ));
        }
        let Some(before_up) = before_up else {
            return Ok(ReversibilityTrace::skipped("no snapshot was taken before up", down_path));
        };

        let tables = named_tables(up, down);
        self.execute_control(&format!("SAVEPOINT {ROUND_TRIP_SAVEPOINT}")).await?;
        let after_up = snapshot::take(&mut self.conn, &tables, true).await?;
        let up_index = self.migration_index;
        self.migration_index = DOWN_INDEX_OFFSET + up_index;

        let mut trace = ReversibilityTrace::skipped("", down_path);
        trace.skipped = None;
        for statement in &down.statements {
            let traced = self.trace_statement(down, statement).await?;
            trace.down_failed = failure(down, &traced);
            trace.down.push(traced);
            if trace.down_failed.is_some() {
                break;
            }
        }
        let mut after_down = None;
        if trace.down_failed.is_none() {
            // The savepoint rollback below also closes a BEGIN the down left open.
            self.user_transaction = false;
            after_down = Some(snapshot::take(&mut self.conn, &tables, true).await?);
            for statement in &up.statements {
                let traced = self.trace_statement(up, statement).await?;
                trace.reapply_failed = failure(up, &traced);
                if trace.reapply_failed.is_some() {
                    break;
                }
            }
        }
        self.user_transaction = false;
        self.migration_index = up_index;
        self.execute_control(&format!(
            "ROLLBACK TO SAVEPOINT {ROUND_TRIP_SAVEPOINT}; RELEASE SAVEPOINT {ROUND_TRIP_SAVEPOINT}"
        ))
        .await?;

        trace.data_not_compared = before_up.data_skipped.clone();
        trace.before_up = Some(before_up);
        trace.after_up = Some(after_up);
        trace.after_down = after_down;
        Ok(trace)
    }
}
