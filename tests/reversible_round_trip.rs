//! `--reversible` against a real PostgreSQL: up → snapshot → down → compare with before up → up
//! again, in the one rolled-back transaction. A clean pair passes; each broken down produces its
//! exact difference; a missing down, a failing down and data a down destroys are reported; the
//! target is left exactly as it was.

mod common;
mod support;

use lockscope::source::Direction;
use lockscope::trace::{self, Mode, ReversibilityTrace, Trace, TraceOptions, TracedBackend};
use support::*;

const SEED: &str = "
    CREATE TYPE user_status AS ENUM ('active', 'blocked');
    CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, phone text,
                        status user_status NOT NULL DEFAULT 'active');
    CREATE UNIQUE INDEX users_email_idx ON users (email);
    INSERT INTO users SELECT g, 'u' || g || '@example.com', '+1-555-' || g, 'active' FROM generate_series(1, 3000) g;
    CREATE TABLE orders (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users,
                         quantity integer NOT NULL DEFAULT 1);
    INSERT INTO orders SELECT g, 1 + g % 3000, g % 7 + 1 FROM generate_series(1, 2000) g;
    ANALYZE users; ANALYZE orders;
";
const SEEDED: &[&str] = &["users", "orders"];

async fn seeded() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    db
}

/// Traces `files` with `--reversible` through the library, asserting the target is unchanged.
async fn round_trip(db: &common::TestDb, files: &[(&str, &str)]) -> Checked {
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = migrations(files);
    let plan = lockscope::plan::plan_with(&[dir.path().to_path_buf()], Direction::Up, None, true).expect("plan");
    let options = TraceOptions { mode: Mode::DryRun, ..TraceOptions::default() };
    let trace = trace::run_reversible(&db.target, &plan.migrations, &plan.downs, &options, &TracedBackend::default())
        .await
        .expect("trace");
    let mut assessment = lockscope::analyze::Assessment::empty_for(&trace);
    lockscope::analyze::reversible::judge(&trace, &mut assessment);
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await, "the round trip left a trace on the target");
    Checked { trace, assessment }
}

fn reversibility(trace: &Trace, migration: usize) -> &ReversibilityTrace {
    trace.migrations[migration].reversibility.as_ref().expect("a round trip")
}

/// What the down did not put back, as judged.
fn judged_differences(checked: &Checked, migration: usize) -> &[lockscope::analyze::ReversibilityDifference] {
    &checked.assessment.migrations[migration].reversibility
}

fn differences(checked: &Checked, migration: usize) -> Vec<String> {
    judged_differences(checked, migration).iter().map(|d| d.message.clone()).collect()
}

fn reversibility_findings(trace: &Checked) -> Vec<(String, String, String)> {
    statements(trace)
        .iter()
        .flat_map(|s| s.findings.iter())
        .filter(|f| f.rule.starts_with("LS30"))
        .map(|f| (f.rule.clone(), f.severity.name().to_string(), f.message.clone()))
        .collect()
}

#[tokio::test]
async fn a_clean_pair_round_trips() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            (
                "001_nickname.up.sql",
                "ALTER TABLE users ADD COLUMN nickname text;\nCREATE INDEX users_nickname_idx ON users (nickname);",
            ),
            ("001_nickname.down.sql", "DROP INDEX users_nickname_idx;\nALTER TABLE users DROP COLUMN nickname;"),
        ],
    )
    .await;
    let round = reversibility(&trace, 0);
    assert_eq!(round.skipped, None);
    assert!(round.down_failed.is_none() && round.reapply_failed.is_none(), "{round:?}");
    assert!(judged_differences(&trace, 0).is_empty(), "{:?}", judged_differences(&trace, 0));
    assert!(reversibility_findings(&trace).is_empty(), "{:?}", reversibility_findings(&trace));
    // The down's own statements are observed like the up's.
    assert_eq!(round.down.len(), 2);
    assert!(round.down.iter().all(|s| s.executed));
    assert!(
        locks(&round.down[1]).iter().any(|l| l.0 == "AccessExclusiveLock" && l.1 == "public.users"),
        "{:?}",
        locks(&round.down[1])
    );
}

