//! `lockscope check`: files → plan → trace → assessment → report, with the safety checks that
//! must pass before anything touches a database. Each step is a function below; the run shares
//! one `db::Session` with the target (the trace adds its own two connections).

use std::path::PathBuf;
use std::time::Duration;

use crate::analyze::config::{pg_version, Config};
use crate::analyze::{self, Assessment, FailOn};
use crate::db::{self, ephemeral::EphemeralServer, Session, Target};
use crate::error::{Error, Location, Result};
use crate::introspect::snapshot::{self, Snapshot};
use crate::introspect::Introspection;
use crate::ledger::PendingReport;
use crate::plan::{self, Plan, PlannedMigration, Scope};
use crate::report::{self, CheckReport, Format};
use crate::source::{git_diff, Direction, Layout, Runner};
use crate::trace::{self, IsolationReport, Mode, Outcome, Trace, TraceOptions, TracedBackend};

/// What `lockscope check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Migration files or directories.
    pub paths: Vec<PathBuf>,
    /// Target database. `None`: `DATABASE_URL`, then libpq `PG*` variables, then the embedded
    /// throwaway PostgreSQL.
    pub database_url: Option<String>,
    /// Which scripts to trace: `up` (ascending versions) or `down` (descending).
    pub direction: Direction,
    pub format: Format,
    /// Write the report here instead of standard output.
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    pub fail_on: FailOn,
    /// The dry-run's lock_timeout (default: the configuration's, else 5 s).
    pub lock_timeout: Option<Duration>,
    /// The dry-run's statement_timeout (default: the configuration's, else 10 min).
    pub statement_timeout: Option<Duration>,
    /// Configuration file (default: the nearest lockscope.toml from the working directory up).
    pub config: Option<PathBuf>,
    /// Judge for this PostgreSQL major version instead of the traced server's.
    pub pg_version: Option<u32>,
    /// How often the second connection samples pg_locks while a statement runs.
    pub sample_interval: Duration,
    /// Dry-run even on what looks like production as a superuser.
    pub i_know_this_is_production: bool,
    /// Migration layout, instead of detecting it from the files.
    pub layout: Option<Layout>,
    /// The tool that applies the migrations, when it is not the layout's own.
    pub runner: Option<Runner>,
    /// Check every migration, also those the ledger records as applied.
    pub all: bool,
    /// Up, down, up again in the same rolled-back transaction, compared.
    pub reversible: bool,
    /// Also run each migration alone on a schema-only copy of the target.
    pub isolate: bool,
    /// A production snapshot to scale estimates and read usage from.
    pub production_stats: Option<PathBuf>,
    pub no_color: bool,
    /// Check only the migrations added or changed since this git reference.
    pub git_diff: Option<String>,
    /// No progress bar on stderr.
    pub quiet: bool,
}

/// What `check` produced: the exit code and, when the run failed, the error to print.
pub struct CheckOutcome {
    pub exit_code: i32,
    pub error: Option<Error>,
}

/// What the run observed, on the target (or the embedded server) and around it.
struct Observed {
    trace: Trace,
    /// Table sizes the rules read before the trace.
    stats: analyze::TableStats,
    facts: analyze::TargetFacts,
    /// The target's statistics for impact figures; `Err` says why they are missing.
    introspection: std::result::Result<Introspection, String>,
    isolation: Option<IsolationReport>,
}

