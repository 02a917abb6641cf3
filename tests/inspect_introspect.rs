//! Target introspection on seeded data: sizes (measured and estimated), a used index and an
//! unused one, an invalid index, NOT VALID constraints, and the statistics reset time; and the
//! one-shot `lockscope inspect` overview built on it.

mod common;

use std::time::{Duration, Instant};

use lockscope::introspect::{
    self, configure_read_only_session, ConstraintKind, Definitions, IntrospectOptions, Introspection, Measure,
    SessionLimits, SizeSource,
};
use lockscope::watch::{self, InspectOptions, Sampler, SamplerOptions};
use sqlx::postgres::PgConnection;
use sqlx::Connection;

const SEED: &str = "
    CREATE TABLE accounts (id integer PRIMARY KEY, email text NOT NULL, note text, created date);
    ALTER TABLE accounts ALTER COLUMN note SET STORAGE EXTERNAL;
    INSERT INTO accounts
        SELECT g, 'user' || g || '@example.com',
               CASE WHEN g <= 200 THEN repeat('n', 3000) END,
               date '2024-01-01' + g % 365
        FROM generate_series(1, 5000) g;
    CREATE INDEX accounts_email_idx ON accounts (email);
    CREATE INDEX accounts_created_idx ON accounts (created) INCLUDE (email);
    CREATE TABLE payments (id serial PRIMARY KEY, account_id integer NOT NULL, amount integer NOT NULL);
    INSERT INTO payments (account_id, amount) SELECT 1 + g % 5000, g % 50 FROM generate_series(1, 3000) g;
    ALTER TABLE payments ADD CONSTRAINT payments_account_fk
        FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
    ALTER TABLE payments ADD CONSTRAINT payments_amount_positive CHECK (amount > 0) NOT VALID;
";

async fn seeded() -> (common::TestDb, PgConnection) {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    common::execute(&mut conn, SEED).await;
    // amount has duplicates: the unique build fails and leaves an invalid index behind.
    let failed = sqlx::raw_sql("CREATE UNIQUE INDEX CONCURRENTLY payments_amount_uniq ON payments (amount)")
        .execute(&mut conn)
        .await;
    assert!(failed.is_err(), "the unique index must fail on duplicates");
    common::execute(&mut conn, "VACUUM ANALYZE accounts").await;
    common::execute(&mut conn, "VACUUM ANALYZE payments").await;
    common::execute(&mut conn, "SELECT pg_stat_reset()").await;
    // Use one index (three index scans) and scan payments once, on a connection that then exits
    // (a backend flushes its statistics when it ends).
    let mut user = db.connect().await;
    common::execute(
        &mut user,
        "SET enable_seqscan = off;
         SELECT * FROM accounts WHERE email = 'user42@example.com';
         SELECT * FROM accounts WHERE email = 'user43@example.com';
         SELECT * FROM accounts WHERE email = 'user44@example.com';
         SET enable_seqscan = on; SET enable_indexscan = off; SET enable_bitmapscan = off;
         SELECT count(*) FROM payments;",
    )
    .await;
    let _ = user.close().await;
    (db, conn)
}

async fn read_only(db: &common::TestDb) -> PgConnection {
    let mut conn = db.connect().await;
    configure_read_only_session(
        &mut conn,
        SessionLimits { statement_timeout: Duration::from_secs(5), lock_timeout: Duration::from_millis(100) },
    )
    .await
    .expect("configure");
    conn
}