#[tokio::test]
async fn a_down_that_forgets_a_column_leaves_it_behind() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            ("001_nickname.up.sql", "ALTER TABLE users ADD COLUMN nickname text;"),
            ("001_nickname.down.sql", "SELECT 1;"),
        ],
    )
    .await;
    assert_eq!(differences(&trace, 0), ["down leaves column public.users.nickname behind"]);
    let failure = reversibility(&trace, 0).reapply_failed.as_ref().expect("the second up fails");
    assert_eq!(failure.line, 1);
    assert!(failure.message.contains("column \"nickname\" of relation \"users\" already exists"), "{failure:?}");
    let findings = reversibility_findings(&trace);
    assert!(
        findings.contains(&("LS301".into(), "high".into(), "down leaves column public.users.nickname behind".into())),
        "{findings:?}"
    );
}

#[tokio::test]
async fn a_down_that_recreates_a_unique_index_without_unique() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            (
                "001_lower_email.up.sql",
                "DROP INDEX users_email_idx;\nCREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email));",
            ),
            (
                "001_lower_email.down.sql",
                "DROP INDEX users_email_lower_idx;\nCREATE INDEX users_email_idx ON users (email);",
            ),
        ],
    )
    .await;
    assert_eq!(differences(&trace, 0), ["down recreates index public.users_email_idx without UNIQUE"]);
    assert!(reversibility(&trace, 0).reapply_failed.is_none());
}

#[tokio::test]
async fn a_down_that_restores_the_wrong_type() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            ("001_quantity.up.sql", "ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;"),
            ("001_quantity.down.sql", "ALTER TABLE orders ALTER COLUMN quantity TYPE numeric;"),
        ],
    )
    .await;
    assert_eq!(differences(&trace, 0), ["down leaves column public.orders.quantity as numeric (integer before up)"]);
}

#[tokio::test]
async fn a_down_cannot_take_an_enum_value_back() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[("001_deleted.up.sql", "ALTER TYPE user_status ADD VALUE 'deleted';"), ("001_deleted.down.sql", "SELECT 1;")],
    )
    .await;
    assert_eq!(
        differences(&trace, 0),
        ["down leaves enum user_status with labels ('active', 'blocked', 'deleted') (('active', 'blocked') before up)"]
    );
}

#[tokio::test]
async fn a_missing_down_is_reported() {
    let db = seeded().await;
    let trace = round_trip(&db, &[("001_nickname.up.sql", "ALTER TABLE users ADD COLUMN nickname text;")]).await;
    assert!(reversibility(&trace, 0).missing_down);
    assert_eq!(
        reversibility_findings(&trace),
        [(
            "LS302".to_string(),
            "medium".to_string(),
            "migration 001 has no down script: it cannot be rolled back".to_string()
        )]
    );
}

#[tokio::test]
async fn a_down_that_does_not_bring_moved_data_back() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            (
                "001_phones.up.sql",
                "CREATE TABLE user_phones AS SELECT id AS user_id, phone FROM users;\nALTER TABLE users DROP COLUMN phone;",
            ),
            ("001_phones.down.sql", "ALTER TABLE users ADD COLUMN phone text;\nDROP TABLE user_phones;"),
        ],
    )
    .await;
    let found = differences(&trace, 0);
    for expected in [
        "down recreates column public.users.phone at position 4 (position 3 before up)",
        "down does not restore the data of column public.users.phone: 3000 values before up, 0 after down",
        "down drops table public.user_phones and the 3000 rows the up put in it (and any written after the up ran)",
    ] {
        assert!(found.iter().any(|d| d == expected), "missing {expected:?} in {found:#?}");
    }
    let findings = reversibility_findings(&trace);
    assert!(
        findings.iter().any(|f| f.0 == "LS303" && f.1 == "high" && f.2.contains("3000 values before up")),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| f.0 == "LS303" && f.1 == "medium" && f.2.contains("user_phones")), "{findings:?}");
    assert!(findings.iter().any(|f| f.0 == "LS301" && f.1 == "low"), "{findings:?}");
}

