//! Helpers shared by the trace tests: a fingerprint of everything a dry-run must leave untouched,
//! and shortcuts to run `check` through the library and through the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use lockscope::analyze::Assessment;
use lockscope::report::StatementView;
use lockscope::source::Direction;
use lockscope::trace::{self, Mode, StatementTrace, Trace, TraceOptions, TracedBackend};
use sqlx::postgres::PgConnection;

/// Everything the first safety invariant (docs/ARCHITECTURE.md) says a dry-run must leave as it was: schema
/// (with storage identity), data of the given tables, sequences, prepared transactions, advisory
/// locks, and sessions named lockscope.
pub async fn fingerprint(conn: &mut PgConnection, tables: &[&str]) -> String {
    fingerprint_with(conn, tables, true).await
}

/// [`fingerprint`], optionally without sequence values: PostgreSQL's crash recovery itself moves
/// sequences ahead (it WAL-logs them 32 values in advance), whoever was connected.
pub async fn fingerprint_with(conn: &mut PgConnection, tables: &[&str], with_sequences: bool) -> String {
    // A killed lockscope's backend needs a moment to notice and exit; wait for it first.
    let sessions = lockscope_sessions(conn).await;
    let schema: String = sqlx::query_scalar(
        r#"
        SELECT coalesce(md5(string_agg(x, E'\n' ORDER BY x)), '') FROM (
            SELECT format('rel %s.%s %s %s', n.nspname, c.relname, c.relkind, c.relfilenode)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT format('col %s %s %s %s %s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
                          a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attnum > 0 AND NOT a.attisdropped
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT format('con %s %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated)
            FROM pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
            UNION ALL
            SELECT format('fn %s', p.oid::regprocedure) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT format('type %s', t.oid::regtype) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
            UNION ALL
            SELECT format('seq %s %s', seqrelid::regclass, CASE WHEN $1 THEN pg_sequence_last_value(seqrelid) END)
            FROM pg_sequence
            UNION ALL
            SELECT format('prepared %s', gid) FROM pg_prepared_xacts WHERE database = current_database()
            UNION ALL
            SELECT format('advisory %s %s %s %s', classid, objid, mode, granted) FROM pg_locks
            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        ) AS t(x)
        "#,
    )
    .bind(with_sequences)
    .fetch_one(&mut *conn)
    .await
    .expect("schema fingerprint");
    let mut data = String::new();
    for table in tables {
        let sql = format!("SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} t");
        let digest: String =
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await.expect("data fingerprint");
        data.push_str(&format!("{table}={digest};"));
    }
    format!("schema={schema}; {data} lockscope_sessions={sessions}")
}

/// Sessions named lockscope*, waiting up to 10s for ones that are shutting down.
pub async fn lockscope_sessions(conn: &mut PgConnection) -> i64 {
    let mut count = 0;
    for _ in 0..100 {
        count = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'lockscope%' \
             AND application_name <> 'lockscope-test' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("counting sessions");
        if count == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    count
}

/// Writes migration files into a new temporary directory.
pub fn migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write migration");
    }
    dir
}

/// A dry-run through the library: what it observed (`Deref` to the [`Trace`]) and what the rules
/// concluded about it.
pub struct Checked {
    pub trace: Trace,
    pub assessment: Assessment,
}

impl std::ops::Deref for Checked {
    type Target = Trace;
    fn deref(&self) -> &Trace {
        &self.trace
    }
}

/// Runs a dry-run of the migrations in `dir` through the library, and judges it.
pub async fn dry_run(target: &lockscope::db::Target, dir: &Path) -> Checked {
    dry_run_with(target, dir, TraceOptions::default()).await
}

pub async fn dry_run_with(target: &lockscope::db::Target, dir: &Path, options: TraceOptions) -> Checked {
    let plan = lockscope::plan::plan(&[dir.to_path_buf()], Direction::Up).expect("plan");
    let options = TraceOptions { mode: Mode::DryRun, ..options };
    let trace = trace::run(target, &plan, &options, &TracedBackend::default()).await.expect("trace");
    let assessment = lockscope::analyze::analyze(&plan, &trace, &lockscope::analyze::Options::default());
    Checked { trace, assessment }
}

/// A traced run, judged ([`Checked`]) or not ([`Trace`]).
pub trait Run {
    fn parts(&self) -> (&Trace, Option<&Assessment>);
}

impl Run for Trace {
    fn parts(&self) -> (&Trace, Option<&Assessment>) {
        (self, None)
    }
}

impl Run for Checked {
    fn parts(&self) -> (&Trace, Option<&Assessment>) {
        (&self.trace, Some(&self.assessment))
    }
}

/// All statements of a run, in order, each beside its findings (none when it was not judged).
pub fn statements<R: Run>(run: &R) -> Vec<StatementView<'_>> {
    let (trace, assessment) = run.parts();
    let mut all = Vec::new();
    for (index, migration) in trace.migrations.iter().enumerate() {
        let judged = assessment.and_then(|a| a.migrations.get(index));
        all.extend(lockscope::report::MigrationView::new(migration, judged).statements);
    }
    all
}

/// The statement whose SQL starts with `prefix`.
pub fn statement<'a, R: Run>(checked: &'a R, prefix: &str) -> StatementView<'a> {
    statements(checked).into_iter().find(|s| s.sql.starts_with(prefix)).unwrap_or_else(|| {
        panic!(
            "no statement starting with {prefix:?} in {:#?}",
            statements(checked).iter().map(|s| s.sql.clone()).collect::<Vec<_>>()
        )
    })
}

/// `(mode, relation, source)` of each lock, for compact assertions.
pub fn locks(statement: impl std::ops::Deref<Target = StatementTrace>) -> Vec<(String, String, String)> {
    statement
        .locks
        .iter()
        .map(|l| (l.mode.pg_name().to_string(), l.relation.clone(), format!("{:?}", l.source).to_lowercase()))
        .collect()
}

/// The lockscope binary built for these tests.
pub fn lockscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockscope"))
}

pub fn path_of(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().to_path_buf()
}
