//! The report formats, CI gating and progress as a user meets them on the command line, against a
//! real PostgreSQL: every format for `check` and `lint`, exit codes for each `--fail-on` level
//! and for severities set in `lockscope.toml`, `--git-diff` in a real git repository, and the
//! progress bar (drawn on a terminal, never into a pipe).

mod common;
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use lockscope::progress::{ProgressHook, Step};
use lockscope::trace::{self, Mode, TraceOptions, TracedBackend};
use serde_json::Value;
use support::*;

const INDEX_UP: &str = "SET lock_timeout = '2s';\nCREATE INDEX items_name_idx ON items (name);\n";
const INDEX_DOWN: &str = "DROP INDEX IF EXISTS items_name_idx;\n";

/// Above lockscope's small-table threshold (10,000 rows), so an index build on it is not downgraded.
async fn database_with_items() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    common::execute(
        &mut conn,
        "CREATE TABLE items (id int PRIMARY KEY, name text); \
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g; ANALYZE items",
    )
    .await;
    db
}

fn index_migration() -> tempfile::TempDir {
    migrations(&[("001_items_name_idx.up.sql", INDEX_UP), ("001_items_name_idx.down.sql", INDEX_DOWN)])
}

fn run(args: &[&str], dir: &Path, cwd: &Path) -> Output {
    lockscope().args(args).arg(dir).current_dir(cwd).env_remove("DATABASE_URL").output().expect("run lockscope")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn severities(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect()
}

fn rank(severity: &str) -> usize {
    ["low", "medium", "high", "critical"].iter().position(|s| *s == severity).expect("a severity")
}

/// Exit 1 exactly when a finding is at or above `--fail-on`; `never` never trips; for check and lint.
#[tokio::test]
async fn fail_on_decides_exit_one() {
    let db = database_with_items().await;
    let dir = index_migration();
    let cwd = tempfile::tempdir().unwrap();
    for command in ["check", "lint"] {
        let mut base: Vec<&str> = vec![command, "--format", "json"];
        if command == "check" {
            base.extend(["--database-url", &db.url]);
        }
        let output = run(&[&base[..], &["--fail-on", "never"]].concat(), dir.path(), cwd.path());
        assert_eq!(output.status.code(), Some(0), "{command} never: {}", stderr(&output));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let found = severities(&report);
        assert!(found.contains(&("LS107".into(), "high".into())), "{command}: {found:?}");
        let worst = found.iter().map(|(_, s)| rank(s)).max().unwrap();
        for (level, threshold) in [("low", 0), ("medium", 1), ("high", 2), ("critical", 3)] {
            let output = run(&[&base[..], &["--fail-on", level]].concat(), dir.path(), cwd.path());
            let expected = i32::from(worst >= threshold);
            assert_eq!(
                output.status.code(),
                Some(expected),
                "{command} --fail-on {level} with {found:?}: {}",
                stderr(&output)
            );
        }
        // The default threshold is high.
        let output = run(&base, dir.path(), cwd.path());
        assert_eq!(output.status.code(), Some(1), "{command} default: {}", stderr(&output));
    }
}

/// Severities set per rule in lockscope.toml move findings across the threshold, whether the file
/// is named with --config or found from the working directory.
#[tokio::test]
async fn configured_severities_decide_exit_one() {
    let db = database_with_items().await;
    let dir = index_migration();
    let project = tempfile::tempdir().unwrap();
    // Which rules fire at all, so the configuration can silence all but LS107.
    let output = run(
        &["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url],
        dir.path(),
        project.path(),
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let others: Vec<String> =
        severities(&report).into_iter().map(|(rule, _)| rule).filter(|rule| rule != "LS107").collect();
    let config = |ls107: &str| {
        let mut text = format!("[rules]\nLS107 = \"{ls107}\"\n");
        for rule in &others {
            text.push_str(&format!("{rule} = \"off\"\n"));
        }
        text
    };

    for (setting, fail_on, expected) in
        [("low", "high", 0), ("low", "low", 1), ("critical", "critical", 1), ("medium", "high", 0), ("off", "low", 0)]
    {
        std::fs::write(project.path().join("lockscope.toml"), config(setting)).unwrap();
        for command in ["check", "lint"] {
            let mut args: Vec<&str> = vec![command, "--fail-on", fail_on, "--format", "json"];
            if command == "check" {
                args.extend(["--database-url", &db.url]);
            }
            let output = run(&args, dir.path(), project.path());
            assert_eq!(
                output.status.code(),
                Some(expected),
                "{command}: LS107 = {setting}, --fail-on {fail_on}: {}",
                stderr(&output)
            );
            let report: Value = serde_json::from_slice(&output.stdout).unwrap();
            let ls107: Vec<String> =
                severities(&report).into_iter().filter(|(rule, _)| rule == "LS107").map(|(_, s)| s).collect();
            if setting == "off" {
                assert!(ls107.is_empty(), "{command}: LS107 is off");
            } else {
                assert_eq!(ls107, vec![setting.to_string()], "{command}: LS107 = {setting}");
            }
        }
    }
    // Named explicitly from elsewhere, the same file rules.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("lockscope.toml"), config("critical")).unwrap();
    let config_path = project.path().join("lockscope.toml");
    let output = run(
        &["check", "--fail-on", "critical", "--config", config_path.to_str().unwrap(), "--database-url", &db.url],
        dir.path(),
        elsewhere.path(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

/// A failing migration, a bad configuration and a bad --git-diff reference are exit 2 whatever
/// --fail-on says, in every format.
#[tokio::test]
async fn errors_stay_exit_two() {
    let db = database_with_items().await;
    let cwd = tempfile::tempdir().unwrap();
    let failing = migrations(&[
        ("001_bad.up.sql", "ALTER TABLE items ADD COLUMN id integer;\n"),
        ("001_bad.down.sql", "SELECT 1;\n"),
    ]);
    for format in ["table", "json", "markdown", "html", "sarif", "github"] {
        let output = run(
            &["check", "--fail-on", "never", "--format", format, "--database-url", &db.url],
            failing.path(),
            cwd.path(),
        );
        assert_eq!(output.status.code(), Some(2), "{format}: {}", stderr(&output));
        assert!(stderr(&output).contains("001_bad.up.sql:1"), "{format}: {}", stderr(&output));
    }
    let output = run(
        &["check", "--fail-on", "never", "--format", "github", "--database-url", &db.url],
        failing.path(),
        cwd.path(),
    );
    let failure = stdout(&output);
    assert!(
        failure.lines().any(|l| l.starts_with("::error file=") && l.contains("title=lockscope%3A migration failed")),
        "{failure}"
    );

    std::fs::write(cwd.path().join("lockscope.toml"), "[rules]\nLS107 = \"loud\"\n").unwrap();
    let output = run(&["lint", "--fail-on", "never"], index_migration().path(), cwd.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    std::fs::remove_file(cwd.path().join("lockscope.toml")).unwrap();

    let repo = git_repo();
    let output = run(&["lint", "--git-diff", "no-such-branch"], &repo.path().join("db"), repo.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no-such-branch"), "{}", stderr(&output));
    let not_a_repo = tempfile::tempdir().unwrap();
    let dir = index_migration();
    let output = run(&["lint", "--git-diff", "main"], dir.path(), not_a_repo.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not inside a git work tree"), "{}", stderr(&output));
}

/// Every format from the real binary, for check and lint: the shape a consumer relies on.
#[tokio::test]
async fn every_format_from_the_command_line() {
    let db = database_with_items().await;
    let dir = index_migration();
    let cwd = tempfile::tempdir().unwrap();
    for command in ["check", "lint"] {
        let mut base: Vec<&str> = vec![command];
        if command == "check" {
            base.extend(["--database-url", &db.url]);
        }
        let out = |format: &str| {
            let output = run(&[&base[..], &["--format", format]].concat(), dir.path(), cwd.path());
            assert_eq!(output.status.code(), Some(1), "{command} {format}: {}", stderr(&output));
            stdout(&output)
        };
        let markdown = out("markdown");
        assert!(markdown.starts_with("<!-- lockscope-report -->\n### ❌ lockscope"), "{markdown}");
        assert!(markdown.contains("LS107 create-index-without-concurrently"));
        assert!(markdown.contains("**Safe alternative:**"));
        let github = out("github");
        let annotation = github.lines().find(|l| l.contains("LS107")).expect("an LS107 annotation");
        assert!(
            annotation.starts_with(&format!(
                "::error file={}/001_items_name_idx.up.sql,line=2,title=LS107",
                dir.path().display()
            )),
            "{annotation}"
        );
        let sarif: Value = serde_json::from_str(&out("sarif")).expect("SARIF is JSON");
        assert_eq!(sarif["version"], "2.1.0");
        let result = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "LS107").unwrap();
        assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
        let json: Value = serde_json::from_str(&out("json")).unwrap();
        assert_eq!(json["schema_version"], 1);
        let table = out("table");
        assert!(table.contains("LS107"));

        let page = cwd.path().join(format!("{command}.html"));
        let output = run(
            &[&base[..], &["--format", "html", "--output", page.to_str().unwrap()]].concat(),
            dir.path(),
            cwd.path(),
        );
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        if command == "check" {
            assert!(html.contains("<svg class=\"timeline\""), "check draws the lock timeline");
            assert!(html.contains("public.items"));
        }
    }
}

/// A git repository: 001 creates a table and 002 fills it, committed on `main`; the `feature`
/// branch then adds 003, an index on that table (it cannot run unless 001 and 002 ran first).
fn git_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args([
                "-c",
                "user.name=lockscope",
                "-c",
                "user.email=lockscope@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(repo.path())
            .output()
            .expect("git");
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    let db = repo.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let write = |name: &str, text: &str| std::fs::write(db.join(name), text).unwrap();
    git(&["init", "-q", "-b", "main"]);
    write("001_widgets.up.sql", "CREATE TABLE widgets (id int PRIMARY KEY, name text);\n");
    write("001_widgets.down.sql", "DROP TABLE widgets;\n");
    write("002_fill.up.sql", "INSERT INTO widgets SELECT g, 'w' || g FROM generate_series(1, 2000) g;\n");
    write("002_fill.down.sql", "DELETE FROM widgets;\n");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "widgets"]);
    git(&["checkout", "-q", "-b", "feature"]);
    write("003_widgets_name.up.sql", "CREATE INDEX widgets_name_idx ON widgets (name);\n");
    write("003_widgets_name.down.sql", "DROP INDEX widgets_name_idx;\n");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "index"]);
    repo
}

fn paths_of(report: &Value) -> Vec<(String, bool)> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let path = m["path"].as_str().unwrap();
            let name = Path::new(path).file_name().unwrap().to_string_lossy().to_string();
            (name, m["context"].as_bool().unwrap_or(false))
        })
        .collect()
}

fn finding_files(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Path::new(f["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().to_string())
        .collect()
}

/// `--git-diff main` on the feature branch checks 003 only, after applying 001 and 002 as context.
#[tokio::test]
async fn git_diff_checks_only_changed_migrations() {
    let db = common::fresh_database().await;
    let repo = git_repo();
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url];
        args.extend_from_slice(extra);
        let output = run(&args, Path::new("db"), repo.path());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };

    let report = check(&["--git-diff", "main"]);
    assert_eq!(
        paths_of(&report),
        vec![
            ("001_widgets.up.sql".into(), true),
            ("002_fill.up.sql".into(), true),
            ("003_widgets_name.up.sql".into(), false)
        ]
    );
    assert_eq!(report["outcome"]["status"], "completed", "003 ran on the table 001 created");
    assert_eq!(report["git_diff"]["base"], "main");
    let files = finding_files(&report);
    assert!(files.iter().any(|f| f == "003_widgets_name.up.sql"), "{files:?}");
    assert!(files.iter().all(|f| f == "003_widgets_name.up.sql"), "context migrations are not judged: {files:?}");
    let statements = report["migrations"][0]["statements"].as_array().unwrap();
    assert!(statements.iter().all(|s| s["findings"].as_array().unwrap().is_empty()));

    // An uncommitted change to 002 makes it checked too; 001 stays context.
    std::fs::write(
        repo.path().join("db/002_fill.up.sql"),
        "INSERT INTO widgets SELECT g, 'w' || g FROM generate_series(1, 3000) g;\n",
    )
    .unwrap();
    let report = check(&["--git-diff", "main"]);
    assert_eq!(
        paths_of(&report),
        vec![
            ("001_widgets.up.sql".into(), true),
            ("002_fill.up.sql".into(), false),
            ("003_widgets_name.up.sql".into(), false)
        ]
    );

    // Compared with the branch itself (plus the working tree): only 002 changed; 003 is not run.
    let report = check(&["--git-diff", "HEAD"]);
    assert_eq!(paths_of(&report), vec![("001_widgets.up.sql".into(), true), ("002_fill.up.sql".into(), false)]);

    // An untracked new migration counts as added.
    std::fs::write(repo.path().join("db/004_more.up.sql"), "ALTER TABLE widgets ADD COLUMN note text;\n").unwrap();
    std::fs::write(repo.path().join("db/004_more.down.sql"), "ALTER TABLE widgets DROP COLUMN note;\n").unwrap();
    let report = check(&["--git-diff", "HEAD"]);
    let paths = paths_of(&report);
    assert_eq!(paths.last(), Some(&("004_more.up.sql".to_string(), false)), "{paths:?}");
    assert!(paths.contains(&("003_widgets_name.up.sql".to_string(), true)), "{paths:?}");

    // Nothing changed: nothing to check, exit 0, and the Markdown says so.
    let clean = git_repo();
    let output = run(
        &["check", "--format", "markdown", "--git-diff", "HEAD", "--database-url", &db.url],
        Path::new("db"),
        clean.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let markdown = stdout(&output);
    assert!(markdown.contains("No migrations to judge."), "{markdown}");
    assert!(markdown.contains("Migrations added or changed since HEAD"), "{markdown}");

    // lint reports the changed scripts only.
    let output =
        run(&["lint", "--format", "json", "--fail-on", "never", "--git-diff", "main"], Path::new("db"), repo.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let scripts: Vec<String> = paths_of(&report).into_iter().map(|(name, _)| name).collect();
    assert_eq!(scripts, vec!["002_fill.up.sql", "003_widgets_name.up.sql", "004_more.up.sql"]);
}

/// The tracer tells its progress hook about every migration and statement, in order, and the
/// trace is the same as without a hook.
#[tokio::test]
async fn the_tracer_reports_progress() {
    let db = database_with_items().await;
    let dir = migrations(&[
        ("001_a.up.sql", "ALTER TABLE items ADD COLUMN a int;\nALTER TABLE items ADD COLUMN b int;\n"),
        ("002_b.up.sql", "CREATE INDEX items_a ON items (a);\n"),
    ]);
    let plan = lockscope::plan::plan(&[dir.path().to_path_buf()], lockscope::source::Direction::Up).unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let hook = ProgressHook::new(move |step| {
        let text = match step {
            Step::Migration { index, total, path, statements } => {
                format!(
                    "migration {}/{total} {} ({statements})",
                    index + 1,
                    path.file_name().unwrap().to_string_lossy()
                )
            }
            Step::Statement { index, line, sql } => format!("statement {index} line {line}: {sql}"),
            Step::Finished => "finished".to_string(),
        };
        record.lock().unwrap().push(text);
    });
    let options = TraceOptions { mode: Mode::DryRun, progress: Some(hook), ..TraceOptions::default() };
    let traced = trace::run(&db.target, &plan, &options, &TracedBackend::default()).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "migration 1/2 001_a.up.sql (2)",
            "statement 0 line 1: ALTER TABLE items ADD COLUMN a int",
            "statement 1 line 2: ALTER TABLE items ADD COLUMN b int",
            "migration 2/2 002_b.up.sql (1)",
            "statement 0 line 1: CREATE INDEX items_a ON items (a)",
            "finished",
        ]
    );
    let without = trace::run(
        &db.target,
        &plan,
        &TraceOptions { mode: Mode::DryRun, ..TraceOptions::default() },
        &TracedBackend::default(),
    )
    .await
    .unwrap();
    let shape = |t: &lockscope::trace::Trace| -> Vec<Vec<String>> {
        t.migrations.iter().map(|m| m.statements.iter().map(|s| format!("{:?}", support::locks(s))).collect()).collect()
    };
    assert_eq!(shape(&traced), shape(&without));
}

/// On a terminal the bar shows migration n/N and the statement; --quiet and pipes get none.
#[tokio::test]
async fn progress_bar_only_on_a_terminal() {
    let db = database_with_items().await;
    let dir = migrations(&[
        ("001_slow.up.sql", "SELECT pg_sleep(0.6);\nALTER TABLE items ADD COLUMN slow int;\n"),
        ("002_more.up.sql", "SELECT pg_sleep(0.6);\n"),
    ]);
    let cwd = tempfile::tempdir().unwrap();

    // Piped stderr (CI logs): nothing but the report on stdout, nothing on stderr.
    let output = run(&["check", "--fail-on", "never", "--database-url", &db.url], dir.path(), cwd.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "no progress into a pipe: {:?}", stderr(&output));

    // A terminal, through script(1)'s pseudo-terminal.
    let on_terminal = |extra: &str| {
        let command = format!(
            "exec '{}' check --fail-on never --format json --output /dev/null {extra} --database-url '{}' '{}'",
            env!("CARGO_BIN_EXE_lockscope"),
            db.url,
            dir.path().display()
        );
        let output = Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .current_dir(cwd.path())
            .env("TERM", "xterm")
            .env_remove("DATABASE_URL")
            .output()
            .expect("script(1) from util-linux");
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let drawn = on_terminal("");
    assert!(drawn.contains("migration 1/2"), "{drawn:?}");
    assert!(drawn.contains("migration 2/2"), "{drawn:?}");
    assert!(drawn.contains("001_slow.up.sql:1  SELECT pg_sleep(0.6)"), "{drawn:?}");
    // An elapsed time is drawn, `[hh:mm:ss]`, whatever its value (a busy machine may take longer
    // than ten seconds: no wall-clock bound in a test).
    let clock = |w: &[u8]| {
        w[0] == b'['
            && w[9] == b']'
            && w[3] == b':'
            && w[6] == b':'
            && [1, 2, 4, 5, 7, 8].iter().all(|&i| w[i].is_ascii_digit())
    };
    assert!(drawn.as_bytes().windows(10).any(clock), "elapsed time: {drawn:?}");
    let quiet = on_terminal("--quiet");
    assert!(!quiet.contains("migration 1/2"), "{quiet:?}");
}
