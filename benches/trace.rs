//! lockscope's performance suite (never a timed test; ratios measured in one run on this machine).
//!
//! * trace overhead: `lockscope check` over a corpus of realistic migrations on the embedded
//!   server, versus applying the same files with `psql -1 -f` on the same kind of server, both
//!   including server start-up (target: ≤ 1.3×);
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

/// Plain apply: start a server, `psql -1 -f` every up file, stop the server.
fn plain_apply(corpus: &Path) -> Duration {
    let started = std::time::Instant::now();
    let mut server = EphemeralServer::start().expect("embedded server");
    for file in up_files(corpus) {
        let status = psql(&server, "postgres").arg("-1").arg("-f").arg(&file).status().unwrap();
        assert!(status.success(), "psql failed on {}", file.display());
    }
    server.stop();
    started.elapsed()
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

fn main() {
    let migrations = env_usize("BENCH_MIGRATIONS", 300);
    let tables = env_usize("BENCH_TABLES", 10_000);
    let rounds = env_usize("BENCH_ROUNDS", 3);
    let mut table = String::from("| what | how measured | figure |\n|---|---|---|\n");

    // --- trace overhead -------------------------------------------------------------------
    let corpus_dir = tempfile::tempdir().unwrap();
    let statements = corpus::write(corpus_dir.path(), migrations, 2000);
    eprintln!("corpus: {migrations} migrations, {statements} statements");
    let report = corpus_dir.path().join("report.json");
    let (mut ours, mut plain, mut rss) = (Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        let measured = lockscope_check(&[], corpus_dir.path(), &report);
        let baseline = plain_apply(corpus_dir.path());
        eprintln!("round {round}: lockscope {:?}, psql -1 -f {:?}", measured.wall, baseline);
        ours.push(measured.wall);
        plain.push(baseline);
        rss = rss.max(measured.max_rss_kib);
    }
    let (ours, plain) = (median(ours), median(plain));
    let _ = writeln!(
        table,
        "| trace overhead | `lockscope check` on the embedded server vs `psql -1 -f` per file on the same kind of server, both including server start-up; {migrations} migrations, {statements} statements, median of {rounds} | {:.2}× ({:.2} s vs {:.2} s) |",
        ours.as_secs_f64() / plain.as_secs_f64(),
        ours.as_secs_f64(),
        plain.as_secs_f64()
    );
    let _ = writeln!(
        table,
        "| peak memory, check | max RSS of the `lockscope check` process above | {:.1} MiB |",
        rss as f64 / 1024.0
    );

    // --- lint throughput --------------------------------------------------------------------
    let lint_available = Command::new(LOCKSCOPE)
        .args(["lint", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if lint_available {
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
            "| lint throughput | `lockscope lint` over the same corpus, whole process, median | {:.0} statements/s ({} statements in {:.0} ms) |",
            statements as f64 / wall.as_secs_f64(),
            statements,
            wall.as_secs_f64() * 1000.0
        );
        let _ = writeln!(
            table,
            "| peak memory, lint | max RSS of `lockscope lint` | {:.1} MiB |",
            lint_rss as f64 / 1024.0
        );
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
        "| observation cost per statement (in the run) | same dry-run: gap between consecutive statement starts minus the statement's own execution time, averaged (catalog diff + lock read + sampler), median of {rounds} | {:.2} ms |",
        median(in_run).as_secs_f64() * 1000.0
    );
    let _ = writeln!(
        table,
        "| observation cost per statement (whole process) | dry-run of {wide_statements} statements (ADD COLUMN, CREATE INDEX, UPDATE, COMMENT) on a database with {tables} tables and {} indexes: (lockscope wall − plain `psql` BEGIN…ROLLBACK wall) / statements, median of {rounds}, includes lockscope's start-up and two connections | {per_statement_ms:.2} ms ({:.2} s vs {:.2} s) |",
        tables * 2,
        ours.as_secs_f64(),
        plain.as_secs_f64()
    );
    let _ = writeln!(
        table,
        "| peak memory, dry-run on {tables} tables | max RSS of `lockscope check --database-url` | {:.1} MiB |",
        rss as f64 / 1024.0
    );

    // --- production extrapolation: measured vs extrapolated rewrite time at 10× the rows -------
    let staging_rows = env_usize("BENCH_EXTRAPOLATION_ROWS", 200_000);
    for (db, rows) in [("small_copy", staging_rows), ("large_copy", staging_rows * 10)] {
        let status = psql(&server, "postgres").args(["-c", &format!("CREATE DATABASE {db}")]).status().unwrap();
        assert!(status.success());
        let seed = format!(
            "CREATE TABLE payments (id bigint PRIMARY KEY, account integer NOT NULL, cents integer NOT NULL, memo text); \
             INSERT INTO payments SELECT g, g % 1000, g % 100000, 'payment ' || g FROM generate_series(1, {rows}) g; \
             CREATE INDEX payments_account_idx ON payments (account);"
        );
        let status = psql(&server, db).args(["-c", &seed, "-c", "VACUUM ANALYZE payments"]).status().unwrap();
        assert!(status.success());
    }
    let rewrite_dir = tempfile::tempdir().unwrap();
    let migration = rewrite_dir.path().join("001_widen.up.sql");
    std::fs::write(&migration, "ALTER TABLE payments ALTER COLUMN cents TYPE bigint;\n").unwrap();
    let snapshot = rewrite_dir.path().join("prod.json");
    let status = Command::new(LOCKSCOPE)
        .args(["snapshot", "--database-url", &server.url("large_copy"), "--output"])
        .arg(&snapshot)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let rewrite_report = rewrite_dir.path().join("report.json");
    let statement_of = |report: &Path| -> serde_json::Value {
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
        report["migrations"][0]["statements"][0].clone()
    };
    let (mut extrapolated, mut measured) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        lockscope_check(
            &["--database-url", &server.url("small_copy"), "--production-stats", snapshot.to_str().unwrap()],
            &migration,
            &rewrite_report,
        );
        let staged = statement_of(&rewrite_report);
        extrapolated
            .push(Duration::from_secs_f64(staged["impact"]["production"]["duration_ms"].as_f64().unwrap() / 1000.0));
        lockscope_check(&["--database-url", &server.url("large_copy")], &migration, &rewrite_report);
        measured.push(Duration::from_secs_f64(statement_of(&rewrite_report)["duration_ms"].as_f64().unwrap() / 1000.0));
    }
    let (extrapolated, measured) = (median(extrapolated), median(measured));
    let _ = writeln!(
        table,
        "| production extrapolation | `ALTER COLUMN … TYPE bigint` (table rewrite): time extrapolated from a {staging_rows}-row staging table with a snapshot of a real {}-row production table, vs the time measured by a dry-run on that production table, median of {rounds} | extrapolated / measured = {:.2} ({:.0} ms vs {:.0} ms) |",
        staging_rows * 10,
        extrapolated.as_secs_f64() / measured.as_secs_f64(),
        extrapolated.as_secs_f64() * 1000.0,
        measured.as_secs_f64() * 1000.0
    );
    drop(server);

    println!("{table}");
    if let Ok(path) = std::env::var("BENCH_OUTPUT") {
        std::fs::write(path, &table).expect("write BENCH_OUTPUT");
    }
}
