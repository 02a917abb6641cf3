//! lockscope's performance suite (never a timed test; ratios measured in one run on this machine).
//!
//! * trace overhead: `lockscope check` over a corpus of realistic migrations on the embedded
//!   server, versus applying the same files with `psql -1 -f` on the same kind of server, both
//!   including server start-up (target: ≤ 1.15×), on a generated corpus and on crates.io's 285
//!   Diesel migrations (`../shared/corpora/crates.io`, skipped with a message when absent);
//! * per-statement observation cost on a database with 10,000 tables (target: < 5 ms);
//! * lint throughput over the same corpus;
//! * peak memory (RSS) of each.
//!
//! Run with `cargo bench --bench trace` (or `scripts/bench.sh`, which also updates the README).
//! `BENCH_MIGRATIONS` (default 300) and `BENCH_TABLES` (default 10000) scale it down for a quick look.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/measure.rs"]
mod measure;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use lockscope::db::ephemeral::EphemeralServer;
use measure::{median, run};

const LOCKSCOPE: &str = env!("CARGO_BIN_EXE_lockscope");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn psql_path() -> PathBuf {
    let bindir = lockscope::db::ephemeral::find_bindir().expect("PostgreSQL binaries");
    let psql = bindir.join("psql");
    if psql.exists() {
        psql
    } else {
        PathBuf::from("psql")
    }
}

fn psql(server: &EphemeralServer, dbname: &str) -> Command {
    let mut command = Command::new(psql_path());
    command
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(server.dir())
        .args(["-p", &server.port().to_string(), "-U", "postgres", "-d", dbname])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .stdout(Stdio::null());
    command
}

fn up_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    files
}

/// One migration script for the plain apply, and whether its tool runs it in one transaction.
struct Script {
    path: PathBuf,
    single_transaction: bool,
}

/// The generated corpus: golang-migrate layout, every up file in its own transaction.
fn generated_scripts(dir: &Path) -> Vec<Script> {
    up_files(dir).into_iter().map(|path| Script { path, single_transaction: true }).collect()
}

/// crates.io's Diesel migrations: `<version>_<name>/up.sql`, in one transaction unless the
/// directory's `metadata.toml` says `run_in_transaction = false` (the default is true:
/// diesel-rs/diesel, migrations_internals `MigrationMetadata`; see src/source/runner.rs).
fn diesel_scripts(dir: &Path) -> Vec<Script> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("up.sql").is_file()).collect();
    // Diesel orders by version, the name before the first `_` without its dashes
    // (`2017-09-23-182408_x` is 20170923182408), as src/source/layouts.rs does.
    let version = |p: &PathBuf| -> String {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        name.split('_').next().unwrap_or_default().replace('-', "")
    };
    dirs.sort_by_key(|p| (version(p), p.clone()));
    dirs.into_iter()
        .map(|migration| {
            let metadata = std::fs::read_to_string(migration.join("metadata.toml")).unwrap_or_default();
            let single_transaction = !metadata.lines().any(|line| {
                let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
                line == "run_in_transaction=false"
            });
            Script { path: migration.join("up.sql"), single_transaction }
        })
        .collect()
}

/// Plain apply: start a server, `psql [-1] -f` every script, stop the server.
fn plain_apply(scripts: &[Script]) -> Duration {
    let started = std::time::Instant::now();
    let mut server = EphemeralServer::start().expect("embedded server");
    for script in scripts {
        let mut command = psql(&server, "postgres");
        if script.single_transaction {
            command.arg("-1");
        }
        let status = command.arg("-f").arg(&script.path).status().unwrap();
        assert!(status.success(), "psql failed on {}", script.path.display());
    }
    server.stop();
    started.elapsed()
}

/// Trace overhead on one corpus: rounds of `lockscope check` and of the plain apply, interleaved.
fn overhead(table: &mut String, what: &str, corpus: &Path, scripts: &[Script], rounds: usize) {
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("report.json");
    let (mut ours, mut plain, mut rss) = (Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        let measured = lockscope_check(&[], corpus, &report);
        let baseline = plain_apply(scripts);
        eprintln!("{what}, round {round}: lockscope {:?}, psql {:?}", measured.wall, baseline);
        ours.push(measured.wall);
        plain.push(baseline);
        rss = rss.max(measured.max_rss_kib);
    }
    let (ours, plain) = (median(ours), median(plain));
    let _ = writeln!(
        table,
        "| trace overhead, {what} | `psql -1 -f` per file on a fresh embedded server, server start included, median of {rounds} | {:.2} s | `lockscope check` on the embedded server: {:.2} s, peak RSS {:.1} MiB | {:.2}× | ≤ 1.15× |",
        plain.as_secs_f64(),
        ours.as_secs_f64(),
        rss as f64 / 1024.0,
        ours.as_secs_f64() / plain.as_secs_f64(),
    );
}