#[tokio::test]
async fn a_failing_down_is_reported_and_the_next_migration_still_runs() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            ("001_a.up.sql", "ALTER TABLE users ADD COLUMN a integer;"),
            ("001_a.down.sql", "ALTER TABLE users DROP COLUMN nope;"),
            ("002_b.up.sql", "ALTER TABLE users ADD COLUMN b integer;\nUPDATE users SET b = a;"),
            ("002_b.down.sql", "ALTER TABLE users DROP COLUMN b;"),
        ],
    )
    .await;
    assert_eq!(trace.outcome, lockscope::trace::Outcome::Completed);
    let failure = reversibility(&trace, 0).down_failed.as_ref().expect("the down fails");
    assert!(failure.message.contains("column \"nope\" of relation \"users\" does not exist"), "{failure:?}");
    let findings = reversibility_findings(&trace);
    assert!(
        findings.iter().any(|f| f.0 == "LS301" && f.2.starts_with("down fails right after up, at line 1:")),
        "{findings:?}"
    );
    // 002 ran after 001's up (column a exists) and round-trips cleanly.
    assert!(differences(&trace, 1).is_empty(), "{:?}", differences(&trace, 1));
    assert!(reversibility(&trace, 1).down_failed.is_none());
}

#[tokio::test]
async fn a_round_trip_that_cannot_run_in_a_transaction_is_skipped_with_the_reason() {
    let db = seeded().await;
    let trace = round_trip(
        &db,
        &[
            ("001_idx.up.sql", "CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);"),
            ("001_idx.down.sql", "DROP INDEX CONCURRENTLY orders_user_idx;"),
        ],
    )
    .await;
    let round = reversibility(&trace, 0);
    let reason = round.skipped.as_deref().unwrap_or_default();
    assert!(
        reason.contains("001_idx.up.sql:1") && reason.contains("cannot run inside a transaction block"),
        "{reason}"
    );
    assert!(judged_differences(&trace, 0).is_empty() && round.down.is_empty());
}

#[tokio::test]
async fn cli_reversible_json_and_exit_codes() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let broken = migrations(&[
        ("001_nickname.up.sql", "ALTER TABLE users ADD COLUMN nickname text;"),
        ("001_nickname.down.sql", "SELECT 1;"),
    ]);
    let output = lockscope()
        .args(["check", "--reversible", "--format", "json", "--database-url", &db.url])
        .arg(broken.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a broken down is a high finding; stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let round = &report["migrations"][0]["reversibility"];
    assert_eq!(round["differences"][0]["message"], "down leaves column public.users.nickname behind");
    assert_eq!(round["differences"][0]["object"], "column public.users.nickname");
    assert!(round["down_path"].as_str().unwrap().ends_with("001_nickname.down.sql"));
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "LS301" && f["severity"] == "high"));

    let clean = migrations(&[
        ("001_nickname.up.sql", "ALTER TABLE users ADD COLUMN nickname text;"),
        ("001_nickname.down.sql", "ALTER TABLE users DROP COLUMN nickname;"),
    ]);
    let output = lockscope()
        .args(["check", "--reversible", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .arg(clean.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(report["migrations"][0]["reversibility"]["differences"].as_array().unwrap().is_empty());
    assert!(!report["findings"].as_array().unwrap().iter().any(|f| f["rule"].as_str().unwrap().starts_with("LS30")));

    let output = lockscope()
        .args(["check", "--reversible", "--direction", "down", "--database-url", &db.url])
        .arg(clean.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--reversible runs up, then down, then up again"));
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}