/// Runs `lockscope check` end to end.
pub async fn run(args: &CheckOptions) -> Result<CheckOutcome> {
    let config = Config::load(args.config.as_deref())?;
    let runner = args.runner.or(config.runner);
    let mut plan = plan::plan_for(&args.paths, args.direction, args.layout, runner, args.reversible)?;
    if let Some(version) = args.pg_version {
        pg_version(Some(version), &config)?;
    }
    let production = args.production_stats.as_deref().map(snapshot::load).transpose()?;
    let changed = args.git_diff.as_deref().map(|base| git_diff::changed_since(base, &args.paths)).transpose()?;
    let pairings = analyze::pairings(&plan.discovery.migrations);
    let mut session = db::resolve_target(args.database_url.as_deref())?.map(Session::new);
    let pending = match session.as_mut() {
        Some(session) => Some(read_pending(session, &mut plan, args).await?),
        None => None,
    };
    let scope = changed.map(|changed| plan::narrow_to_changed(&mut plan, &changed.base, &|p| changed.contains(p)));
    let observed = observe(args, &config, &plan, session).await?;

    let ledger_found = pending.as_ref().is_some_and(|p| p.ledger_found);
    let (stats, sizes_from) = match (observed.trace.mode, production.as_ref()) {
        (_, Some(snapshot)) => (snapshot_stats(snapshot), Some(analyze::SizeSource::ProductionSnapshot)),
        (Mode::DryRun, None) => (observed.stats, Some(analyze::SizeSource::Target)),
        // The embedded database is empty because it is new: that says nothing about production.
        (Mode::Scratch, None) => (analyze::TableStats::default(), None),
    };
    let options = analyze::Options {
        config,
        pg_version: args.pg_version,
        stats,
        pairings,
        deployment: plan::deployment(&plan.migrations, scope.as_ref(), ledger_found, args.all),
        runner,
        sizes_from,
        facts: observed.facts,
    };
    let trace = &observed.trace;
    let assessment =
        judge(&plan.migrations, trace, &options, observed.introspection, production.as_ref(), scope.as_ref());

    // The ledger's notes first, then the run's, discovery's and the judging's.
    let mut notes: Vec<String> = pending.iter().flat_map(|p| p.notes.iter()).chain(&trace.notes).cloned().collect();
    notes.extend(plan.discovery.notes());
    notes.extend(assessment.notes.iter().cloned());
    let report = CheckReport {
        trace,
        assessment: &assessment,
        notes,
        pending: pending.as_ref(),
        isolation: observed.isolation.as_ref(),
    };
    write_report(&report, scope, args)?;
    Ok(outcome(trace, &assessment, args.fail_on))
}

/// Every verdict on the trace: the rules, reversibility, impact and index usage, then the
/// configuration and ignores for the late rules, and nothing for context-only migrations.
fn judge(
    plan: &[PlannedMigration],
    trace: &Trace,
    options: &analyze::Options,
    introspection: std::result::Result<Introspection, String>,
    production: Option<&Snapshot>,
    scope: Option<&Scope>,
) -> Assessment {
    let mut assessment = analyze::analyze(plan, trace, options);
    let reversible_notes = analyze::reversible::judge(trace, &mut assessment);
    assessment.notes.extend(reversible_notes);
    assess_impact(trace, &mut assessment, introspection, production);
    // Index-usage and reversibility findings exist only now: configuration and ignores reach them here.
    analyze::late::suppress_late_in(&mut assessment, trace, plan, &options.config);
    if let Some(scope) = scope {
        assessment.drop_findings_of(trace, &scope.context);
    }
    assessment
}

/// Renders the report in the asked format to `--output` or standard output.
fn write_report(report: &CheckReport<'_>, scope: Option<Scope>, args: &CheckOptions) -> Result<()> {
    let color = report::use_color(args.output.as_deref(), args.no_color);
    let subject = report::Subject::check(report).with_scope(scope);
    let render_options = report::RenderOptions { color, fail_on: args.fail_on, base: std::env::current_dir().ok() };
    let text = report::render(&subject, args.format, &render_options);
    report::write_output(&text, args.output.as_deref())
}

/// Exit 2 with the failed statement's error, else 1 when a finding trips `--fail-on`, else 0.
fn outcome(trace: &Trace, assessment: &Assessment, fail_on: FailOn) -> CheckOutcome {
    if let Outcome::Failed { path, line, message, .. } = &trace.outcome {
        let location = Location::new(path, *line, 1);
        return CheckOutcome {
            exit_code: 2,
            error: Some(Error::Statement { location, message: format!("{message}; the transaction was rolled back") }),
        };
    }
    let tripped = assessment.findings().any(|f| fail_on.trips(f.severity));
    CheckOutcome { exit_code: i32::from(tripped), error: None }
}

/// The dry-run's settings from the flags, then the configuration, then the defaults.
fn trace_options(
    args: &CheckOptions,
    config: &Config,
    progress: Option<&crate::progress::ProgressBar>,
) -> TraceOptions {
    TraceOptions {
        mode: Mode::DryRun,
        lock_timeout: args.lock_timeout.or(config.timeouts.lock_timeout).unwrap_or(Duration::from_secs(5)),
        statement_timeout: args
            .statement_timeout
            .or(config.timeouts.statement_timeout)
            .unwrap_or(Duration::from_secs(600)),
        sample_interval: args.sample_interval,
        allow_production: args.i_know_this_is_production,
        calibrate: args.production_stats.is_some(),
        progress: progress.map(crate::progress::ProgressBar::hook),
    }
}

