//! `lockscope run -- COMMAND…`: runs the user's own migration command and guards it from outside.
//! It finds the command's database sessions ([`discover`]), cancels a statement that waits for a
//! lock too long or with too many sessions queued behind it ([`guard`], `pg_cancel_backend` only),
//! retries when the tool's ledger shows the cancelled migration did not apply ([`retry`]), and
//! reports every attempt, cancellation and blocker ([`report`]).
//!
//! What lockscope changes on the server: `pg_cancel_backend()` of the command's own statements;
//! with `--drop-invalid`, `DROP INDEX CONCURRENTLY` of an INVALID index the cancelled attempt left;
//! with `--fix-dirty`, golang-migrate's ledger row. Nothing else, and never another session.

pub mod child;
pub mod control;
pub mod discover;
pub mod guard;
pub mod held;
pub mod live;
pub mod observe;
pub mod report;
pub mod retry;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::db::{self, Target};
use crate::error::{Error, Result};
use crate::introspect::rfc3339_now;
use crate::ledger;
use crate::source::{self, Layout, Migration};
use crate::units::human_duration;

use discover::{SessionFilter, TcpEndpoint};
use guard::{Guard, Thresholds};
use observe::Observer;
use report::{Attempt, Cancellation, ChildSession, Event, Format, Report};
use retry::{Backoff, Facts, Runner, Verdict};

/// How long a stopped command gets for each signal (SIGINT, then SIGTERM) before the next.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// A pre-flight transaction younger than this is not worth showing.
const PREFLIGHT_MIN_AGE_S: f64 = 1.0;

/// Everything `lockscope run` needs, parsed once from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub database_url: Option<String>,
    /// The migration command and its arguments.
    pub command: Vec<String>,
    pub max_wait: Duration,
    pub max_queue: Option<usize>,
    pub retries: u32,
    pub backoff: Backoff,
    /// Injected into PGOPTIONS as `-c lock_timeout=…`; `None`: not injected.
    pub lock_timeout: Option<Duration>,
    pub format: Format,
    /// Write the report here instead of standard error.
    pub output: Option<PathBuf>,
    /// Append every event here as a JSON line, as it happens.
    pub events: Option<PathBuf>,
    /// Time between samples.
    pub interval: Duration,
    pub session_filters: Vec<SessionFilter>,
    pub migrations: Option<PathBuf>,
    pub layout: Option<Layout>,
    pub fix_dirty: bool,
    pub drop_invalid: bool,
    pub retry_without_ledger: bool,
    pub wait_for_quiet: Option<Duration>,
    /// No live lines on standard error.
    pub quiet: bool,
}

impl RunOptions {
    /// Checks the options make sense (a usage error, exit 2, when not).
    pub fn validate(&self) -> Result<()> {
        if self.command.is_empty() {
            return Err(Error::Usage("lockscope run needs the migration command after `--`".into()));
        }
        if self.max_wait.is_zero() {
            return Err(Error::Usage("--max-wait must be above zero (e.g. 2s)".into()));
        }
        if self.interval < Duration::from_millis(10) {
            return Err(Error::Usage("--interval must be at least 10ms".into()));
        }
        if self.lock_timeout.is_some_and(|t| t < Duration::from_millis(1)) {
            return Err(Error::Usage("--lock-timeout must be at least 1ms, or off".into()));
        }
        Ok(())
    }
}

/// What `lockscope run` ended with.
#[derive(Debug)]
pub struct RunOutcome {
    pub exit_code: i32,
    pub report: Report,
}

/// Runs the command under guard; writes the report (stderr, or `--output`) and returns it with
/// the exit code: the command's own final exit code, 130 after Ctrl-C.
pub async fn run(options: &RunOptions) -> Result<RunOutcome> {
    let target = db::resolve_target(options.database_url.as_deref())?.ok_or_else(|| {
        Error::Usage(
            "lockscope run needs the database the migration runs against: pass --database-url, or set \
             DATABASE_URL or the PG* variables"
                .into(),
        )
    })?;
    let mut runner = Runner::from_command(&options.command);
    if let Some(layout) = options.layout {
        runner.tool = (layout != Layout::PlainNumbered).then_some(layout);
    }
    let mut notes = Vec::new();
    let migrations = load_migrations(options, &runner, &mut notes)?;
    let mut session = Session::start(options, &target, runner, migrations, notes).await?;
    let outcome = session.run_attempts().await;
    let report = session.finish(outcome).await;
    write_report(options, &report)?;
    Ok(RunOutcome { exit_code: report.exit_code, report })
}