fn lockscope_check(args: &[&str], corpus: &Path, report: &Path) -> measure::Run {
    let result = run(Command::new(LOCKSCOPE)
        .arg("check")
        .args(args)
        .args(["--format", "json", "--fail-on", "never", "--output"])
        .arg(report)
        .arg(corpus)
        .stderr(Stdio::piped()));
    assert_eq!(result.exit_code, 0, "lockscope check failed");
    result
}

/// Observation cost inside the run: time between consecutive statement starts, minus the time
/// the statement itself ran, averaged over statements (from the JSON report's `started_ms` and
/// `duration_ms`). Excludes process start-up and connecting.
fn in_run_observation_ms(report: &Path) -> f64 {
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let statements: Vec<&serde_json::Value> =
        report["migrations"].as_array().unwrap().iter().flat_map(|m| m["statements"].as_array().unwrap()).collect();
    let started: Vec<f64> = statements.iter().map(|s| s["started_ms"].as_f64().unwrap()).collect();
    let executing: f64 =
        statements[..statements.len() - 1].iter().map(|s| s["duration_ms"].as_f64().unwrap_or(0.0)).sum();
    (started[started.len() - 1] - started[0] - executing) / (statements.len() - 1) as f64
}

/// Which parts to run: `BENCH_SECTIONS=overhead,crates,lint,wide` (default: all).
fn section(name: &str) -> bool {
    std::env::var("BENCH_SECTIONS").map_or(true, |sections| sections.split(',').any(|s| s.trim() == name))
}

/// crates.io's migrations, beside the project (`../shared/corpora/crates.io`, see its README);
/// `BENCH_CRATES_IO` names another copy (a git worktree sits one level deeper).
fn crates_io_corpus() -> Option<PathBuf> {
    let root = std::env::var_os("BENCH_CRATES_IO")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/crates.io"));
    let dir = root.join("migrations");
    dir.is_dir().then_some(dir)
}

