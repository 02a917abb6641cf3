//! Production estimates against the real thing (never a timed test): a table at N rows
//! ("staging") and at 10N rows ("production") on the embedded server; for each operation whose
//! time grows with the table — `ALTER COLUMN … TYPE` (rewrite), `CREATE INDEX`, `VALIDATE
//! CONSTRAINT` — `lockscope check --production-stats` on staging with a snapshot of production
//! gives the extrapolated time, and a dry-run on production the measured one. Prints
//! extrapolated / measured per operation (target: within ±15 %), median of `BENCH_ESTIMATE_ROUNDS`
//! (else `BENCH_ROUNDS`, else 5),
//! beside what the old linear row scaling would have said, and writes the rows to `BENCH_OUTPUT`
//! (`| work | peer | peer figure | lockscope | ratio | target |`, as scripts/bench.sh reads them).
//!
//! `BENCH_ESTIMATE_ROWS` (default 50000) sets N.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lockscope::db::ephemeral::EphemeralServer;

const LOCKSCOPE: &str = env!("CARGO_BIN_EXE_lockscope");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn psql(server: &EphemeralServer, dbname: &str, sql: &str) {
    let bindir = lockscope::db::ephemeral::find_bindir().expect("PostgreSQL binaries");
    let status = Command::new(bindir.join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(server.dir())
        .args(["-p", &server.port().to_string(), "-U", "postgres", "-d", dbname, "-c", sql])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "psql failed: {sql}");
}

/// The first statement of the report `lockscope check` writes for `migration` on `url`.
fn check(url: &str, migration: &Path, extra: &[&str]) -> serde_json::Value {
    let report = migration.with_extension("json");
    let status = Command::new(LOCKSCOPE)
        .args(["check", "--database-url", url])
        .args(extra)
        .args(["--format", "json", "--fail-on", "never", "--quiet", "--output"])
        .arg(&report)
        .arg(migration)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "lockscope check failed on {}", migration.display());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    report["migrations"][0]["statements"][0].clone()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rows = env_usize("BENCH_ESTIMATE_ROWS", 50_000);
    let rounds = env_usize("BENCH_ESTIMATE_ROUNDS", env_usize("BENCH_ROUNDS", 5));
    let server = EphemeralServer::start().expect("embedded server");
    for (db, n) in [("small_copy", rows), ("large_copy", rows * 10)] {
        psql(&server, "postgres", &format!("CREATE DATABASE {db}"));
        psql(
            &server,
            db,
            &format!(
                "CREATE TABLE payments (id bigint PRIMARY KEY, account integer NOT NULL, cents integer NOT NULL, memo text); \
                 INSERT INTO payments SELECT g, g % 1000, g % 100000, 'payment ' || g FROM generate_series(1, {n}) g; \
                 CREATE INDEX payments_account_idx ON payments (account); \
                 ALTER TABLE payments ADD CONSTRAINT payments_cents_positive CHECK (cents >= 0) NOT VALID;"
            ),
        );
        psql(&server, db, "VACUUM ANALYZE payments");
    }
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("large_copy.json");
    let status = Command::new(LOCKSCOPE)
        .args(["snapshot", "--database-url", &server.url("large_copy"), "--output"])
        .arg(&snapshot)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "lockscope snapshot failed");

    let operations = [
        ("rewrite (`ALTER COLUMN … TYPE bigint`)", "ALTER TABLE payments ALTER COLUMN cents TYPE bigint;"),
        ("index build (`CREATE INDEX`)", "CREATE INDEX payments_memo_idx ON payments (memo);"),
        ("validate scan (`VALIDATE CONSTRAINT`)", "ALTER TABLE payments VALIDATE CONSTRAINT payments_cents_positive;"),
    ];
    let mut table =
        String::from("| work | peer | peer figure | lockscope | ratio | target |\n|---|---|---|---|---|---|\n");
    for (index, (what, sql)) in operations.iter().enumerate() {
        let migration: PathBuf = dir.path().join(format!("{:03}_op.up.sql", index + 1));
        std::fs::write(&migration, format!("{sql}\n")).unwrap();
        let (mut extrapolated, mut measured, mut linear) = (Vec::new(), Vec::new(), Vec::new());
        let mut basis = String::new();
        for round in 0..rounds {
            let staged =
                check(&server.url("small_copy"), &migration, &["--production-stats", snapshot.to_str().unwrap()]);
            let estimate = &staged["impact"]["production"];
            let predicted = estimate["duration_ms"].as_f64().expect("a production estimate");
            basis = estimate["basis"].as_str().unwrap_or_default().to_string();
            let real = check(&server.url("large_copy"), &migration, &[])["duration_ms"].as_f64().unwrap();
            // What the old estimate said: the staging time × the row ratio.
            let old = staged["duration_ms"].as_f64().unwrap() * 10.0;
            eprintln!(
                "{what}, round {round}: extrapolated {predicted:.0} ms, measured {real:.0} ms, linear {old:.0} ms"
            );
            extrapolated.push(predicted);
            measured.push(real);
            linear.push(old);
        }
        eprintln!("  basis: {basis}");
        let ratios: Vec<f64> = extrapolated.iter().zip(&measured).map(|(e, m)| e / m).collect();
        let linear_ratios: Vec<f64> = linear.iter().zip(&measured).map(|(l, m)| l / m).collect();
        let _ = writeln!(
            table,
            "| production estimate, {what}: {rows} → {} rows, median of {rounds} | dry-run on the {} -row table | {:.0} ms | extrapolated from {rows} rows with a snapshot: {:.0} ms (linear row scaling: {:.0} ms, {:.2}×) | {:.2}× | 0.85–1.15× |",
            rows * 10,
            rows * 10,
            median(measured),
            median(extrapolated),
            median(linear),
            median(linear_ratios),
            median(ratios),
        );
    }
    drop(server);
    println!("{table}");
    if let Ok(path) = std::env::var("BENCH_OUTPUT") {
        std::fs::write(path, &table).expect("write BENCH_OUTPUT");
    }
}
