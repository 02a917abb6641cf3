//! `lockscope inspect`: a read-only look at a live database. One-shot, it prints an overview
//! (server, statistics age, biggest tables, unused and invalid indexes, NOT VALID constraints,
//! idle transactions, current blocking). With `--once` it prints one sample; with `--watch` it
//! keeps sampling — lock tree, per-relation queues, the migration's sessions and their progress,
//! alerts — full-screen on a terminal, as plain text or JSON lines otherwise.
//!
//! Safe beside a production migration (docs/ARCHITECTURE.md, "Safety invariants"): one connection named
//! `lockscope-inspect`, read-only transactions, its own `statement_timeout` and `lock_timeout`,
//! one read of pg_locks per sample (the wait graph is built from it, [`graph`]) and
//! `pg_blocking_pids()` only for the few waiting sessions that snapshot cannot decide, size
//! functions never on relations with a pending or granted ACCESS EXCLUSIVE. The only write, `pg_cancel_backend()` on a DDL
//! session, happens only with `--cancel-blocking-ddl-after`.

pub mod alerts;
pub mod classify;
pub mod graph;
pub mod model;
pub mod overview;
pub mod progress;
pub mod queue;
pub mod sampler;
pub mod text;
pub mod tree;
mod tui;

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::db::{self, Target};
use crate::error::{Error, Result};
use crate::introspect::SessionLimits;
use crate::units::human_duration;

pub use alerts::AlertRules;
pub use classify::Focus;
pub use model::{Sample, SCHEMA_VERSION};
pub use overview::Overview;
pub use sampler::{GraphMethod, Sampler, SamplerOptions, APPLICATION_NAME};
pub use text::{SortKey, TextOptions};

/// Output format of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectFormat {
    /// Tables and trees for people (full-screen with `--watch` on a terminal).
    Table,
    /// JSON: the overview, or one sample per line with `--once` / `--watch`.
    Json,
}

/// What `lockscope inspect` was asked to do (the command line's `--flags`, converted once by the binary).
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// Database to inspect (postgres:// URL or libpq key=value string). Without it:
    /// `DATABASE_URL`, then libpq `PG*` variables.
    pub database_url: Option<String>,

    /// Keep sampling every --interval: full-screen on a terminal, plain text (or JSON lines with
    /// --format json) otherwise.
    pub watch: bool,

    /// Print one sample (sessions, lock tree, queues, progress, alerts) and exit.
    pub once: bool,

    /// Time between samples (humantime: 500ms, 2s).
    pub interval: Duration,

    /// Stop --watch after this many samples.
    pub count: Option<u64>,

    /// Append every sample to FILE as one JSON object per line, for post-mortems.
    pub record: Option<PathBuf>,

    /// The migration's sessions: `application_name` to highlight (`*` wildcards; repeatable).
    /// Without it or --pid, sessions running DDL are highlighted.
    pub application_name: Vec<String>,

    /// The migration's sessions by process id (repeatable).
    pub pid: Vec<i32>,

    /// Output format.
    pub format: InspectFormat,

    /// Plain refreshing text even when standard output is a terminal.
    pub no_tui: bool,

    /// Alert when at least this many sessions queue behind a DDL statement waiting for its lock.
    pub alert_queue: usize,

    /// Alert when a DDL statement has waited this long for its lock.
    pub alert_wait: Duration,

    /// Cancel (pg_cancel_backend) a DDL statement that has waited this long for its lock while
    /// other sessions queue behind it. The only thing lockscope ever changes; off by default.
    pub cancel_blocking_ddl_after: Option<Duration>,

    /// statement_timeout of each sampling query; a slower sample is skipped.
    pub statement_timeout: Duration,

    /// lock_timeout of the monitoring session.
    pub lock_timeout: Duration,

    /// statement_timeout for the overview's catalog reads (big schemas need more than a sample).
    pub catalog_timeout: Duration,

    /// Cut query text at this many characters.
    pub query_length: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            database_url: None,
            watch: false,
            once: false,
            interval: Duration::from_secs(1),
            count: None,
            record: None,
            application_name: Vec::new(),
            pid: Vec::new(),
            format: InspectFormat::Table,
            no_tui: false,
            alert_queue: 3,
            alert_wait: Duration::from_secs(5),
            cancel_blocking_ddl_after: None,
            statement_timeout: Duration::from_millis(200),
            lock_timeout: Duration::from_millis(100),
            catalog_timeout: Duration::from_secs(5),
            query_length: 1000,
        }
    }
}