fn main() {
    let migrations = env_usize("BENCH_MIGRATIONS", 300);
    let tables = env_usize("BENCH_TABLES", 10_000);
    let rounds = env_usize("BENCH_ROUNDS", 3);
    let mut table =
        String::from("| work | peer | peer figure | lockscope | ratio | target |\n|---|---|---|---|---|---|\n");

    // --- trace overhead -------------------------------------------------------------------
    let corpus_dir = tempfile::tempdir().unwrap();
    let statements = corpus::write(corpus_dir.path(), migrations, 2000);
    eprintln!("corpus: {migrations} migrations, {statements} statements");
    if section("overhead") {
        let what = format!("generated corpus ({migrations} migrations, {statements} statements)");
        overhead(&mut table, &what, corpus_dir.path(), &generated_scripts(corpus_dir.path()), rounds);
    }
    if section("crates") {
        match crates_io_corpus() {
            Some(dir) => {
                let scripts = diesel_scripts(&dir);
                let what = format!("crates.io corpus ({} Diesel migrations)", scripts.len());
                overhead(&mut table, &what, &dir, &scripts, rounds);
            }
            None => eprintln!(
                "skipped: trace overhead on crates.io's migrations: ../shared/corpora/crates.io is absent (see the \
                 corpus README)"
            ),
        }
    }

    // --- lint throughput --------------------------------------------------------------------
    let lint_available = Command::new(LOCKSCOPE)
        .args(["lint", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if lint_available && section("lint") {
        let mut walls = Vec::new();
        let mut lint_rss = 0;
        for _ in 0..rounds.max(5) {
            let measured = run(Command::new(LOCKSCOPE)
                .args(["lint", "--format", "json", "--fail-on", "never", "--output", "/dev/null"])
                .arg(corpus_dir.path())
                .stderr(Stdio::null()));
            walls.push(measured.wall);
            lint_rss = lint_rss.max(measured.max_rss_kib);
        }
        let wall = median(walls);
        let _ = writeln!(
            table,
            "| lint throughput, generated corpus ({statements} statements), whole process, median | — | — | {:.0} statements/s ({:.0} ms), peak RSS {:.1} MiB | — | — |",
            statements as f64 / wall.as_secs_f64(),
            wall.as_secs_f64() * 1000.0,
            lint_rss as f64 / 1024.0
        );
    }
    if !section("wide") {
        return finish(&table);
    }

    // --- per-statement observation cost at 10,000 tables ------------------------------------
    let server = EphemeralServer::start().expect("embedded server");
    let status = psql(&server, "postgres").args(["-c", "CREATE DATABASE wide"]).status().unwrap();
    assert!(status.success());
    // Separate -c commands: the DO block commits in batches, which it can't inside the implicit
    // transaction of a multi-statement command.
    let setup = format!(
        "DO $$ BEGIN FOR i IN 1..{tables} LOOP \
           EXECUTE format('CREATE TABLE w%s (id int PRIMARY KEY, v int, note text)', i); \
           EXECUTE format('CREATE INDEX w%s_v_idx ON w%s (v)', i, i); \
           IF i % 500 = 0 THEN COMMIT; END IF; \
         END LOOP; END $$"
    );
    let fill = "INSERT INTO w1 SELECT g, g, 'n' FROM generate_series(1, 1000) g";
    let status = psql(&server, "wide").args(["-c", &setup, "-c", fill]).status().unwrap();
    assert!(status.success());
    let wide_dir = tempfile::tempdir().unwrap();
    let mut sql = String::new();
    let per_kind = 25;
    for i in 0..per_kind {
        let t = 1 + (i * 397) % tables;
        let _ = writeln!(sql, "ALTER TABLE w{t} ADD COLUMN extra_{i} integer;");
        let _ = writeln!(sql, "CREATE INDEX w{t}_note_{i}_idx ON w{t} (note);");
        let _ = writeln!(sql, "UPDATE w{t} SET v = v + 1 WHERE id < 10;");
        let _ = writeln!(sql, "COMMENT ON TABLE w{t} IS 'bench {i}';");
    }
    let wide_statements = per_kind * 4;
    std::fs::write(wide_dir.path().join("001_wide.up.sql"), &sql).unwrap();
    std::fs::write(wide_dir.path().join("001_wide.down.sql"), "SELECT 1;").unwrap();
    std::fs::write(wide_dir.path().join("plain.sql"), format!("BEGIN;\n{sql}ROLLBACK;\n")).unwrap();
    let url = server.url("wide");
    let wide_report = wide_dir.path().join("report.json");
    let (mut ours, mut plain, mut rss, mut in_run) = (Vec::new(), Vec::new(), 0, Vec::new());
    for _ in 0..rounds {
        let measured =
            lockscope_check(&["--database-url", &url], &wide_dir.path().join("001_wide.up.sql"), &wide_report);
        in_run.push(Duration::from_secs_f64(in_run_observation_ms(&wide_report) / 1000.0));
        ours.push(measured.wall);
        rss = rss.max(measured.max_rss_kib);
        let baseline = run(psql(&server, "wide").arg("-f").arg(wide_dir.path().join("plain.sql")));
        plain.push(baseline.wall);
    }
    let (ours, plain) = (median(ours), median(plain));
    let per_statement_ms = (ours.as_secs_f64() - plain.as_secs_f64()) * 1000.0 / wide_statements as f64;
    let _ = writeln!(
        table,
        "| observation cost per statement, dry-run of {wide_statements} statements (ADD COLUMN, CREATE INDEX, UPDATE, COMMENT) on {tables} tables and {} indexes, median of {rounds} | plain `psql` BEGIN…ROLLBACK of the same file | {:.2} s | {:.2} s; in the run {:.2} ms per statement (gap between statement starts minus execution); whole process {per_statement_ms:.2} ms per statement; peak RSS {:.1} MiB | {:.2}× | < 5 ms per statement |",
        tables * 2,
        plain.as_secs_f64(),
        ours.as_secs_f64(),
        median(in_run).as_secs_f64() * 1000.0,
        rss as f64 / 1024.0,
        ours.as_secs_f64() / plain.as_secs_f64(),
    );
    drop(server);
    finish(&table);
}

/// Prints the rows and writes them to `BENCH_OUTPUT` (the format scripts/bench.sh reads).
fn finish(table: &str) {
    println!("{table}");
    if let Ok(path) = std::env::var("BENCH_OUTPUT") {
        std::fs::write(path, table).expect("write BENCH_OUTPUT");
    }
}