/// Runs the plan on the target (or on the embedded server, started here and stopped when this
/// returns), with what the rules and the impact figures read before it; Ctrl-C cancels the
/// tracing backend and rolls everything back.
async fn observe(args: &CheckOptions, config: &Config, plan: &Plan, session: Option<Session>) -> Result<Observed> {
    let progress = crate::progress::ProgressBar::for_stderr(args.quiet);
    if let Some(progress) = &progress {
        progress.status(if session.is_some() { "connecting" } else { "starting the embedded PostgreSQL" });
    }
    let mut options = trace_options(args, config, progress.as_ref());
    let backend = TracedBackend::default();
    let work = async {
        // The embedded server lives exactly as long as this block; dropping it stops and deletes it.
        let (mut session, _server): (Session, Option<EphemeralServer>) = match session {
            Some(session) => (session, None),
            None => {
                options.mode = Mode::Scratch;
                let server = tokio::task::spawn_blocking(EphemeralServer::start)
                    .await
                    .map_err(|err| Error::Embedded(err.to_string()))??;
                (Session::new(server.target("postgres")), Some(server))
            }
        };
        let result = tokio::select! {
            result = observe_on(&mut session, plan, &options, &backend, args) => result,
            _ = shutdown_signal() => {
                cancel_backend(session.target(), &backend).await;
                Err(Error::Interrupted)
            }
        };
        session.close().await;
        result
    };
    let observed = work.await;
    if let Some(progress) = &progress {
        progress.finish();
    }
    observed
}

/// [`observe`] once the session is there: sizes and facts, statistics, the trace, `--isolate`.
async fn observe_on(
    session: &mut Session,
    plan: &Plan,
    options: &TraceOptions,
    backend: &TracedBackend,
    args: &CheckOptions,
) -> Result<Observed> {
    let (stats, facts) = before_trace(session, &plan.migrations).await;
    let introspection = target_introspection(session).await;
    let migrations = &plan.migrations;
    let mut trace = if args.reversible && plan.downs.iter().any(Option::is_some) {
        trace::run_reversible(session.target(), migrations, &plan.downs, options, backend).await?
    } else {
        trace::run(session.target(), migrations, options, backend).await?
    };
    if args.reversible && !plan.downs.iter().any(Option::is_some) && !migrations.is_empty() {
        trace.notes.push(format!(
            "--reversible: none of these {} migrations has a down script, so there is nothing to run after up",
            plan.discovery.layout.name()
        ));
    }
    let isolation = if args.isolate { isolate(&mut trace, migrations, options, args).await? } else { None };
    Ok(Observed { trace, stats, facts, introspection, isolation })
}

/// Table sizes from a production snapshot, for judging as [`analyze::TableStats`] does.
fn snapshot_stats(snapshot: &Snapshot) -> analyze::TableStats {
    let mut stats = analyze::TableStats::default();
    for table in &snapshot.introspection.tables {
        let size = analyze::TableSize {
            rows_estimate: table.rows(),
            pages: table.relpages.max(i64::from(table.rows() > 0.0)),
        };
        stats.insert(crate::sql::RelationName::new(Some(&table.schema), &table.name), size);
    }
    stats
}

/// The target's sizes, activity and indexes before the run (read-only, on the session's side
/// connection); `Err` carries the reason impact figures will be missing.
async fn target_introspection(session: &mut Session) -> std::result::Result<Introspection, String> {
    let read = async {
        let conn = session.side().await?;
        crate::introspect::configure_read_only_session(
            conn,
            crate::introspect::SessionLimits {
                statement_timeout: Duration::from_secs(5),
                lock_timeout: Duration::from_millis(500),
            },
        )
        .await?;
        let options = crate::introspect::IntrospectOptions {
            measure: crate::introspect::Measure::Nothing,
            definitions: crate::introspect::Definitions::Nothing,
        };
        crate::introspect::introspect(conn, &options).await
    };
    read.await.map_err(|err| db::redact(&err.to_string()))
}