impl InspectOptions {
    /// The sampler settings these arguments ask for.
    pub fn sampler_options(&self) -> SamplerOptions {
        SamplerOptions {
            limits: SessionLimits { statement_timeout: self.statement_timeout, lock_timeout: self.lock_timeout },
            query_length: self.query_length.max(1),
            focus: Focus { application_names: self.application_name.clone(), pids: self.pid.clone() },
            rules: AlertRules {
                queue_length: self.alert_queue.max(1),
                wait: self.alert_wait,
                cancel_after: self.cancel_blocking_ddl_after,
            },
            reconnect_timeout: Duration::from_secs(3),
            graph: GraphMethod::default(),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.interval < Duration::from_millis(10) {
            return Err(Error::Usage("--interval must be at least 10ms (e.g. 500ms, 1s)".into()));
        }
        if self.cancel_blocking_ddl_after.is_some() && !self.watch {
            return Err(Error::Usage(
                "--cancel-blocking-ddl-after works only with --watch: it cancels a DDL statement \
                 that keeps waiting while lockscope watches"
                    .into(),
            ));
        }
        if self.count == Some(0) {
            return Err(Error::Usage("--count must be at least 1".into()));
        }
        if self.statement_timeout.is_zero() || self.lock_timeout.is_zero() {
            return Err(Error::Usage(
                "--statement-timeout and --lock-timeout must be above zero: inspect must never \
                 wait indefinitely on a production server"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Runs `lockscope inspect`; returns the exit code (0, or 2 when `--once` could not take its
/// sample). Errors (unreachable server, bad arguments, unwritable record file) map to exit 2.
pub async fn run(args: &InspectOptions) -> Result<i32> {
    args.validate()?;
    let target = resolve(args)?;
    let mut recorder = args.record.as_deref().map(Recorder::open).transpose()?;
    if let Some(after) = args.cancel_blocking_ddl_after {
        eprintln!(
            "lockscope: --cancel-blocking-ddl-after {}: a DDL statement that waits that long for \
             its lock while other sessions queue behind it will be cancelled with \
             pg_cancel_backend(). This is the only change lockscope makes to the server.",
            human_duration(after.as_secs_f64())
        );
    }
    let mut sampler = Sampler::connect(target.clone(), args.sampler_options()).await?;
    let outcome = if args.once {
        once(&mut sampler, args, recorder.as_mut()).await
    } else if args.watch {
        if args.format == InspectFormat::Table && !args.no_tui && std::io::stdout().is_terminal() {
            tui::run(&mut sampler, args, &target.display, recorder.as_mut()).await
        } else {
            watch_plain(&mut sampler, args, recorder.as_mut()).await
        }
    } else {
        overview_once(&mut sampler, args, &target.display).await
    };
    sampler.close().await;
    outcome
}

fn resolve(args: &InspectOptions) -> Result<Target> {
    db::resolve_target(args.database_url.as_deref())?.ok_or_else(|| {
        Error::Usage(
            "inspect needs a database to look at: pass --database-url, or set DATABASE_URL or \
             the PG* variables (PGHOST, PGDATABASE, …)"
                .into(),
        )
    })
}

async fn once(sampler: &mut Sampler, args: &InspectOptions, recorder: Option<&mut Recorder>) -> Result<i32> {
    let sample = sampler.sample().await?;
    if let Some(recorder) = recorder {
        recorder.write(&sample)?;
    }
    let text = match args.format {
        InspectFormat::Json => format!("{}\n", to_json(&sample)?),
        InspectFormat::Table => text::render_sample(&sample, &text_options(args)),
    };
    write_stdout(&text)?;
    Ok(if sample.skipped.is_some() { 2 } else { 0 })
}

async fn overview_once(sampler: &mut Sampler, args: &InspectOptions, target: &str) -> Result<i32> {
    let overview = overview::gather(sampler, target, args.catalog_timeout).await?;
    let text = match args.format {
        InspectFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&overview)
                .map_err(|err| Error::Encode(format!("could not encode the overview: {err}")))?
        ),
        InspectFormat::Table => overview::render_overview(&overview, &text_options(args)),
    };
    write_stdout(&text)?;
    Ok(0)
}

/// Plain refreshing output: each sample as text (or one JSON line), until --count, Ctrl-C, or a
/// closed standard output.
async fn watch_plain(sampler: &mut Sampler, args: &InspectOptions, mut recorder: Option<&mut Recorder>) -> Result<i32> {
    let mut taken: u64 = 0;
    let mut ticker = tokio::time::interval(args.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = &mut ctrl_c => break,
        }
        let sample = match sampler.sample().await {
            Ok(sample) => sample,
            // The first sample failing means lockscope cannot work here (version, privileges).
            Err(err) if taken == 0 => return Err(err),
            Err(err) => Sample::skipped(crate::introspect::rfc3339_now(), format!("sample failed: {err}"), 0.0),
        };
        taken += 1;
        if let Some(recorder) = recorder.as_deref_mut() {
            recorder.write(&sample)?;
        }
        for action in &sample.actions {
            eprintln!("lockscope: {}", action.message);
        }
        let text = match args.format {
            InspectFormat::Json => format!("{}\n", to_json(&sample)?),
            InspectFormat::Table => format!("{}\n", text::render_sample(&sample, &text_options(args))),
        };
        if write_stdout(&text).is_err() {
            break;
        }
        if args.count.is_some_and(|count| taken >= count) {
            break;
        }
    }
    Ok(0)
}

fn text_options(args: &InspectOptions) -> TextOptions {
    TextOptions { query_width: Some(args.query_length.clamp(20, 120)), ..TextOptions::default() }
}

fn to_json(sample: &Sample) -> Result<String> {
    serde_json::to_string(sample).map_err(|err| Error::Encode(format!("could not encode a sample as JSON: {err}")))
}

fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|err| Error::Output { path: PathBuf::from("<stdout>"), message: err.to_string() })
}

/// `--record FILE`: one JSON object per sample and line, appended and flushed as it is taken so
/// a post-mortem has everything up to the last sample.
pub struct Recorder {
    path: PathBuf,
    file: File,
}

impl Recorder {
    /// Opens (creating, appending to) `path`.
    pub fn open(path: &Path) -> Result<Recorder> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|err| Error::Output { path: path.to_path_buf(), message: err.to_string() })?;
        Ok(Recorder { path: path.to_path_buf(), file })
    }

    /// Appends one sample as a line.
    pub fn write(&mut self, sample: &Sample) -> Result<()> {
        let mut line = to_json(sample)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|err| Error::Output { path: self.path.clone(), message: err.to_string() })
    }
}
