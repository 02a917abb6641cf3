//! `lockscope check`: files → plan → trace → findings → report, with the safety checks that must
//! pass before anything touches a database.

use std::io::{IsTerminal, Write};

use crate::analyze;
use crate::cli::CheckArgs;
use crate::db::{self, ephemeral::EphemeralServer, Target};
use crate::error::{Error, Location, Result};
use crate::report;
use crate::source::{self, Direction};
use crate::sql::{self, Execution};
use crate::trace::{self, Mode, Outcome, PlannedMigration, TraceOptions, TracedBackend};

/// Reads, orders and parses the migrations for `direction`. Any problem is reported before a
/// database is contacted; statements that must never run stop everything here.
pub fn plan(paths: &[std::path::PathBuf], direction: Direction) -> Result<Vec<PlannedMigration>> {
    let mut migrations = source::discover(paths)?;
    if direction == Direction::Down {
        migrations.reverse();
    }
    let mut plan = Vec::new();
    for migration in &migrations {
        let Some(file) = migration.file(direction) else {
            let other = migration.file(match direction {
                Direction::Up => Direction::Down,
                Direction::Down => Direction::Up,
            });
            let path = other.map(|f| f.path.clone()).unwrap_or_default();
            let wanted = match direction {
                Direction::Up => "up",
                Direction::Down => "down",
            };
            return Err(Error::input(
                Location::file(&path),
                format!("migration {} has no {wanted} file", migration.version),
            ));
        };
        let statements = sql::parse_file(&file.path, &file.text)?;
        for statement in &statements {
            if let Execution::Forbidden { reason } = &statement.summary.execution {
                return Err(Error::input(
                    Location::new(&file.path, statement.line, statement.column),
                    format!("refusing to run {}: {reason}; nothing was executed", statement.summary.kind),
                ));
            }
        }
        plan.push(PlannedMigration {
            path: file.path.clone(),
            version: migration.version.clone(),
            name: migration.name.clone(),
            direction,
            statements,
            no_transaction: migration.no_transaction,
        });
    }
    Ok(plan)
}

/// What `check` produced: the exit code and, when the run failed, the error to print.
pub struct CheckOutcome {
    pub exit_code: i32,
    pub error: Option<Error>,
}

/// Runs `lockscope check` end to end.
pub async fn run(args: &CheckArgs) -> Result<CheckOutcome> {
    let plan = plan(&args.paths, args.direction)?;
    let target = db::resolve_target(args.database_url.as_deref())?;
    let mut options = TraceOptions {
        mode: Mode::DryRun,
        lock_timeout: args.lock_timeout,
        statement_timeout: args.statement_timeout,
        sample_interval: args.sample_interval,
    };
    let backend = TracedBackend::default();

    let work = async {
        // The embedded server lives exactly as long as this block; dropping it stops and deletes it.
        let (target, _server): (Target, Option<EphemeralServer>) = match target {
            Some(target) => (target, None),
            None => {
                options.mode = Mode::Scratch;
                let server = tokio::task::spawn_blocking(EphemeralServer::start)
                    .await
                    .map_err(|err| Error::Embedded(err.to_string()))??;
                (server.target("postgres"), Some(server))
            }
        };
        let result = tokio::select! {
            result = trace::run(&target, &plan, &options, &backend) => result,
            _ = shutdown_signal() => {
                cancel_backend(&target, &backend).await;
                Err(Error::Interrupted)
            }
        };
        result
    };
    let mut trace = work.await?;

    analyze::analyze(&mut trace);
    let color = args.output.is_none()
        && !args.no_color
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = report::render(&trace, args.format, color);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|err| Error::Output { path: path.clone(), message: err.to_string() })?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        }
    }

    if let Outcome::Failed { path, line, message, .. } = &trace.outcome {
        let location = Location::new(path, *line, 1);
        return Ok(CheckOutcome {
            exit_code: 2,
            error: Some(Error::Statement { location, message: format!("{message}; the transaction was rolled back") }),
        });
    }
    let tripped = analyze::all_findings(&trace).iter().any(|f| args.fail_on.trips(f.severity));
    Ok(CheckOutcome { exit_code: i32::from(tripped), error: None })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// After an interruption the tracing session may still be running a statement: cancel it so the
/// server rolls back now rather than when it notices the closed connection.
async fn cancel_backend(target: &Target, backend: &TracedBackend) {
    let Some(pid) = backend.pid() else { return };
    let cancel = async {
        let mut conn = db::connect(target, "lockscope-cancel").await.ok()?;
        sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&mut conn).await.ok()
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), cancel).await;
}
