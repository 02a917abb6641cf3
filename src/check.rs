//! `lockscope check`: files → plan → trace → findings → report, with the safety checks that must
//! pass before anything touches a database.

use std::time::Duration;

use crate::analyze;
use crate::cli::CheckArgs;
use crate::config::Config;
use crate::db::{self, ephemeral::EphemeralServer, Target};
use crate::error::{Error, Location, Result};
use crate::report;
use crate::source::{self, Direction, Layout};
use crate::sql::{self, Execution};
use crate::trace::{self, Mode, Outcome, PlannedMigration, TraceOptions, TracedBackend};

/// Reads, orders and parses the migrations for `direction`. Any problem is reported before a
/// database is contacted; statements that must never run stop everything here.
pub fn plan(paths: &[std::path::PathBuf], direction: Direction) -> Result<Vec<PlannedMigration>> {
    plan_with(paths, direction, None, false).map(|plan| plan.migrations)
}

/// What `check` runs: the migrations found and their parsed scripts, in run order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub discovery: source::Discovery,
    pub migrations: Vec<PlannedMigration>,
    /// With `--reversible`: each planned migration's parsed down script (`None` when it has none).
    pub downs: Vec<Option<PlannedMigration>>,
    /// For each planned migration, its index in `discovery.migrations`.
    pub sources: Vec<usize>,
}

impl Plan {
    /// Keeps the planned migrations whose source migration `check` flags.
    pub fn retain_sources(&mut self, check: &[bool]) {
        let keep: Vec<bool> = self.sources.iter().map(|source| check.get(*source).copied().unwrap_or(true)).collect();
        let mut flags = keep.iter();
        self.migrations.retain(|_| *flags.next().unwrap_or(&true));
        let mut flags = keep.iter();
        self.sources.retain(|_| *flags.next().unwrap_or(&true));
        if !self.downs.is_empty() {
            let mut flags = keep.iter();
            self.downs.retain(|_| *flags.next().unwrap_or(&true));
        }
    }
}

fn parse_script(
    migration: &source::Migration,
    file: &source::MigrationFile,
    direction: Direction,
    runner: source::Runner,
) -> Result<PlannedMigration> {
    let statements = sql::parse_file(&file.path, &file.text)?;
    for statement in &statements {
        if let Execution::Forbidden { reason } = &statement.summary.execution {
            return Err(Error::input(
                Location::new(&file.path, statement.line, statement.column),
                format!("refusing to run {}: {reason}; nothing was executed", statement.summary.kind),
            ));
        }
    }
    Ok(PlannedMigration {
        path: file.path.clone(),
        version: migration.version.clone(),
        name: migration.name.clone(),
        direction,
        model: analyze::context::execution_model(runner, file.no_transaction, &statements),
        statements,
        no_transaction: file.no_transaction,
    })
}

/// [`plan`] with a forced `layout` and, for `--reversible`, the down scripts parsed too.
pub fn plan_with(
    paths: &[std::path::PathBuf],
    direction: Direction,
    layout: Option<Layout>,
    reversible: bool,
) -> Result<Plan> {
    plan_for(paths, direction, layout, None, reversible)
}