fn load_migrations(options: &RunOptions, runner: &Runner, notes: &mut Vec<String>) -> Result<Option<Vec<Migration>>> {
    if let Some(dir) = &options.migrations {
        return Ok(Some(source::discover_with(std::slice::from_ref(dir), options.layout.or(runner.tool))?.migrations));
    }
    let Some(dir) = runner.migrations_dir.as_ref().filter(|dir| dir.is_dir()) else {
        return Ok(None);
    };
    match source::discover_with(std::slice::from_ref(dir), options.layout.or(runner.tool)) {
        Ok(discovery) => {
            notes.push(format!("migration files read from {} (named on the command line)", dir.display()));
            Ok(Some(discovery.migrations))
        }
        Err(err) => {
            notes.push(format!("could not read the migrations in {}: {err}", dir.display()));
            Ok(None)
        }
    }
}

/// How one attempt ended, before the retry decision.
enum Ended {
    Exited(child::Ended),
    Interrupted(Option<child::Ended>),
}

/// A guarded run in progress.
struct Session<'a> {
    options: &'a RunOptions,
    target: Target,
    runner: Runner,
    migrations: Option<Vec<Migration>>,
    control: control::Control,
    observer: Observer,
    report: Report,
    events_file: Option<File>,
    guard: Guard,
    sigint: Signal,
    sigterm: Signal,
    token: String,
    /// What the last pre-flight check found, for the next attempt's report.
    pending_preflight: Vec<report::PreflightSession>,
    /// The last progress line printed per pid (a line is printed when it changes).
    last_progress: BTreeMap<i32, String>,
    /// Sessions queued behind each waiting statement of the command, as last printed.
    last_queue: BTreeMap<(i32, i64), usize>,
    /// The live panel (a terminal) or plain lines.
    live: live::Live,
    /// Since when the command's sessions hold their locks, as seen (this attempt).
    held: held::HeldSince,
}

/// What one attempt has seen so far.
struct Watching {
    attempt: Attempt,
    /// The PGAPPNAME tag of this attempt.
    application_name: String,
    /// (pid, backend_start) → the session as found.
    known: BTreeMap<(i32, i64), ChildSession>,
    /// Statements already announced as waiting: (pid, query_start).
    announced_waits: BTreeSet<(i32, i64)>,
    thresholds: Thresholds,
}