/// Introspects until the index scans above have reached the statistics (they arrive when the
/// backend that made them exits).
async fn introspect_after_stats_flush(conn: &mut PgConnection, options: &IntrospectOptions) -> Introspection {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = introspect::introspect(conn, options).await.expect("introspect");
        let email_scans = found.indexes.iter().find(|i| i.name == "accounts_email_idx").map_or(0, |i| i.idx_scan);
        if email_scans >= 3 || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn scalar_i64(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_reports_sizes_usage_validity_and_since_when() {
    let (db, mut check) = seeded().await;
    let mut conn = read_only(&db).await;
    let found = introspect_after_stats_flush(
        &mut conn,
        &IntrospectOptions { measure: Measure::All, definitions: Definitions::Flagged },
    )
    .await;

    // Statistics were just reset, and the overview says since when.
    let age = found.server.stats_age_s.expect("stats_reset is set after pg_stat_reset()");
    assert!(age < 600.0, "{age}");
    assert!(found.server.stats_since().starts_with("since "), "{}", found.server.stats_since());
    assert!(found.server.version_num >= 140_000);

    let accounts = found.table_named("public.accounts").expect("accounts");
    assert_eq!(accounts.reltuples, Some(5000.0));
    assert!(accounts.relpages > 0);
    assert_eq!(accounts.size.source, SizeSource::Measured);
    let toast = scalar_i64(
        &mut check,
        "SELECT pg_total_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'accounts'::regclass",
    )
    .await;
    assert!(toast > 200 * 3000, "the notes are out of line ({toast})");
    assert_eq!(accounts.size.toast_bytes, toast);
    assert_eq!(accounts.size.heap_bytes, scalar_i64(&mut check, "SELECT pg_table_size('accounts')").await - toast);
    assert_eq!(accounts.size.indexes_bytes, scalar_i64(&mut check, "SELECT pg_indexes_size('accounts')").await);
    assert_eq!(accounts.size.total_bytes, scalar_i64(&mut check, "SELECT pg_total_relation_size('accounts')").await);
    assert_eq!(found.largest_tables(1)[0].name, "accounts");

    // A used index and an unused one.
    let email = found.indexes.iter().find(|i| i.name == "accounts_email_idx").expect("email idx");
    assert!(email.idx_scan >= 3, "scans: {}", email.idx_scan);
    assert_eq!(email.columns, vec!["email"]);
    let created = found.indexes.iter().find(|i| i.name == "accounts_created_idx").expect("created idx");
    assert_eq!(created.idx_scan, 0);
    assert_eq!(created.columns, vec!["created"]);
    assert_eq!(created.include_columns, vec!["email"]);
    assert_eq!(created.size_source, SizeSource::Measured);
    assert_eq!(
        created.size_bytes,
        scalar_i64(&mut check, "SELECT pg_total_relation_size('accounts_created_idx')").await
    );
    let unused: Vec<&str> = found.unused_indexes().iter().map(|i| i.name.as_str()).collect();
    assert!(unused.contains(&"accounts_created_idx"), "{unused:?}");
    assert!(!unused.contains(&"accounts_email_idx"), "{unused:?}");
    if found.server.version_num >= 160_000 {
        assert!(email.last_idx_scan.is_some(), "last_idx_scan on PostgreSQL 16+");
    } else {
        assert_eq!(email.last_idx_scan, None, "no last_idx_scan before PostgreSQL 16");
    }
    assert_eq!(created.last_idx_scan, None);
    let pkey = found.indexes.iter().find(|i| i.name == "accounts_pkey").expect("pkey");
    assert!(pkey.is_primary && pkey.is_unique && pkey.enforces_constraint());
    assert_eq!(pkey.constraint.as_deref(), Some("accounts_pkey"));

    // The failed unique build left an invalid index; its definition is fetched.
    let invalid = found.invalid_indexes();
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0].name, "payments_amount_uniq");
    assert!(invalid[0].is_unique && !invalid[0].is_valid);
    assert_eq!(
        invalid[0].definition.as_deref(),
        Some("CREATE UNIQUE INDEX payments_amount_uniq ON public.payments USING btree (amount)")
    );
    assert_eq!(email.definition, None, "valid indexes get no definition unless asked");

    // NOT VALID constraints, with what they reference.
    let not_valid = found.not_valid_constraints();
    let names: Vec<&str> = not_valid.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["payments_account_fk", "payments_amount_positive"]);
    let fk = not_valid[0];
    assert_eq!(fk.kind, ConstraintKind::ForeignKey);
    assert_eq!(fk.columns, vec!["account_id"]);
    assert_eq!(fk.referenced_table.as_deref(), Some("public.accounts"));
    assert_eq!(fk.referenced_columns, vec!["id"]);
    assert_eq!(fk.index_oid, Some(pkey.oid));
    assert_eq!(not_valid[1].kind, ConstraintKind::Check);
    assert_eq!(not_valid[1].definition.as_deref(), Some("CHECK ((amount > 0)) NOT VALID"));
    let accounts_pkey = found
        .constraints_of(accounts.oid)
        .find(|c| c.kind == ConstraintKind::PrimaryKey)
        .expect("accounts primary key");
    assert!(accounts_pkey.validated);

    // Activity since the reset: the one sequential scan, the index scans summed per table.
    let payments = found.table_named("public.payments").expect("payments");
    assert!(payments.activity.seq_scan >= 1);
    assert!(accounts.activity.idx_scan >= 3);

    // The snapshot feature writes this to JSON and reads it back.
    let json = serde_json::to_string(&found).expect("serialize");
    let back: Introspection = serde_json::from_str(&json).expect("deserialize");
    // (Floats such as uptime_s may differ in their last digit after a JSON round trip.)
    assert_eq!(back.tables, found.tables);
    assert_eq!(back.indexes, found.indexes);
    assert_eq!(back.constraints, found.constraints);
    assert_eq!(back.server.stats_reset, found.server.stats_reset);
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimates_come_from_relpages_and_only_chosen_tables_are_measured() {
    let (db, mut check) = seeded().await;
    let mut conn = read_only(&db).await;
    let estimated = introspect::introspect(
        &mut conn,
        &IntrospectOptions { measure: Measure::Nothing, definitions: Definitions::Nothing },
    )
    .await
    .expect("introspect");
    let accounts = estimated.table_named("public.accounts").expect("accounts");
    assert_eq!(accounts.size.source, SizeSource::Estimated);
    let relpages = scalar_i64(&mut check, "SELECT relpages::int8 FROM pg_class WHERE relname = 'accounts'").await;
    assert_eq!(accounts.size.heap_bytes, relpages * estimated.server.block_size);
    assert!(estimated.invalid_indexes()[0].definition.is_none());

    let chosen = introspect::introspect(
        &mut conn,
        &IntrospectOptions { measure: Measure::Tables(vec![accounts.oid]), definitions: Definitions::All },
    )
    .await
    .expect("introspect");
    assert_eq!(chosen.table_named("public.accounts").unwrap().size.source, SizeSource::Measured);
    assert_eq!(chosen.table_named("public.payments").unwrap().size.source, SizeSource::Estimated);
    assert!(chosen.indexes.iter().all(|i| i.definition.is_some()));
    assert!(chosen.constraints.iter().all(|c| c.definition.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_lists_what_a_dba_acts_on() {
    let (db, mut check) = seeded().await;
    // A forgotten transaction.
    common::execute(&mut check, "BEGIN; SELECT count(*) FROM payments;").await;
    let check_pid: i32 = {
        let mut other = db.connect().await;
        let pid = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'",
        )
        .fetch_one(&mut other)
        .await
        .expect("idle session");
        let _ = other.close().await;
        pid
    };
    let mut sampler = Sampler::connect(db.target.clone(), SamplerOptions::default()).await.expect("connect");
    let overview = watch::overview::gather(&mut sampler, "test", Duration::from_secs(5)).await.expect("overview");
    assert_eq!(overview.kind, "overview");
    assert_eq!(overview.tables_total, 2);
    assert_eq!(overview.biggest_tables[0].name, "accounts");
    let unused: Vec<&str> = overview.unused_indexes.iter().map(|i| i.name.as_str()).collect();
    assert!(unused.contains(&"accounts_created_idx"), "{unused:?}");
    assert!(!unused.iter().any(|name| name.ends_with("_pkey")), "primary keys are not 'unused': {unused:?}");
    assert!(overview.unscanned_constraint_indexes >= 1);
    assert_eq!(overview.invalid_indexes[0].name, "payments_amount_uniq");
    assert_eq!(overview.not_valid_constraints.len(), 2);
    assert_eq!(overview.idle_in_transaction.len(), 1);
    assert_eq!(overview.idle_in_transaction[0].pid, check_pid);
    assert!(overview.blocking.lock_tree.is_empty());

    let text = watch::overview::render_overview(&overview, &watch::TextOptions::default());
    for expected in [
        "Server      PostgreSQL ",
        "Statistics  since ",
        "Biggest tables",
        "public.accounts",
        "Unused indexes — no scan since ",
        "public.accounts_created_idx",
        "Invalid indexes",
        "CREATE UNIQUE INDEX payments_amount_uniq",
        "NOT VALID constraints",
        "payments_account_fk",
        "CHECK ((amount > 0)) NOT VALID",
        "Sessions idle in transaction",
        "Current blocking",
        "nobody is waiting for a lock",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let json = serde_json::to_value(&overview).expect("json");
    assert_eq!(json["server"]["version_num"], overview.server.version_num);
    assert!(json["blocking"]["lock_tree"].is_array());
    sampler.close().await;

    // And end to end, as `lockscope inspect --database-url URL`.
    let args = InspectOptions { database_url: Some(db.url.clone()), ..InspectOptions::default() };
    assert_eq!(watch::run(&args).await.expect("inspect"), 0);
    common::execute(&mut check, "ROLLBACK").await;
}

#[tokio::test]
async fn no_target_and_bad_flags_are_usage_errors() {
    let args = InspectOptions {
        database_url: Some("postgres://nobody:secret@127.0.0.1:1/none".into()),
        ..InspectOptions::default()
    };
    let err = watch::run(&args).await.expect_err("nothing listens on port 1");
    assert_eq!(err.exit_code(), 2);
    assert!(!err.to_string().contains("secret"), "{err}");

    let args = InspectOptions {
        database_url: Some("postgres://x@127.0.0.1:1/none".into()),
        cancel_blocking_ddl_after: Some(Duration::from_secs(30)),
        ..InspectOptions::default()
    };
    let err = watch::run(&args).await.expect_err("cancel needs --watch");
    assert!(err.to_string().contains("--cancel-blocking-ddl-after works only with --watch"), "{err}");
}