/// [`plan_with`], judged as `runner` applies the files (`None`: each layout's own tool).
pub fn plan_for(
    paths: &[std::path::PathBuf],
    direction: Direction,
    layout: Option<Layout>,
    runner: Option<source::Runner>,
    reversible: bool,
) -> Result<Plan> {
    if reversible && direction == Direction::Down {
        return Err(Error::Usage("--reversible runs up, then down, then up again; use it with --direction up".into()));
    }
    let mut discovery = source::discover_with(paths, layout)?;
    discovery.runner = runner;
    let mut order: Vec<usize> = (0..discovery.migrations.len()).collect();
    if direction == Direction::Down {
        // Repeatable Flyway migrations have no undo; they are not part of a down run.
        order.retain(|index| !discovery.migrations[*index].repeatable);
        order.reverse();
    }
    let mut plan =
        Plan { migrations: Vec::new(), downs: Vec::new(), sources: Vec::new(), discovery: discovery.clone() };
    for index in order {
        let migration = &discovery.migrations[index];
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
        let runner = discovery.runner_for(migration);
        plan.migrations.push(parse_script(migration, file, direction, runner)?);
        plan.sources.push(index);
        if reversible {
            let down = match &migration.down {
                Some(down) => Some(parse_script(migration, down, Direction::Down, runner)?),
                None => None,
            };
            plan.downs.push(down);
        }
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
    let config = Config::load(args.config.as_deref())?;
    let runner = args.runner.or(config.runner);
    let mut planned = plan_for(&args.paths, args.direction, args.layout, runner, args.reversible)?;
    if let Some(version) = args.pg_version {
        crate::lint::pg_version(Some(version), &config)?;
    }
    let production = args.production_stats.as_deref().map(crate::impact::snapshot::load).transpose()?;
    let changed = args.git_diff.as_deref().map(|base| crate::git_diff::changed_since(base, &args.paths)).transpose()?;
    let pairings = analyze::pairings(&planned.discovery.migrations);
    let target = db::resolve_target(args.database_url.as_deref())?;
    let pending = match &target {
        Some(target) => Some(pending_migrations(target, &mut planned, args).await?),
        None => None,
    };
    let scope = changed.map(|changed| crate::git_diff::narrow(&mut planned, &changed));
    let plan = planned.migrations.clone();
    let progress = crate::progress::ProgressBar::for_stderr(args.quiet);
    if let Some(progress) = &progress {
        progress.status(if target.is_some() { "connecting" } else { "starting the embedded PostgreSQL" });
    }
    let mut options = TraceOptions {
        mode: Mode::DryRun,
        lock_timeout: args.lock_timeout.or(config.timeouts.lock_timeout).unwrap_or(Duration::from_secs(5)),
        statement_timeout: args
            .statement_timeout
            .or(config.timeouts.statement_timeout)
            .unwrap_or(Duration::from_secs(600)),
        sample_interval: args.sample_interval,
        allow_production: args.i_know_this_is_production,
        calibrate: args.production_stats.is_some(),
        progress: progress.as_ref().map(crate::progress::ProgressBar::hook),
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
            result = async {
                let (stats, facts) = before_trace(&target, &plan).await;
                let introspection = target_introspection(&target).await;
                let mut trace = if args.reversible && planned.downs.iter().any(Option::is_some) {
                    trace::run_reversible(&target, &plan, &planned.downs, &options, &backend).await?
                } else {
                    trace::run(&target, &plan, &options, &backend).await?
                };
                if args.reversible && !planned.downs.iter().any(Option::is_some) && !plan.is_empty() {
                    trace.notes.push(format!(
                        "--reversible: none of these {} migrations has a down script, so there is nothing to run \
                         after up",
                        planned.discovery.layout.name()
                    ));
                }
                if args.isolate {
                    isolate(&mut trace, &plan, &options, args).await?;
                }
                Ok((trace, stats, facts, introspection))
            } => result,
            _ = shutdown_signal() => {
                cancel_backend(&target, &backend).await;
                Err(Error::Interrupted)
            }
        };
        result
    };
    let worked = work.await;
    if let Some(progress) = &progress {
        progress.finish();
    }
    let (mut trace, stats, facts, introspection) = worked?;

    let deployment = deployment(&plan, scope.as_ref(), pending.as_ref(), args.all);
    let (stats, sizes_from) = match (trace.mode, production.as_ref()) {
        (_, Some(snapshot)) => (snapshot_stats(snapshot), Some(analyze::SizeSource::ProductionSnapshot)),
        (Mode::DryRun, None) => (stats, Some(analyze::SizeSource::Target)),
        // The embedded database is empty because it is new: that says nothing about production.
        (Mode::Scratch, None) => (analyze::TableStats::default(), None),
    };
    let analyze_options = analyze::Options {
        config,
        pg_version: args.pg_version,
        stats,
        pairings,
        deployment,
        runner,
        sizes_from,
        facts,
    };
    analyze::analyze(&plan, &mut trace, &analyze_options);
    trace.notes.extend(planned.discovery.notes());
    let reversible_notes = crate::reversible::judge(&mut trace);
    trace.notes.extend(reversible_notes);
    assess_impact(&mut trace, introspection, production.as_ref());
    // Index-usage and reversibility findings exist only now: configuration and ignores reach them here.
    analyze::late::suppress_late_in_trace(&mut trace, &plan, &analyze_options.config);
    if let Some(pending) = pending {
        let mut notes = pending.notes.clone();
        notes.append(&mut trace.notes);
        trace.notes = notes;
        trace.pending = Some(pending);
    }
    let color = report::use_color(args.output.as_deref(), args.no_color);
    if let Some(scope) = &scope {
        crate::git_diff::drop_context_findings(&mut trace, scope);
    }
    let subject = report::Subject::check(&trace).with_scope(scope);
    let render_options = report::RenderOptions { color, fail_on: args.fail_on, base: std::env::current_dir().ok() };
    let text = report::render(&subject, args.format, &render_options);
    report::write_output(&text, args.output.as_deref())?;

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

/// Which planned migrations reach the database together: the `--git-diff` changed set, else the
/// ledger's pending set on a real target; with neither, each migration is its own deployment.
fn deployment(
    plan: &[PlannedMigration],
    scope: Option<&report::Scope>,
    pending: Option<&crate::ledger::PendingReport>,
    all: bool,
) -> analyze::Deployment {
    let paths = |keep: &dyn Fn(&PlannedMigration) -> bool| {
        analyze::Deployment::Together(plan.iter().filter(|m| keep(m)).map(|m| m.path.clone()).collect())
    };
    match (scope, pending) {
        (Some(scope), _) => paths(&|m| !scope.context.contains(&m.path.display().to_string())),
        (None, Some(pending)) if pending.ledger_found && !all => paths(&|_| true),
        _ => analyze::Deployment::EachAlone,
    }
}

/// Table sizes from a production snapshot, for judging as [`analyze::TableStats`] does.
fn snapshot_stats(snapshot: &crate::impact::snapshot::Snapshot) -> analyze::TableStats {
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

/// The target's sizes, activity and indexes before the run (read-only, from its own session);
/// `Err` carries the reason impact figures will be missing.
async fn target_introspection(target: &Target) -> std::result::Result<crate::introspect::Introspection, String> {
    let read = async {
        let mut conn = db::connect(target, "lockscope-introspect").await?;
        crate::introspect::configure_read_only_session(
            &mut conn,
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
        crate::introspect::introspect(&mut conn, &options).await
    };
    read.await.map_err(|err| db::redact(&err.to_string()))
}

/// Adds per-statement impact (sizes, hold times, what is blocked, risk, production estimate) and
/// the index-usage findings.
fn assess_impact(
    trace: &mut trace::Trace,
    introspection: std::result::Result<crate::introspect::Introspection, String>,
    production: Option<&crate::impact::snapshot::Snapshot>,
) {
    let target = match introspection {
        Ok(introspection) => Some(introspection),
        Err(reason) => {
            trace.notes.push(format!(
                "impact: could not read the target's statistics ({reason}); sizes and rates are missing"
            ));
            None
        }
    };
    let snapshot = production;
    let production = snapshot.map(|snapshot| &snapshot.introspection);
    crate::impact::assess(trace, target.as_ref(), production);
    if let Some(target) = &target {
        let (usage, source) = match production {
            Some(production) => (production, "production snapshot"),
            None => (target, "target"),
        };
        crate::impact::index_usage::check(trace, target, usage, source);
    }
    if let Some(snapshot) = snapshot {
        trace.notes.push(format!(
            "production estimates fit a fixed + per-row + per-index cost model on each rewrite, index build or scan \
             timed here (and on rolled-back sample copies of its table), applied to the sizes in the snapshot of {} \
             taken {}",
            snapshot.source, snapshot.captured_at
        ));
    }
}

/// Reads the target's migration ledger and keeps the migrations still to run (with `--direction
/// down`: the applied ones, whose down scripts would run). `--all` keeps every migration.
async fn pending_migrations(
    target: &Target,
    plan: &mut Plan,
    args: &CheckArgs,
) -> Result<crate::ledger::PendingReport> {
    let discovery = &plan.discovery;
    let read = crate::ledger::read(target, discovery.layout, discovery.detected).await?;
    let decision = crate::ledger::decide(discovery.layout, &discovery.migrations, &read, args.all);
    let check: Vec<bool> = match args.direction {
        Direction::Up => decision.check.clone(),
        // Down scripts roll back what was applied: without a ledger, every migration.
        Direction::Down if args.all || !decision.report.ledger_found => vec![true; discovery.migrations.len()],
        Direction::Down => decision.check.iter().map(|pending| !pending).collect(),
    };
    plan.retain_sources(&check);
    Ok(decision.report)
}

/// `--isolate`: traces the plan again, each migration alone, on a schema-only copy of the target,
/// and puts the exact locks observed there into `trace`.
async fn isolate(
    trace: &mut trace::Trace,
    plan: &[PlannedMigration],
    options: &TraceOptions,
    args: &CheckArgs,
) -> Result<()> {
    if options.mode == Mode::Scratch {
        trace.notes.push(
            "--isolate: already isolated: without a target every migration runs and commits alone on the embedded \
             throwaway server"
                .into(),
        );
        return Ok(());
    }
    let connection =
        args.database_url.clone().or_else(|| std::env::var("DATABASE_URL").ok().filter(|url| !url.trim().is_empty()));
    let copy = crate::isolate::copy_schema(&crate::isolate::DumpSource { connection }).await?;
    let isolated_options = TraceOptions { mode: Mode::Scratch, ..options.clone() };
    let isolated = trace::run(&copy.target, plan, &isolated_options, &TracedBackend::default()).await?;
    let report = crate::isolate::merge(trace, &isolated, &copy);
    trace.notes.extend(report.notes.iter().cloned());
    trace.isolation = Some(report);
    Ok(())
}

/// What the rules read from the target before the trace, in one short session: the sizes of the
/// tables the plan names (`pg_class`, no locks, no table reads), which tell the rules which tables
/// are empty or big, and the catalogue facts LS135 and LS136 use (read-only, 2 s
/// statement_timeout). Unknown (empty) when they cannot be read.
async fn before_trace(target: &Target, plan: &[PlannedMigration]) -> (analyze::TableStats, analyze::TargetFacts) {
    let Ok(mut conn) = db::connect(target, "lockscope-stats").await else { return Default::default() };
    let statements = || plan.iter().flat_map(|m| m.statements.iter());
    let stats = analyze::TableStats::fetch(&mut conn, statements()).await.unwrap_or_default();
    let limits = crate::introspect::SessionLimits {
        statement_timeout: Duration::from_secs(2),
        lock_timeout: Duration::from_millis(500),
    };
    let facts = match crate::introspect::configure_read_only_session(&mut conn, limits).await {
        Ok(()) => analyze::TargetFacts::fetch(&mut conn, statements()).await.unwrap_or_default(),
        Err(_) => analyze::TargetFacts::default(),
    };
    let _ = sqlx::Connection::close(conn).await;
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