/// The final state of the attempt loop.
enum Final {
    Exit(i32, &'static str),
    Interrupted,
}

impl<'a> Session<'a> {
    async fn start(
        options: &'a RunOptions,
        target: &Target,
        runner: Runner,
        migrations: Option<Vec<Migration>>,
        notes: Vec<String>,
    ) -> Result<Session<'a>> {
        let signal_error = |err: std::io::Error| Error::Database(format!("cannot watch for Ctrl-C: {err}"));
        let sigint = signal(SignalKind::interrupt()).map_err(signal_error)?;
        let sigterm = signal(SignalKind::terminate()).map_err(signal_error)?;
        let events_file = options
            .events
            .as_ref()
            .map(|path| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|err| Error::Output { path: path.clone(), message: err.to_string() })
            })
            .transpose()?;
        let control = control::Control::connect(target).await?;
        let observer = Observer::connect(target, 1000).await?;
        let mut report = Report {
            schema_version: report::SCHEMA_VERSION,
            command: options.command.iter().map(|arg| db::redact(arg)).collect(),
            notes,
            injected_lock_timeout: options.lock_timeout.map(|t| format!("{}ms", t.as_millis())),
            ..Report::default()
        };
        if options.lock_timeout.is_some() {
            report.notes.push(
                "PGOPTIONS carries -c lock_timeout as a server-side backstop; libpq (psql) and lib/pq (dbmate, \
                 golang-migrate) read PGOPTIONS, so do recent pgx v5 releases (older ones and other drivers may \
                 not)"
                    .into(),
            );
        }
        report.notes.push(
            "sessions over a unix socket can only be found by application_name (PGAPPNAME) or --session-filter: \
             pg_stat_activity.client_port is -1 for them"
                .into(),
        );
        Ok(Session {
            options,
            target: target.clone(),
            runner,
            migrations,
            control,
            observer,
            report,
            events_file,
            guard: Guard::default(),
            sigint,
            sigterm,
            token: format!("{:08x}", fastrand::u32(..)),
            pending_preflight: Vec::new(),
            last_progress: BTreeMap::new(),
            last_queue: BTreeMap::new(),
            live: live::Live::for_stderr(options.quiet),
            held: held::HeldSince::default(),
        })
    }

    fn event(&mut self, attempt: u32, kind: &str, message: String, pid: Option<i32>) {
        let event = Event { at: rfc3339_now(), attempt, kind: kind.to_string(), message, pid };
        self.live.line(&format!("lockscope: {}", event.message));
        if let Some(file) = self.events_file.as_mut() {
            if let Ok(line) = serde_json::to_string(&event) {
                let _ = writeln!(file, "{line}");
                let _ = file.flush();
            }
        }
        self.report.events.push(event);
    }

    async fn run_attempts(&mut self) -> Result<Final> {
        let mut number = 0;
        loop {
            number += 1;
            if let Some(interrupted) = self.preflight(number).await? {
                return Ok(interrupted);
            }
            let pending_before = self.pending().await;
            let invalid_before = self.control.invalid_indexes().await.unwrap_or_default();
            let (ended, mut attempt) = self.attempt(number, pending_before).await?;
            let ended = match ended {
                Ended::Interrupted(ended) => {
                    attempt.exit_code = ended.map(|e| e.code);
                    attempt.outcome = "interrupted".into();
                    self.report.attempts.push(attempt);
                    return Ok(Final::Interrupted);
                }
                Ended::Exited(ended) => ended,
            };
            let cancelled = self.conclude(&mut attempt, ended);
            if ended.code == 0 || !(attempt.outcome == "cancelled" || attempt.outcome == "lock_timeout") {
                let outcome = if ended.code == 0 { "succeeded" } else { "failed" };
                self.report.attempts.push(attempt);
                return Ok(Final::Exit(ended.code, outcome));
            }
            let new_invalid = self.invalid_indexes_left(number, &cancelled, &invalid_before).await;
            attempt.invalid_indexes = new_invalid.clone();
            let verdict = self.retry_verdict(number, &cancelled, &new_invalid).await;
            self.event(number, "retry_decision", format!("attempt {number}: {}", verdict_line(&verdict)), None);
            attempt.retry = Some(verdict.clone());
            self.report.attempts.push(attempt);
            if !self.prepare_retry(number, verdict, &new_invalid).await? {
                return Ok(Final::Exit(ended.code, "cancelled"));
            }
            if let Some(interrupted) = self.back_off(number).await {
                return Ok(interrupted);
            }
        }
    }

    /// Records how an attempt that exited ended (`exited` event); returns the statements
    /// lockscope cancelled in it.
    fn conclude(&mut self, attempt: &mut Attempt, ended: child::Ended) -> Vec<String> {
        let number = attempt.number;
        attempt.exit_code = Some(ended.code);
        let cancelled: Vec<String> = attempt
            .cancellations
            .iter()
            .filter(|c| c.cancelled)
            .map(|c| c.statement.clone().unwrap_or_default())
            .collect();
        attempt.outcome = if ended.code == 0 {
            "succeeded"
        } else if !cancelled.is_empty() {
            "cancelled"
        } else if ended.lock_timeout {
            "lock_timeout"
        } else {
            "failed"
        }
        .into();
        self.event(
            number,
            "exited",
            format!("attempt {number}: the command exited with {} ({})", ended.code, attempt.outcome),
            None,
        );
        cancelled
    }

    /// INVALID indexes the cancelled attempt left: new since `before`, and named by a cancelled
    /// statement (`invalid_index` events).
    async fn invalid_indexes_left(&mut self, number: u32, cancelled: &[String], before: &[String]) -> Vec<String> {
        let after = self.control.invalid_indexes().await.unwrap_or_default();
        // Only an index the cancelled statement names is the attempt's (another session may be
        // building one concurrently right now); after the server's own lock_timeout, lockscope
        // has no statement text and looks at the migration files instead.
        let named_in: Vec<String> = if cancelled.is_empty() {
            self.migrations.iter().flatten().filter_map(|m| m.up.as_ref().map(|up| up.text.clone())).collect()
        } else {
            cancelled.to_vec()
        };
        let named = |index: &String| {
            let bare = index.rsplit('.').next().unwrap_or(index).trim_matches('"').to_lowercase();
            named_in.iter().any(|statement| statement.to_lowercase().contains(&bare))
        };
        let new_invalid: Vec<String> =
            after.into_iter().filter(|index| !before.contains(index) && named(index)).collect();
        for index in &new_invalid {
            self.event(number, "invalid_index", format!("the cancelled statement left INVALID index {index}"), None);
        }
        new_invalid
    }

    /// Whether the cancelled attempt may run again: retries left, then the ledger ([`retry::decide`]).
    async fn retry_verdict(&self, number: u32, cancelled: &[String], new_invalid: &[String]) -> Verdict {
        if number > self.options.retries {
            return Verdict::Stop {
                why: format!("no retries left (--retries {})", self.options.retries),
                what_to_do: "run the command again once the blocking transaction has ended".into(),
            };
        }
        let ledger = match self.runner.tool {
            Some(tool) => ledger::read(&self.target, tool, false).await.ok(),
            None => None,
        };
        retry::decide(&Facts {
            runner: &self.runner,
            ledger: ledger.as_ref(),
            migrations: self.migrations.as_deref(),
            cancelled_statements: cancelled,
            fix_dirty: self.options.fix_dirty,
            retry_without_ledger: self.options.retry_without_ledger,
            new_invalid_indexes: new_invalid,
            drop_invalid: self.options.drop_invalid,
        })
    }

    /// Carries out what the verdict needs before a retry (`--fix-dirty`'s ledger reset,
    /// `--drop-invalid`'s DROP INDEX CONCURRENTLY). `false`: no retry.
    async fn prepare_retry(&mut self, number: u32, verdict: Verdict, new_invalid: &[String]) -> Result<bool> {
        match verdict {
            Verdict::Stop { .. } => return Ok(false),
            Verdict::FixDirtyThenRetry { table, version, reset_to, .. } => {
                let reset = self.control.reset_golang_migrate(&table, &version, reset_to.as_deref()).await?;
                self.event(
                    number,
                    "ledger_reset",
                    format!(
                        "--fix-dirty: {table} {} from dirty {version} to {}",
                        if reset { "reset" } else { "was no longer dirty; left" },
                        reset_to.as_deref().unwrap_or("no version")
                    ),
                    None,
                );
            }
            Verdict::Retry { .. } => {}
        }
        if !self.options.drop_invalid {
            return Ok(true);
        }
        for index in new_invalid {
            if let Err(err) = self.control.drop_index_concurrently(index).await {
                self.event(number, "invalid_index_drop_failed", format!("--drop-invalid: {err}; not retrying"), None);
                return Ok(false);
            }
            self.event(
                number,
                "invalid_index_dropped",
                format!("--drop-invalid: DROP INDEX CONCURRENTLY {index}"),
                None,
            );
        }
        Ok(true)
    }

    /// Waits the backoff before the next attempt; `Some` when interrupted meanwhile.
    async fn back_off(&mut self, number: u32) -> Option<Final> {
        let delay = self.options.backoff.delay(number, fastrand::f64());
        self.event(
            number,
            "backoff",
            format!("waiting {} before attempt {}", human_duration(delay.as_secs_f64()), number + 1),
            None,
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => None,
            _ = self.sigint.recv() => Some(self.interrupted_between(number)),
            _ = self.sigterm.recv() => Some(self.interrupted_between(number)),
        }
    }

    fn interrupted_between(&mut self, number: u32) -> Final {
        self.event(number, "interrupted", "interrupted between attempts; the command is not running".into(), None);
        Final::Interrupted
    }

    /// Migrations the ledger records as pending, when both the tool and the files are known.
    async fn pending(&self) -> Option<Vec<String>> {
        let (tool, migrations) = (self.runner.tool?, self.migrations.as_ref()?);
        let read = ledger::read(&self.target, tool, false).await.ok()?;
        Some(ledger::decide(tool, migrations, &read, false).report.checked)
    }

    /// Tables the pending migrations name (all migrations when the ledger is unknown).
    fn migration_tables(&self) -> Vec<String> {
        let Some(migrations) = &self.migrations else { return Vec::new() };
        let mut tables = BTreeSet::new();
        for up in migrations.iter().filter_map(|m| m.up.as_ref()) {
            if let Ok(statements) = crate::sql::parse_file(&up.path, &up.text) {
                for statement in statements {
                    for target in statement.summary.targets {
                        tables.insert(match target.schema {
                            Some(schema) => format!("{schema}.{}", target.name),
                            None => target.name,
                        });
                    }
                }
            }
        }
        tables.into_iter().collect()
    }

    /// Shows open transactions holding locks the migration needs; with --wait-for-quiet, waits
    /// until none is older than that. Returns `Some` when interrupted meanwhile.
    async fn preflight(&mut self, number: u32) -> Result<Option<Final>> {
        let tables = self.migration_tables();
        let mut reported = BTreeSet::new();
        let mut seen = Vec::new();
        let mut announced_wait = false;
        loop {
            let found = self.control.preflight(&tables).await?;
            let old: Vec<_> = found
                .into_iter()
                .filter(|s| {
                    s.xact_age_s.unwrap_or(0.0) >= PREFLIGHT_MIN_AGE_S
                        || s.state.as_deref() == Some("idle in transaction")
                })
                .collect();
            for session in old.iter().filter(|s| reported.insert(s.pid)) {
                seen.push(session.clone());
                self.event(
                    number,
                    "preflight",
                    format!(
                        "pre-flight: pid {} ({}, {}) has had a transaction open for {} holding locks on {}",
                        session.pid,
                        session.application_name.as_deref().unwrap_or("?"),
                        session.state.as_deref().unwrap_or("?"),
                        human_duration(session.xact_age_s.unwrap_or(0.0)),
                        session.relations.join(", ")
                    ),
                    Some(session.pid),
                );
            }
            let Some(quiet) = self.options.wait_for_quiet else {
                self.pending_preflight = seen;
                return Ok(None);
            };
            if old.iter().all(|s| s.xact_age_s.unwrap_or(0.0) < quiet.as_secs_f64()) {
                self.pending_preflight = seen;
                return Ok(None);
            }
            if !announced_wait {
                announced_wait = true;
                self.event(
                    number,
                    "waiting_for_quiet",
                    format!(
                        "--wait-for-quiet {}: waiting before attempt {number} until no transaction holding the \
                         migration's tables is older than that",
                        humantime::format_duration(quiet)
                    ),
                    None,
                );
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.interval.max(Duration::from_millis(500))) => {}
                _ = self.sigint.recv() => return Ok(Some(self.interrupted_between(number))),
                _ = self.sigterm.recv() => return Ok(Some(self.interrupted_between(number))),
            }
        }
    }
}

