//! Precision of lockscope's judgement on the labelled corpus `tests/corpus/` (issue #15, item 8).
//!
//! For every corpus file: `lockscope lint FILE --runner R --pg-version N --format json --fail-on
//! never` (static). For the `context/` files (all files with `PRECISION_TRACE=all`, none with
//! `PRECISION_TRACE=none`) also traced: a throwaway PostgreSQL, per file a database with the
//! header's `-- setup:` schema, each `-- size:` table filled to its row count (tests/corpus/fill.sql)
//! and ANALYZEd, then `lockscope check FILE --database-url URL --runner R --pg-version N`.
//!
//! It spawns the CLI (`CARGO_BIN_EXE_lockscope`), so it depends on the JSON contract only, not on
//! library internals. Figures:
//! * strict detection: dangerous files whose every named hazard is found by one of the rules that
//!   `tests/corpus/hazards.toml` maps it to, at severity medium or above;
//! * loose detection: dangerous files with any finding at medium or above;
//! * false positives: safe files with any finding at medium or above;
//! * failed in the dry-run: `check` exited 2 because a statement raised an error; loose detection
//!   on a dangerous file (strict too when the report still names the hazard), a false positive on
//!   a safe one.
//!
//! Targets (never asserted, this is a measurement): strict ≥ 97 %, no false positive on safe files,
//! every file accepted (no exit 2). Prints one table and every miss and false positive, and writes
//! the table as Markdown to `target/precision.md` (or `PRECISION_OUTPUT`).
//!
//! Run with `cargo bench --bench precision` or `scripts/precision.sh`; `PRECISION_FILTER=text` keeps
//! only the files whose path (`safe/01_…`) contains `text`; `PRECISION_REVERSIBLE=1` adds
//! `--reversible` to every traced check (reversibility findings LS301–LS303).

#[path = "../tests/corpus/header.rs"]
mod header;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use header::{Entry, Verdict};
use lockscope::db::ephemeral::EphemeralServer;
use sqlx::{AssertSqlSafe, Connection};

const LOCKSCOPE: &str = env!("CARGO_BIN_EXE_lockscope");

/// One finding of a report, as the JSON contract gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    rule: String,
    severity: String,
    line: Option<u64>,
    message: String,
}

impl Finding {
    fn at_least_medium(&self) -> bool {
        matches!(self.severity.as_str(), "medium" | "high" | "critical")
    }
}

/// What one run of lockscope on one file gave.
#[derive(Debug)]
enum Outcome {
    Findings(Vec<Finding>),
    /// Exit 2 because a statement failed in the dry-run (e.g. `column … contains null values`):
    /// lockscope ran the file as given and reports that it fails, with the findings its report
    /// still carries (a rule confirmed by the server's refusal names the hazard). Not a refusal.
    Failed(String, Vec<Finding>),
    /// Exit 2 for any other reason (or unreadable output): the file was not accepted as given.
    Refused(String),
}

/// One file's result in one mode.
struct Judged<'a> {
    entry: &'a Entry,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Static,
    Traced,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Static => "static",
            Mode::Traced => "traced",
        }
    }
}

fn supports_runner(subcommand: &str) -> bool {
    let output = Command::new(LOCKSCOPE).args([subcommand, "--help"]).output().expect("run lockscope --help");
    String::from_utf8_lossy(&output.stdout).contains("--runner")
}

