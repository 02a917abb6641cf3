//! Pending detection from each migration tool's own ledger, created by hand on a real server the
//! way the tool creates it, with some migrations really applied: which migrations are checked,
//! which are skipped, dirty flags and checksum mismatches reported loudly, `--all`, and a missing
//! ledger said out loud.

mod common;
mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layouts").join(name)
}

/// Applies the first `count` migrations of a fixture for real (their up scripts), as the tool would have.
async fn apply(db: &common::TestDb, name: &str, count: usize) {
    let discovery = lockscope::source::discover_with(&[fixture(name)], None).unwrap();
    let mut conn = db.connect().await;
    for migration in discovery.migrations.iter().take(count) {
        common::execute(&mut conn, &migration.up.as_ref().unwrap().text).await;
    }
}

async fn ledger(db: &common::TestDb, sql: &str) {
    let mut conn = db.connect().await;
    common::execute(&mut conn, sql).await;
}

/// `lockscope check --format json` against the test database; exit code and report.
fn check(db: &common::TestDb, path: PathBuf, extra: &[&str]) -> (i32, Value, String) {
    let output = lockscope()
        .args(["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .args(extra)
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), report, stderr)
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap_or(&Vec::new()).iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

fn traced_versions(report: &Value) -> Vec<String> {
    report["migrations"].as_array().unwrap().iter().map(|m| m["version"].as_str().unwrap().to_string()).collect()
}

fn notes(report: &Value) -> String {
    strings(&report["notes"]).join("\n")
}

const GOLANG_MIGRATE_LEDGER: &str =
    "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);";

#[tokio::test]
async fn golang_migrate_everything_up_to_the_recorded_version_is_applied() {
    let db = common::fresh_database().await;
    apply(&db, "golang-migrate", 2).await;
    ledger(&db, &format!("{GOLANG_MIGRATE_LEDGER} INSERT INTO schema_migrations VALUES (2, false);")).await;
    let (code, report, stderr) = check(&db, fixture("golang-migrate"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["10"]);
    let pending = &report["pending"];
    assert_eq!(pending["layout"], "golang-migrate");
    assert_eq!(pending["ledger"], "public.schema_migrations");
    assert_eq!(pending["ledger_found"], true);
    assert_eq!(strings(&pending["skipped"]), ["1", "2"]);
    assert_eq!(strings(&pending["checked"]), ["10"]);
    assert!(pending["dirty"].is_null());
    assert!(
        notes(&report)
            .contains("public.schema_migrations records 2 migrations as applied: skipped 1, 2; checking 1 pending: 10"),
        "{}",
        notes(&report)
    );
}

#[tokio::test]
async fn golang_migrate_dirty_flag_is_reported_loudly() {
    let db = common::fresh_database().await;
    apply(&db, "golang-migrate", 2).await;
    ledger(&db, &format!("{GOLANG_MIGRATE_LEDGER} INSERT INTO schema_migrations VALUES (2, true);")).await;
    let (code, report, stderr) = check(&db, fixture("golang-migrate"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["pending"]["dirty"]["migration"], "2");
    let first_note = strings(&report["notes"])[0].clone();
    assert!(first_note.starts_with("DIRTY: golang-migrate's ledger marks version 2 dirty"), "{first_note}");

    // The terminal report says it too.
    let output = lockscope()
        .args(["check", "--fail-on", "never", "--no-color", "--database-url", &db.url])
        .arg(fixture("golang-migrate"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("note: DIRTY: golang-migrate's ledger marks version 2 dirty"), "{text}");
}

#[tokio::test]
async fn all_checks_every_migration_and_says_what_the_ledger_claims() {
    let db = common::fresh_database().await;
    // A ledger that claims more than the database holds: --all checks everything regardless.
    ledger(&db, &format!("{GOLANG_MIGRATE_LEDGER} INSERT INTO schema_migrations VALUES (2, false);")).await;
    let (code, report, stderr) = check(&db, fixture("golang-migrate"), &["--all"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["1", "2", "10"]);
    assert_eq!(report["pending"]["all"], true);
    assert_eq!(strings(&report["pending"]["applied"]), ["1", "2"]);
    assert!(strings(&report["pending"]["skipped"]).is_empty());
    assert!(
        notes(&report)
            .contains("--all: checking every migration; public.schema_migrations records 2 of them as applied (1, 2)"),
        "{}",
        notes(&report)
    );
}

#[tokio::test]
async fn direction_down_checks_the_applied_migrations_newest_first() {
    let db = common::fresh_database().await;
    apply(&db, "golang-migrate", 2).await;
    ledger(&db, &format!("{GOLANG_MIGRATE_LEDGER} INSERT INTO schema_migrations VALUES (2, false);")).await;
    let (code, report, stderr) = check(&db, fixture("golang-migrate"), &["--direction", "down"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["2", "1"]);
}

#[tokio::test]
async fn a_missing_ledger_is_said_and_everything_is_checked() {
    let db = common::fresh_database().await;
    let (code, report, stderr) = check(&db, fixture("goose"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["00001", "00002", "00003"]);
    assert_eq!(report["pending"]["ledger_found"], false);
    assert!(report["pending"]["ledger"].is_null());
    assert!(
        notes(&report).contains(
            "no goose ledger on the target (no table goose_db_version in any schema): checking every migration"
        ),
        "{}",
        notes(&report)
    );

    let (_, report, _) = check(&db, fixture("plain"), &[]);
    assert!(notes(&report).contains("plain numbered files belong to no migration tool"), "{}", notes(&report));
}

#[tokio::test]
async fn a_schema_migrations_table_of_another_tool_is_not_taken_for_golang_migrates() {
    let db = common::fresh_database().await;
    ledger(&db, "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('1');")
        .await;
    let (code, report, stderr) = check(&db, fixture("golang-migrate"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["1", "2", "10"]);
    assert!(
        notes(&report).contains("public.schema_migrations has no column dirty: it is not golang-migrate's ledger"),
        "{}",
        notes(&report)
    );
}

#[tokio::test]
async fn goose_latest_row_of_each_version_decides() {
    let db = common::fresh_database().await;
    apply(&db, "goose", 2).await;
    ledger(
        &db,
        "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, \
         tstamp timestamp NULL DEFAULT now(), PRIMARY KEY (id));
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false);",
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("goose"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["00003"], "version 3 was applied, then rolled back");
    assert_eq!(report["pending"]["ledger"], "public.goose_db_version");
}

#[tokio::test]
async fn dbmate_records_versions_as_text() {
    let db = common::fresh_database().await;
    apply(&db, "dbmate", 2).await;
    ledger(
        &db,
        "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000');",
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("dbmate"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["20240103000000"]);
    assert_eq!(strings(&report["pending"]["skipped"]), ["20240101000000", "20240102000000"]);
}

const FLYWAY_LEDGER: &str = "CREATE TABLE flyway_schema_history (
    installed_rank integer NOT NULL PRIMARY KEY,
    version varchar(50),
    description varchar(200) NOT NULL,
    type varchar(20) NOT NULL,
    script varchar(1000) NOT NULL,
    checksum integer,
    installed_by varchar(100) NOT NULL,
    installed_on timestamp NOT NULL DEFAULT now(),
    execution_time integer NOT NULL,
    success boolean NOT NULL);";

/// Flyway's checksums of the fixture files, computed outside lockscope (Python's zlib.crc32 over
/// each file with its line breaks removed, as a signed 32-bit integer): what Flyway records.
const FLYWAY_V1_CHECKSUM: i32 = -618612368;
const FLYWAY_V1_1_CHECKSUM: i32 = -596222700;
const FLYWAY_R_CHECKSUM: i32 = 1666975027;

#[tokio::test]
async fn flyway_reports_an_applied_migration_whose_file_changed() {
    let db = common::fresh_database().await;
    apply(&db, "flyway", 2).await;
    ledger(
        &db,
        &format!(
            "{FLYWAY_LEDGER}
             INSERT INTO flyway_schema_history VALUES
               (1, '1', 'create users', 'SQL', 'V1__create_users.sql', {FLYWAY_V1_CHECKSUM}, 'me', now(), 5, true),
               (2, '1.1', 'add email', 'SQL', 'V1_1__add_email.sql', 12345, 'me', now(), 5, true);"
        ),
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("flyway"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["2", ""], "V2 and the never-run repeatable migration");
    let mismatches = report["pending"]["checksum_mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert_eq!(mismatches[0]["migration"], "1.1");
    assert_eq!(mismatches[0]["recorded"], "12345");
    assert_eq!(mismatches[0]["file"], FLYWAY_V1_1_CHECKSUM.to_string());
    assert!(
        notes(&report)
            .contains("applied migration 1.1 has changed since it was applied: the ledger records checksum 12345"),
        "{}",
        notes(&report)
    );
}

#[tokio::test]
async fn flyway_matching_checksums_and_a_failed_migration() {
    let db = common::fresh_database().await;
    apply(&db, "flyway", 2).await;
    let mut conn = db.connect().await;
    common::execute(&mut conn, "CREATE VIEW user_emails AS SELECT id, email FROM users;").await;
    ledger(
        &db,
        &format!(
            "{FLYWAY_LEDGER}
             INSERT INTO flyway_schema_history VALUES
               (1, '1', 'create users', 'SQL', 'V1__create_users.sql', {FLYWAY_V1_CHECKSUM}, 'me', now(), 5, true),
               (2, '1.1', 'add email', 'SQL', 'V1_1__add_email.sql', {FLYWAY_V1_1_CHECKSUM}, 'me', now(), 5, true),
               (3, NULL, 'users view', 'SQL', 'R__users_view.sql', {FLYWAY_R_CHECKSUM}, 'me', now(), 5, true),
               (4, '2', 'index email', 'SQL', 'V2__index_email.sql', NULL, 'me', now(), 5, false);"
        ),
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("flyway"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["2"], "the repeatable migration is unchanged since it ran");
    assert!(report["pending"]["checksum_mismatches"].as_array().unwrap().is_empty());
    assert_eq!(report["pending"]["dirty"]["migration"], "2");
    assert!(notes(&report).starts_with("FAILED: Flyway's ledger records migration 2"), "{}", notes(&report));
}

const SQLX_LEDGER: &str = "CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL);";

/// SHA-384 of the fixture's first up file, computed outside lockscope (Python's hashlib).
const SQLX_CREATE_USERS_SHA384: &str =
    "88d87573091879dc04763f3bf37e4132a71746205619ac580492fb5823a00492a66bb16df8423f16395bdfad67f49a9c";

#[tokio::test]
async fn sqlx_checksum_mismatch_and_dirty_migration() {
    let db = common::fresh_database().await;
    apply(&db, "sqlx", 2).await;
    ledger(
        &db,
        &format!(
            "{SQLX_LEDGER}
             INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
               (20240101000000, 'create users', true, '\\x{SQLX_CREATE_USERS_SHA384}', 1),
               (20240102000000, 'add email', true, '\\x00ff', 1),
               (20240103000000, 'index email', false, '\\x00', 1);"
        ),
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("sqlx"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["20240103000000"], "a partially applied migration is still pending");
    let pending = &report["pending"];
    assert_eq!(pending["dirty"]["migration"], "20240103000000");
    let mismatches = pending["checksum_mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert_eq!(mismatches[0]["migration"], "20240102000000");
    assert_eq!(mismatches[0]["recorded"], "00ff");
    assert!(notes(&report).starts_with("DIRTY: sqlx's ledger marks migration 20240103000000"), "{}", notes(&report));
}

#[tokio::test]
async fn golang_migrate_looking_files_with_only_a_sqlx_ledger_use_it() {
    let db = common::fresh_database().await;
    apply(&db, "golang-migrate", 1).await;
    let discovery = lockscope::source::discover_with(&[fixture("golang-migrate")], None).unwrap();
    let checksum = lockscope::ledger::checksum::hex(&lockscope::ledger::checksum::sqlx(
        &discovery.migrations[0].up.as_ref().unwrap().contents,
    ));
    ledger(
        &db,
        &format!(
            "{SQLX_LEDGER} INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (1, 'create users', true, '\\x{checksum}', 1);"
        ),
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("golang-migrate"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["2", "10"]);
    assert_eq!(report["pending"]["ledger_tool"], "sqlx");
    assert!(
        notes(&report).contains("the file names fit both golang-migrate and sqlx, and the target has sqlx's ledger"),
        "{}",
        notes(&report)
    );
}

#[tokio::test]
async fn diesel_records_folder_versions() {
    let db = common::fresh_database().await;
    apply(&db, "diesel", 2).await;
    ledger(
        &db,
        "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
         run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000'), ('20240102000000');",
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("diesel"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["20240103000000"]);
}

const PRISMA_LEDGER: &str = r#"CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id"));"#;

/// SHA-256 (hex) of the fixture's migration.sql files, computed outside lockscope (Python's hashlib).
const PRISMA_CREATE_USERS_SHA256: &str = "9842c31324817a53eb72ac2eee0ea4f3c9c4e8f6eb59e780a11a3e23675412a8";
const PRISMA_ADD_EMAIL_SHA256: &str = "45526531b9e04dd0d4c4da3162f55488a9fed5a23ddfb09345c3c008775a11af";

#[tokio::test]
async fn prisma_applied_failed_and_changed_migrations() {
    let db = common::fresh_database().await;
    apply(&db, "prisma", 2).await;
    ledger(
        &db,
        &format!(
            "{PRISMA_LEDGER}
             INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES
               ('a', '{PRISMA_CREATE_USERS_SHA256}', now(), '20240101000000_create_users', 1),
               ('b', '{PRISMA_ADD_EMAIL_SHA256}', now(), '20240102000000_add_email', 1);"
        ),
    )
    .await;
    let (code, report, stderr) = check(&db, fixture("prisma"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(traced_versions(&report), ["20240103000000"]);
    assert_eq!(strings(&report["pending"]["skipped"]), ["20240101000000_create_users", "20240102000000_add_email"]);
    assert!(report["pending"]["checksum_mismatches"].as_array().unwrap().is_empty());

    ledger(
        &db,
        "UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE id = 'b';
         INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('c', repeat('1', 64), '20240103000000_index_email');",
    )
    .await;
    let (_, report, _) = check(&db, fixture("prisma"), &[]);
    assert_eq!(report["pending"]["dirty"]["migration"], "20240103000000_index_email");
    assert!(notes(&report).starts_with("FAILED: Prisma's ledger records migration 20240103000000_index_email"));
    let mismatches = report["pending"]["checksum_mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 1);
    assert_eq!(mismatches[0]["migration"], "20240102000000_add_email");
    assert_eq!(mismatches[0]["file"], PRISMA_ADD_EMAIL_SHA256);
}

#[tokio::test]
async fn reading_the_ledger_leaves_no_trace() {
    let db = common::fresh_database().await;
    apply(&db, "golang-migrate", 2).await;
    ledger(&db, &format!("{GOLANG_MIGRATE_LEDGER} INSERT INTO schema_migrations VALUES (2, false);")).await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, &["schema_migrations", "users"]).await;
    let (code, _, stderr) = check(&db, fixture("golang-migrate"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(before, fingerprint(&mut conn, &["schema_migrations", "users"]).await);
}