/// Adds per-statement impact (sizes, hold times, what is blocked, risk, production estimate) and
/// the index-usage findings.
fn assess_impact(
    trace: &Trace,
    assessment: &mut Assessment,
    introspection: std::result::Result<Introspection, String>,
    production: Option<&Snapshot>,
) {
    let target = match introspection {
        Ok(introspection) => Some(introspection),
        Err(reason) => {
            assessment.notes.push(format!(
                "impact: could not read the target's statistics ({reason}); sizes and rates are missing"
            ));
            None
        }
    };
    let snapshot = production;
    let production = snapshot.map(|snapshot| &snapshot.introspection);
    analyze::impact::assess(trace, assessment, target.as_ref(), production);
    if let Some(target) = &target {
        let (usage, source) = match production {
            Some(production) => (production, "production snapshot"),
            None => (target, "target"),
        };
        analyze::impact::index_usage::check(trace, assessment, target, usage, source);
    }
    if let Some(snapshot) = snapshot {
        assessment.notes.push(format!(
            "production estimates fit a fixed + per-row + per-index cost model on each rewrite, index build or scan \
             timed here (and on rolled-back sample copies of its table), applied to the sizes in the snapshot of {} \
             taken {}",
            snapshot.source, snapshot.captured_at
        ));
    }
}

/// Reads the target's migration ledger (on the session) and keeps the migrations still to run
/// (with `--direction down`: the applied ones, whose down scripts would run). `--all` keeps every
/// migration.
async fn read_pending(session: &mut Session, plan: &mut Plan, args: &CheckOptions) -> Result<PendingReport> {
    let discovery = &plan.discovery;
    let (layout, detected) = (discovery.layout, discovery.detected);
    let read = crate::ledger::read_in(session.side().await?, layout, detected).await?;
    let decision = crate::ledger::decide(layout, &plan.discovery.migrations, &read, args.all);
    plan::narrow_to_ledger(plan, args.direction, &decision.check, decision.report.ledger_found, args.all);
    Ok(decision.report)
}

/// `--isolate`: traces the plan again, each migration alone, on a schema-only copy of the target,
/// and puts the exact locks observed there into `trace`.
async fn isolate(
    trace: &mut Trace,
    plan: &[PlannedMigration],
    options: &TraceOptions,
    args: &CheckOptions,
) -> Result<Option<IsolationReport>> {
    if options.mode == Mode::Scratch {
        trace.notes.push(
            "--isolate: already isolated: without a target every migration runs and commits alone on the embedded \
             throwaway server"
                .into(),
        );
        return Ok(None);
    }
    let connection =
        args.database_url.clone().or_else(|| std::env::var("DATABASE_URL").ok().filter(|url| !url.trim().is_empty()));
    let copy = crate::isolate::copy_schema(&crate::isolate::DumpSource { connection }).await?;
    let isolated_options = TraceOptions { mode: Mode::Scratch, ..options.clone() };
    let isolated = trace::run(&copy.target, plan, &isolated_options, &TracedBackend::default()).await?;
    let report = crate::isolate::merge(trace, &isolated, &copy);
    trace.notes.extend(report.notes.iter().cloned());
    Ok(Some(report))
}

/// What the rules read from the target before the trace, in one short session: the sizes of the
/// tables the plan names (`pg_class`, no locks, no table reads), which tell the rules which tables
/// are empty or big, and the catalogue facts LS135 and LS136 use (read-only, 2 s
/// statement_timeout). Unknown (empty) when they cannot be read.
async fn before_trace(session: &mut Session, plan: &[PlannedMigration]) -> (analyze::TableStats, analyze::TargetFacts) {
    let Ok(conn) = session.side().await else { return Default::default() };
    let statements = || plan.iter().flat_map(|m| m.statements.iter());
    let stats = analyze::TableStats::fetch(&mut *conn, statements()).await.unwrap_or_default();
    let limits = crate::introspect::SessionLimits {
        statement_timeout: Duration::from_secs(2),
        lock_timeout: Duration::from_millis(500),
    };
    let facts = match crate::introspect::configure_read_only_session(&mut *conn, limits).await {
        Ok(()) => analyze::TargetFacts::fetch(&mut *conn, statements()).await.unwrap_or_default(),
        Err(_) => analyze::TargetFacts::default(),
    };
    (stats, facts)
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