/// Every finding in the report: top level, per migration and per statement, without duplicates.
fn findings_of(json: &serde_json::Value) -> Vec<Finding> {
    fn collect(value: &serde_json::Value, out: &mut Vec<Finding>) {
        let Some(list) = value.get("findings").and_then(|f| f.as_array()) else { return };
        for f in list {
            out.push(Finding {
                rule: f.get("rule").and_then(|v| v.as_str()).unwrap_or("?").to_string(),
                severity: f.get("severity").and_then(|v| v.as_str()).unwrap_or("?").to_string(),
                line: f.get("line").and_then(|v| v.as_u64()),
                message: f.get("message").and_then(|v| v.as_str()).unwrap_or("").to_string(),
            });
        }
    }
    let mut out = Vec::new();
    collect(json, &mut out);
    for migration in json.get("migrations").and_then(|m| m.as_array()).into_iter().flatten() {
        collect(migration, &mut out);
        for statement in migration.get("statements").and_then(|s| s.as_array()).into_iter().flatten() {
            collect(statement, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn run_lockscope(mut command: Command) -> Outcome {
    let output = match command.output() {
        Ok(output) => output,
        Err(err) => return Outcome::Refused(format!("could not run lockscope: {err}")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first_error = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
    if output.status.code() == Some(2) && stderr.contains("migration statement failed") {
        let findings = serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .map(|json| findings_of(&json))
            .unwrap_or_default();
        return Outcome::Failed(first_error, findings);
    }
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Outcome::Refused(format!("exit {:?}: {first_error}", output.status.code()));
    }
    match serde_json::from_slice::<serde_json::Value>(&output.stdout) {
        Ok(json) => Outcome::Findings(findings_of(&json)),
        Err(err) => Outcome::Refused(format!("output is not JSON ({err}); stderr: {first_error}")),
    }
}

fn lint(entry: &Entry, with_runner: bool) -> Outcome {
    let mut command = Command::new(LOCKSCOPE);
    command.arg("lint").arg(&entry.path);
    if with_runner {
        command.args(["--runner", &entry.runner]);
    }
    command.args(["--pg-version", &entry.pg.to_string(), "--format", "json", "--fail-on", "never", "--no-color"]);
    run_lockscope(command)
}

fn check(entry: &Entry, url: &str, with_runner: bool) -> Outcome {
    let mut command = Command::new(LOCKSCOPE);
    command.arg("check").arg(&entry.path).args(["--database-url", url]);
    // The same flags for every file: never chosen from a file's labels.
    if std::env::var_os("PRECISION_REVERSIBLE").is_some_and(|v| v == "1") {
        command.arg("--reversible");
    }
    if with_runner {
        command.args(["--runner", &entry.runner]);
    }
    command.args(["--pg-version", &entry.pg.to_string(), "--format", "json", "--fail-on", "never", "--no-color", "-q"]);
    run_lockscope(command)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Creates database `dbname` with the entry's setup schema, fills each sized table, ANALYZEs.
async fn seed(server: &EphemeralServer, dbname: &str, entry: &Entry, fill_sql: &str) -> Result<(), String> {
    let mut admin = lockscope::db::connect(&server.target("postgres"), "lockscope-precision")
        .await
        .map_err(|err| err.to_string())?;
    let create = format!("DROP DATABASE IF EXISTS {0}; CREATE DATABASE {0}", quote_ident(dbname));
    for statement in create.split("; ") {
        sqlx::raw_sql(AssertSqlSafe(statement.to_string())).execute(&mut admin).await.map_err(|e| e.to_string())?;
    }
    let _ = admin.close().await;
    let mut db =
        lockscope::db::connect(&server.target(dbname), "lockscope-precision").await.map_err(|err| err.to_string())?;
    let mut script = entry.setup.join("\n");
    script.push('\n');
    script.push_str(fill_sql);
    for (table, rows) in &entry.sizes {
        let _ = writeln!(script, "\nSELECT pg_temp.corpus_fill({}, {rows});", quote_literal(table));
    }
    script.push_str("\nANALYZE;\n");
    sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut db).await.map_err(|err| format!("setup failed: {err}"))?;
    let _ = db.close().await;
    Ok(())
}

async fn drop_database(server: &EphemeralServer, dbname: &str) {
    if let Ok(mut admin) = lockscope::db::connect(&server.target("postgres"), "lockscope-precision").await {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(dbname));
        let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await;
        let _ = admin.close().await;
    }
}

/// Every named hazard found by one of its rules at medium or above.
fn strict_hit(entry: &Entry, findings: &[Finding], hazards: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    entry
        .hazards
        .iter()
        .filter(|hazard| {
            let rules = hazards.get(*hazard).map(Vec::as_slice).unwrap_or(&[]);
            !findings.iter().any(|f| f.at_least_medium() && rules.contains(&f.rule))
        })
        .cloned()
        .collect()
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "–".to_string()
    } else {
        format!("{part}/{whole} ({:.1} %)", 100.0 * part as f64 / whole as f64)
    }
}

fn summary(findings: &[Finding]) -> String {
    let shown: Vec<String> =
        findings.iter().filter(|f| f.at_least_medium()).map(|f| format!("{} {}", f.rule, f.severity)).collect();
    if shown.is_empty() {
        "no finding at medium or above".to_string()
    } else {
        shown.join(", ")
    }
}

fn main() {
    let root = header::root();
    let hazards = header::hazard_map(&root).unwrap_or_else(|err| panic!("{err}"));
    let filter = std::env::var("PRECISION_FILTER").unwrap_or_default();
    let entries: Vec<Entry> = header::files(&root)
        .iter()
        .map(|path| header::parse(&root, path).unwrap_or_else(|err| panic!("{err}")))
        .filter(|entry| entry.name.contains(&filter))
        .collect();
    for entry in &entries {
        for hazard in &entry.hazards {
            assert!(hazards.contains_key(hazard), "{}: hazard `{hazard}` is not in hazards.toml", entry.name);
        }
    }
    let lint_runner = supports_runner("lint");
    let check_runner = supports_runner("check");
    let mut warnings = Vec::new();
    if !lint_runner {
        warnings.push("warning: `lockscope lint` has no --runner: static runs ignore each file's runner".to_string());
    }

    eprintln!("precision: static lint of {} files", entries.len());
    let statics: Vec<Judged> =
        entries.iter().map(|entry| Judged { entry, outcome: lint(entry, lint_runner) }).collect();

    let trace = std::env::var("PRECISION_TRACE").unwrap_or_else(|_| "context".to_string());
    let traced_entries: Vec<&Entry> = entries
        .iter()
        .filter(|e| match trace.as_str() {
            "none" => false,
            "all" => true,
            _ => e.class == "context",
        })
        .collect();
    let mut traced = Vec::new();
    if !traced_entries.is_empty() {
        if !check_runner {
            warnings
                .push("warning: `lockscope check` has no --runner: traced runs ignore each file's runner".to_string());
        }
        let fill_sql = std::fs::read_to_string(root.join("fill.sql")).expect("tests/corpus/fill.sql");
        let mut server = EphemeralServer::start().expect("embedded PostgreSQL for the traced runs");
        warnings.push(format!(
            "traced on PostgreSQL {} (each file judged for its header's major version)",
            server.version()
        ));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        for (index, entry) in traced_entries.iter().enumerate() {
            let dbname = format!("corpus_{index:03}");
            eprintln!("precision: traced {} ({}/{})", entry.name, index + 1, traced_entries.len());
            let outcome = match runtime.block_on(seed(&server, &dbname, entry, &fill_sql)) {
                Ok(()) => check(entry, &server.url(&dbname), check_runner),
                Err(err) => Outcome::Refused(format!("could not seed the database: {err}")),
            };
            runtime.block_on(drop_database(&server, &dbname));
            traced.push(Judged { entry, outcome });
        }
        server.stop();
    }

    let mut table = String::new();
    let _ = writeln!(
        table,
        "| mode | class | files | strict detection | loose detection | false positives | failed in the dry-run | not accepted (exit 2) |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|");
    let mut details = String::new();
    for (mode, judged) in [(Mode::Static, &statics), (Mode::Traced, &traced)] {
        for class in header::CLASSES {
            let rows: Vec<&Judged> = judged.iter().filter(|j| j.entry.class == class).collect();
            if rows.is_empty() {
                continue;
            }
            let (mut dangerous, mut strict, mut loose, mut safe, mut false_positives) = (0, 0, 0, 0, 0);
            let (mut failed, mut refused) = (0, 0);
            for judged in &rows {
                let entry = judged.entry;
                match (&judged.outcome, entry.verdict) {
                    (Outcome::Failed(why, findings), verdict) => {
                        // lockscope said the migration fails: a (loose) warning on a dangerous
                        // file — strict too when its report names the hazard (a rule the server's
                        // refusal confirmed) — and a false alarm on a safe one.
                        failed += 1;
                        if verdict == Verdict::Dangerous {
                            dangerous += 1;
                            loose += 1;
                            strict += usize::from(strict_hit(entry, findings, &hazards).is_empty());
                        } else {
                            safe += 1;
                            false_positives += 1;
                        }
                        let _ = writeln!(
                            details,
                            "- {} {}: FAILED IN THE DRY-RUN ({}): {why}",
                            mode.name(),
                            entry.name,
                            entry.verdict
                        );
                    }
                    (Outcome::Refused(why), verdict) => {
                        refused += 1;
                        if verdict == Verdict::Dangerous {
                            dangerous += 1;
                        } else {
                            safe += 1;
                        }
                        let _ = writeln!(
                            details,
                            "- {} {}: NOT ACCEPTED ({}): {why}",
                            mode.name(),
                            entry.name,
                            entry.verdict
                        );
                    }
                    (Outcome::Findings(findings), Verdict::Dangerous) => {
                        dangerous += 1;
                        let missing = strict_hit(entry, findings, &hazards);
                        let any = findings.iter().any(Finding::at_least_medium);
                        strict += usize::from(missing.is_empty());
                        loose += usize::from(any);
                        if !missing.is_empty() {
                            let _ = writeln!(
                                details,
                                "- {} {}: MISS (hazards not found: {}; found: {})",
                                mode.name(),
                                entry.name,
                                missing.join(", "),
                                summary(findings)
                            );
                        }
                    }
                    (Outcome::Findings(findings), Verdict::Safe) => {
                        safe += 1;
                        if findings.iter().any(Finding::at_least_medium) {
                            false_positives += 1;
                            let shown: Vec<String> = findings
                                .iter()
                                .filter(|f| f.at_least_medium())
                                .map(|f| {
                                    format!("{} {} line {}: {}", f.rule, f.severity, f.line.unwrap_or(0), f.message)
                                })
                                .collect();
                            let _ = writeln!(
                                details,
                                "- {} {}: FALSE POSITIVE: {}",
                                mode.name(),
                                entry.name,
                                shown.join(" | ")
                            );
                        }
                    }
                }
            }
            let _ = writeln!(
                table,
                "| {} | {class} | {} | {} | {} | {} | {} | {} |",
                mode.name(),
                rows.len(),
                percent(strict, dangerous),
                percent(loose, dangerous),
                percent(false_positives, safe),
                percent(failed, rows.len()),
                percent(refused, rows.len()),
            );
        }
    }

    let mut report = String::new();
    for warning in &warnings {
        let _ = writeln!(report, "{warning}\n");
    }
    report.push_str(&table);
    report.push_str(
        "\nStrict: every hazard the file names found by a mapped rule (tests/corpus/hazards.toml) at medium or above. ",
    );
    report.push_str("Loose: any finding at medium or above on a dangerous file. False positive: any finding at medium or above on a safe file. ");
    report.push_str("Failed in the dry-run: a statement raised an error in the trace (exit 2); it counts as loose detection on a dangerous file (and as strict detection when the report still names the hazard, e.g. a rule the server's refusal confirmed) and as a false positive on a safe one. ");
    report.push_str("Targets: strict ≥ 97 %, no false positive, nothing refused.\n");
    if !details.is_empty() {
        report.push_str("\nMisses, false positives and refusals:\n\n");
        report.push_str(&details);
    }
    println!("{report}");
    let output = std::env::var_os("PRECISION_OUTPUT").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
        target.join("precision.md")
    });
    if let Some(dir) = output.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&output, &report).unwrap_or_else(|err| panic!("cannot write {}: {err}", output.display()));
    eprintln!("precision: table written to {}", output.display());
}