impl Session<'_> {
    /// Runs the command once, guarding it until it exits (or Ctrl-C).
    async fn attempt(&mut self, number: u32, pending_before: Option<Vec<String>>) -> Result<(Ended, Attempt)> {
        let application_name = format!("lockscope-run-{}-{}-{number}", std::process::id(), self.token);
        let env = self.child_env(&application_name);
        let attempt = Attempt {
            number,
            started_at: rfc3339_now(),
            application_name: application_name.clone(),
            pending_before,
            preflight: std::mem::take(&mut self.pending_preflight),
            ..Attempt::default()
        };
        let started = Instant::now();
        let mut running = child::spawn(&self.options.command, &env, self.live.child_output(), self.live.relay())?;
        self.event(
            number,
            "started",
            format!(
                "attempt {number}: started {} (pid {}, PGAPPNAME={application_name})",
                self.report.command.join(" "),
                running.pid()
            ),
            None,
        );
        self.held.clear();
        let mut watching = Watching {
            attempt,
            application_name,
            known: BTreeMap::new(),
            announced_waits: BTreeSet::new(),
            thresholds: Thresholds { max_wait: self.options.max_wait, max_queue: self.options.max_queue },
        };
        let mut ticker = tokio::time::interval(self.options.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ended = loop {
            tokio::select! {
                ended = running.wait() => break Ended::Exited(ended?),
                _ = self.sigint.recv() => break self.interrupt(number, &mut running, &watching.known).await,
                _ = self.sigterm.recv() => break self.interrupt(number, &mut running, &watching.known).await,
                _ = ticker.tick() => self.tick(&running, &mut watching).await,
            }
        };
        let mut attempt = watching.attempt;
        attempt.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        attempt.sessions = watching.known.into_values().collect();
        Ok((ended, attempt))
    }

    /// The variables the command gets: its PGAPPNAME tag, and the lock_timeout backstop.
    fn child_env(&self, application_name: &str) -> Vec<(String, String)> {
        let mut env = vec![("PGAPPNAME".to_string(), application_name.to_string())];
        // PGOPTIONS becomes the startup `options` packet: libpq (https://www.postgresql.org/docs/current/libpq-envars.html),
        // lib/pq (`parseEnviron` in lib/pq conn.go: PGOPTIONS → options) and recent pgx v5 (`parseEnvSettings`
        // in jackc/pgx pgconn/config.go; older releases lack it) read it. A backstop only: lockscope's own
        // cancel at --max-wait works whatever the driver.
        if let Some(timeout) = self.options.lock_timeout {
            let existing = std::env::var("PGOPTIONS").unwrap_or_default();
            let injected = format!("-c lock_timeout={}ms", timeout.as_millis());
            env.push((
                "PGOPTIONS".into(),
                if existing.trim().is_empty() { injected } else { format!("{existing} {injected}") },
            ));
        }
        env
    }

    /// One look: find the command's sessions, sample, show what changed, cancel what waits too
    /// long.
    async fn tick(&mut self, running: &child::Running, watching: &mut Watching) {
        let Some(present) = self.find_sessions(running, watching).await else { return };
        let Some(observation) = self.observe(watching.attempt.number, &present).await else { return };
        self.announce_waits(watching, &observation, &present);
        self.show_changes(watching, &observation, &present);
        let plans = self.guard.plan(&observation, &present, watching.thresholds, Instant::now());
        for plan in plans {
            self.cancel(watching, plan).await;
        }
    }

    /// The pids of the command's sessions now (`None`: the sessions could not be listed); new
    /// ones are recorded with how they were found.
    async fn find_sessions(&mut self, running: &child::Running, watching: &mut Watching) -> Option<BTreeSet<i32>> {
        let number = watching.attempt.number;
        let sessions = match self.control.sessions().await {
            Ok(sessions) => sessions,
            Err(err) => {
                self.event(number, "sample_skipped", format!("could not list sessions: {err}"), None);
                return None;
            }
        };
        let endpoints: Vec<TcpEndpoint> = discover::tree_endpoints(running.pid());
        let own = [Some(self.control.pid()), self.observer.own_pid()];
        let mut present = BTreeSet::new();
        for server in sessions.iter().filter(|s| !own.contains(&Some(s.pid))) {
            let ways =
                discover::match_session(server, &watching.application_name, &endpoints, &self.options.session_filters);
            if ways.is_empty() {
                continue;
            }
            present.insert(server.pid);
            let key = (server.pid, server.backend_start_us);
            if let Some(found) = watching.known.get_mut(&key) {
                for way in ways {
                    if !found.found_by.iter().any(|w| w == way) {
                        found.found_by.push(way.to_string());
                    }
                }
                continue;
            }
            let found = ChildSession {
                pid: server.pid,
                application_name: server.application_name.clone(),
                found_by: ways.iter().map(|w| w.to_string()).collect(),
                client_port: server.client_port,
            };
            self.event(
                number,
                "session_found",
                format!("the command's session pid {} found by {}", server.pid, found.found_by.join(" and ")),
                Some(server.pid),
            );
            watching.known.insert(key, found);
        }
        Some(present)
    }

    /// One sample (`None`: none could be taken this time, and the event says why).
    async fn observe(&mut self, number: u32, present: &BTreeSet<i32>) -> Option<observe::Observation> {
        let observation = match self.observer.observe(present).await {
            Ok(observation) => observation,
            Err(err) => {
                self.event(number, "sample_skipped", format!("sample failed: {err}"), None);
                return None;
            }
        };
        if let Some(reason) = &observation.skipped {
            self.event(number, "sample_skipped", format!("sample skipped: {reason}"), None);
            return None;
        }
        Some(observation)
    }

    /// A `waiting` event the first time each statement of the command is seen waiting.
    fn announce_waits(&mut self, watching: &mut Watching, observation: &observe::Observation, present: &BTreeSet<i32>) {
        for seen in observation.sessions.iter().filter(|s| present.contains(&s.pid)) {
            let (Some(wait), Some(query_start)) = (&seen.waiting, seen.query_start_us) else { continue };
            if !watching.announced_waits.insert((seen.pid, query_start)) {
                continue;
            }
            let message = format!(
                "pid {} waits for {} behind pid(s) {:?}: {}",
                seen.pid,
                wait.describe(),
                seen.blocked_by,
                seen.query.as_deref().map(|q| q.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default()
            );
            self.event(watching.attempt.number, "waiting", message, Some(seen.pid));
        }
    }

    /// Live lines for what changed since the last sample (queue behind a wait, held locks, index
    /// progress), and the panel redrawn.
    fn show_changes(&mut self, watching: &Watching, observation: &observe::Observation, present: &BTreeSet<i32>) {
        let ours: Vec<&observe::Seen> = observation.sessions.iter().filter(|s| present.contains(&s.pid)).collect();
        for seen in ours.iter().filter(|s| s.waiting.is_some()) {
            let key = (seen.pid, seen.query_start_us.unwrap_or_default());
            let before = self.last_queue.insert(key, seen.queued_behind);
            if before.is_some_and(|before| before != seen.queued_behind) {
                self.live.line(&format!(
                    "lockscope: pid {} still waits ({}); {} session(s) now queued behind it",
                    seen.pid,
                    seen.waiting.as_ref().map(|w| w.describe()).unwrap_or_default(),
                    seen.queued_behind
                ));
            }
        }
        let now = Instant::now();
        let mut held = Vec::new();
        for seen in &ours {
            let backend_start = watching.known.keys().find(|(pid, _)| *pid == seen.pid).map_or(0, |(_, start)| *start);
            let holds = self.held.observe(seen, backend_start, now);
            if holds.changed {
                self.live.line(&held::change_line(&holds, seen.xact_age_s));
            }
            held.push(holds);
        }
        let building: Vec<&observe::Progress> =
            observation.progress.iter().filter(|p| present.contains(&p.pid)).collect();
        for progress in &building {
            let changed =
                self.last_progress.insert(progress.pid, progress.line.clone()).as_ref() != Some(&progress.line);
            if changed {
                self.live.line(&format!("lockscope: pid {}: {}", progress.pid, progress.line));
            }
        }
        self.live.show(live::panel_text(watching.attempt.number, &ours, &held, &building));
    }

    /// Cancels one planned statement of the command (`pg_cancel_backend`, only if it still waits
    /// as planned) and records why, with its blockers.
    async fn cancel(&mut self, watching: &mut Watching, plan: guard::CancelPlan) {
        let number = watching.attempt.number;
        let Some(backend_start) = watching.known.keys().find(|(pid, _)| *pid == plan.pid).map(|(_, start)| *start)
        else {
            return;
        };
        let cancelled = match self.control.cancel_waiting(plan.pid, backend_start, plan.query_start_us).await {
            Ok(cancelled) => cancelled,
            Err(err) => {
                self.event(
                    number,
                    "cancel_failed",
                    format!("could not cancel pid {}: {err}", plan.pid),
                    Some(plan.pid),
                );
                false
            }
        };
        let blockers = blockers_text(&plan.blockers);
        self.event(
            number,
            if cancelled { "cancelled" } else { "cancel_skipped" },
            format!(
                "{} pid {}'s statement waiting for {} because {}; {} session(s) queued behind it; blocked by {}",
                if cancelled { "pg_cancel_backend:" } else { "not cancelled (no longer waiting):" },
                plan.pid,
                plan.lock.describe(),
                plan.reason,
                plan.queued_behind,
                if blockers.is_empty() { "?".into() } else { blockers }
            ),
            Some(plan.pid),
        );
        watching.attempt.cancellations.push(Cancellation {
            at: rfc3339_now(),
            pid: plan.pid,
            statement: plan.statement,
            waiting_for: plan.lock.describe(),
            waited_s: plan.waited_s,
            queued_behind: plan.queued_behind,
            blockers: plan.blockers,
            reason: plan.reason,
            cancelled,
        });
    }

    /// Ctrl-C: stop the command, then cancel what its own sessions still run (a backend whose
    /// client died keeps waiting in the lock queue otherwise). Never touches another session.
    async fn interrupt(
        &mut self,
        number: u32,
        running: &mut child::Running,
        known: &BTreeMap<(i32, i64), ChildSession>,
    ) -> Ended {
        self.event(number, "interrupted", "interrupted: stopping the command (SIGINT, then SIGTERM)".into(), None);
        let ended = running.stop(STOP_GRACE).await.ok();
        for (pid, backend_start) in known.keys() {
            if let Ok(true) = self.control.cancel_owned(*pid, *backend_start).await {
                self.event(
                    number,
                    "cancelled_own",
                    format!("pg_cancel_backend: the stopped command's session pid {pid} was still running a statement"),
                    Some(*pid),
                );
            }
        }
        Ended::Interrupted(ended)
    }

    async fn finish(mut self, outcome: Result<Final>) -> Report {
        let (code, text) = match outcome {
            Ok(Final::Exit(code, text)) => (code, text.to_string()),
            Ok(Final::Interrupted) => (130, "interrupted".to_string()),
            Err(err) => {
                self.event(0, "error", format!("error: {}", db::redact(&err.to_string())), None);
                (err.exit_code(), "error".to_string())
            }
        };
        self.report.exit_code = code;
        self.report.outcome = text;
        self.report.waited_behind_s = self.guard.waited_behind_s();
        self.live.finish();
        self.control.close().await;
        self.observer.close().await;
        self.report
    }
}

/// `pid 7 (psql, idle in transaction, transaction open 3.0s): SELECT …; …`
fn blockers_text(blockers: &[guard::Blocker]) -> String {
    blockers
        .iter()
        .map(|b| {
            format!(
                "pid {} ({}, {}, transaction open {}): {}",
                b.pid,
                b.application_name.as_deref().unwrap_or("?"),
                b.state.as_deref().unwrap_or("?"),
                b.xact_age_s.map_or("?".into(), human_duration),
                b.query.as_deref().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn verdict_line(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Retry { why } => format!("will retry: {why}"),
        Verdict::FixDirtyThenRetry { why, .. } => format!("will reset the ledger and retry: {why}"),
        Verdict::Stop { why, what_to_do } => format!("no retry: {why}. {what_to_do}"),
    }
}

fn write_report(options: &RunOptions, report: &Report) -> Result<()> {
    let text = report::render(report, options.format);
    match &options.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|err| Error::Output { path: path.clone(), message: err.to_string() })
        }
        None => {
            let mut stderr = std::io::stderr().lock();
            stderr
                .write_all(text.as_bytes())
                .map_err(|err| Error::Output { path: PathBuf::from("<stderr>"), message: err.to_string() })
        }
    }
}
