//! The static lock level src/sql gives every statement kind it knows, checked against what the
//! server really takes: each statement is dry-run on its own (a fresh transaction, so every lock
//! it takes is observed in pg_locks, not inferred), and the strongest lock observed on each
//! relation the summary names must be the summary's mode. Runs on whatever server the harness
//! provides; statements that exist only from some version on say so, and expectations that
//! changed between versions are written per version.
//!
//! Not covered: statements PostgreSQL refuses inside a transaction block (CONCURRENTLY, VACUUM,
//! …) — a dry-run never executes them and their locks end with the statement.

mod common;

use lockscope::locks::LockMode;
use lockscope::source::Direction;
use lockscope::trace::{self, LockSource, Mode, TraceOptions, TracedBackend};

const SEED: &str = include_str!("../rules/seed.sql");

/// Objects the statements below need besides the rule examples' seed.
const MORE: &str = "
    CREATE SCHEMA archive;
    CREATE MATERIALIZED VIEW order_totals AS SELECT user_id, count(*) AS n FROM orders GROUP BY user_id;
    CREATE VIEW active_users AS SELECT id, email FROM users WHERE id > 0;
    CREATE SEQUENCE invoice_seq;
    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
    CREATE POLICY users_self ON users USING (true);
    ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
    CREATE UNIQUE INDEX users_email_uidx ON users (email);
    CREATE TABLE events_2026 (id bigint NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE child_log (id bigint PRIMARY KEY, user_id bigint, payload text);
    CREATE TABLE inherited_log () INHERITS (audit_log);
    ANALYZE;
";

/// A statement, the first PostgreSQL major version that has it, lock levels that differ by
/// version from what src/sql says (relation, mode, versions where the server takes that mode),
/// and relations the statement renames (the trace names them by their new name).
struct Case {
    sql: &'static str,
    since: u32,
    by_version: &'static [(&'static str, LockMode, std::ops::RangeInclusive<u32>)],
    renames: &'static [(&'static str, &'static str)],
}

const fn case(sql: &'static str) -> Case {
    Case { sql, since: 14, by_version: &[], renames: &[] }
}

const fn since(version: u32, sql: &'static str) -> Case {
    Case { sql, since: version, by_version: &[], renames: &[] }
}

const fn renaming(sql: &'static str, renames: &'static [(&'static str, &'static str)]) -> Case {
    Case { sql, since: 14, by_version: &[], renames }
}

const CASES: &[Case] = &[
    // Queries.
    case("SELECT count(*) FROM users"),
    case("SELECT * FROM users WHERE id = 1 FOR UPDATE"),
    case("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 1 FOR UPDATE OF u"),
    case("INSERT INTO audit_log VALUES (100001, 1, 'x')"),
    case("INSERT INTO audit_log SELECT id + 100000, id, email FROM users WHERE id < 10"),
    case("UPDATE users SET status = 'x' WHERE id = 1"),
    case("DELETE FROM audit_log WHERE id = 1"),
    since(15, "MERGE INTO audit_log a USING users u ON a.id = u.id WHEN MATCHED THEN UPDATE SET payload = 'm'"),
    // ALTER TABLE, one sub-command at a time.
    case("ALTER TABLE users ADD COLUMN x integer"),
    case("ALTER TABLE orders ADD COLUMN user_ref bigint REFERENCES users (id)"),
    case("ALTER TABLE users DROP COLUMN status"),
    case("ALTER TABLE orders ALTER COLUMN quantity TYPE bigint"),
    case("ALTER TABLE users ALTER COLUMN status TYPE varchar(300)"),
    case("ALTER TABLE users ALTER COLUMN status SET DEFAULT 'new'"),
    case("ALTER TABLE orders ALTER COLUMN state DROP DEFAULT"),
    case("ALTER TABLE users ALTER COLUMN name SET NOT NULL"),
    case("ALTER TABLE users ALTER COLUMN email DROP NOT NULL"),
    case("ALTER TABLE users ALTER COLUMN email SET STATISTICS 500"),
    case("ALTER TABLE users ALTER COLUMN email SET (n_distinct = 100)"),
    case("ALTER TABLE users ALTER COLUMN email SET STORAGE EXTERNAL"),
    case("ALTER TABLE users ALTER COLUMN email SET COMPRESSION pglz"),
    case("ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY"),
    case("ALTER TABLE orders ADD CONSTRAINT q_max CHECK (quantity < 1000)"),
    case("ALTER TABLE orders ADD CONSTRAINT q_max CHECK (quantity < 1000) NOT VALID"),
    case("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)"),
    case("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"),
    case("ALTER TABLE orders VALIDATE CONSTRAINT orders_quantity_positive"),
    case("ALTER TABLE orders DROP CONSTRAINT orders_quantity_positive"),
    case("ALTER TABLE orders RENAME CONSTRAINT orders_quantity_positive TO q_positive"),
    case("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"),
    renaming(
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_uidx",
        &[("users_email_uidx", "users_email_key")],
    ),
    case("ALTER TABLE audit_log ADD CONSTRAINT no_overlap EXCLUDE USING gist (int8range(id, id + 1) WITH &&)"),
    since(18, "ALTER TABLE users ADD CONSTRAINT users_name_nn NOT NULL name NOT VALID"),
    case("ALTER TABLE users DISABLE TRIGGER users_touch"),
    case("ALTER TABLE users ENABLE TRIGGER users_touch"),
    case("ALTER TABLE users CLUSTER ON users_pkey"),
    case("ALTER TABLE users SET WITHOUT CLUSTER"),
    case("ALTER TABLE audit_log SET UNLOGGED"),
    case("ALTER TABLE users OWNER TO CURRENT_USER"),
    case("ALTER TABLE users ENABLE ROW LEVEL SECURITY"),
    case("ALTER TABLE users REPLICA IDENTITY FULL"),
    case("ALTER TABLE users SET (fillfactor = 80)"),
    case("ALTER TABLE users SET (autovacuum_enabled = false)"),
    case("ALTER TABLE users RESET (fillfactor)"),
    case("ALTER TABLE users SET TABLESPACE pg_default"),
    case("ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"),
    case("ALTER TABLE events DETACH PARTITION events_2025"),
    case("ALTER TABLE child_log INHERIT audit_log"),
    case("ALTER TABLE inherited_log NO INHERIT audit_log"),
    case("ALTER TABLE users RENAME COLUMN name TO full_name"),
    renaming("ALTER TABLE audit_log RENAME TO audit", &[("audit_log", "audit")]),
    case("ALTER TABLE audit_log SET SCHEMA archive"),
    renaming(
        "ALTER INDEX orders_created_at_idx RENAME TO orders_created_idx",
        &[("orders_created_at_idx", "orders_created_idx")],
    ),
    case("ALTER VIEW active_users SET (security_barrier = true)"),
    case("ALTER SEQUENCE invoice_seq RESTART"),
    // Indexes and maintenance that runs inside a transaction.
    case("CREATE INDEX users_name_idx ON users (name)"),
    case("CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email))"),
    case("CREATE INDEX events_id_idx ON ONLY events (id)"),
    case("DROP INDEX orders_created_at_idx"),
    case("REINDEX INDEX orders_created_at_idx"),
    case("REINDEX TABLE orders"),
    case("CLUSTER users USING users_pkey"),
    case("ANALYZE users"),
    case("REFRESH MATERIALIZED VIEW order_totals"),
    // Dropping and emptying.
    case("DROP TABLE child_log"),
    case("DROP VIEW active_users"),
    case("DROP MATERIALIZED VIEW order_totals"),
    case("DROP SEQUENCE invoice_seq"),
    case("TRUNCATE audit_log"),
    // Triggers, rules, policies, comments, statistics.
    case("CREATE TRIGGER audit_touch AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION touch()"),
    case("DROP TRIGGER users_touch ON users"),
    case("CREATE RULE audit_ignore AS ON INSERT TO audit_log DO INSTEAD NOTHING"),
    case("CREATE POLICY orders_all ON orders USING (true)"),
    case("ALTER POLICY users_self ON users USING (false)"),
    case("DROP POLICY users_self ON users"),
    case("COMMENT ON TABLE users IS 'people'"),
    case("COMMENT ON COLUMN users.email IS 'login'"),
    case("COMMENT ON INDEX users_pkey IS 'key'"),
    case("CREATE STATISTICS orders_stats ON user_id, quantity FROM orders"),
    // Creating relations from others.
    case("CREATE VIEW recent_orders AS SELECT * FROM orders WHERE created_at > now() - interval '1 day'"),
    case("CREATE OR REPLACE VIEW active_users AS SELECT id, email FROM users WHERE id > 1"),
    case("CREATE TABLE users_copy AS SELECT * FROM users"),
    case("CREATE TABLE invoices (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id))"),
    case("CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')"),
    case("CREATE TABLE more_log () INHERITS (audit_log)"),
    // LOCK TABLE in each mode.
    case("LOCK TABLE users IN ACCESS SHARE MODE"),
    case("LOCK TABLE users IN ROW SHARE MODE"),
    case("LOCK TABLE users IN ROW EXCLUSIVE MODE"),
    case("LOCK TABLE users IN SHARE UPDATE EXCLUSIVE MODE"),
    case("LOCK TABLE users IN SHARE MODE"),
    case("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"),
    case("LOCK TABLE users IN EXCLUSIVE MODE"),
    case("LOCK TABLE users"),
];

fn same_relation(written: &lockscope::sql::RelationName, traced: &str) -> bool {
    match traced.split_once('.') {
        Some((schema, name)) => name == written.name && written.schema.as_deref().is_none_or(|s| s == schema),
        None => false,
    }
}

#[tokio::test]
async fn static_lock_levels_match_what_the_server_takes() {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    sqlx::raw_sql(MORE).execute(&mut conn).await.expect("more objects");
    let server: i64 =
        sqlx::query_scalar("SELECT current_setting('server_version_num')::int8").fetch_one(&mut conn).await.unwrap();
    let major = (server / 10000) as u32;

    let mut mismatches = Vec::new();
    let mut checked = 0;
    for case in CASES.iter().filter(|c| c.since <= major) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("001_case.up.sql"), format!("{};\n", case.sql)).unwrap();
        std::fs::write(dir.path().join("001_case.down.sql"), "SELECT 1;\n").unwrap();
        let plan = lockscope::plan::plan(&[dir.path().to_path_buf()], Direction::Up).expect("plan");
        let statement = &plan[0].statements[0];
        assert!(!statement.summary.locks.is_empty(), "{}: src/sql knows no lock for it", case.sql);
        let options = TraceOptions { mode: Mode::DryRun, ..TraceOptions::default() };
        let traced = trace::run(&db.target, &plan, &options, &TracedBackend::default()).await.expect("trace");
        let observed = &traced.migrations[0].statements[0];
        if !observed.executed || observed.error.is_some() {
            mismatches.push(format!("{}: did not run: {:?}", case.sql, observed.error));
            continue;
        }
        for lock in &statement.summary.locks {
            let expected = case
                .by_version
                .iter()
                .find(|(relation, _, versions)| *relation == lock.relation.name && versions.contains(&major))
                .map_or(lock.mode, |(_, mode, _)| *mode);
            let mut relation = lock.relation.clone();
            if let Some((_, new_name)) = case.renames.iter().find(|(old, _)| *old == relation.name) {
                relation.name = new_name.to_string();
            }
            let strongest = observed
                .locks
                .iter()
                .filter(|l| l.source == LockSource::Observed && same_relation(&relation, &l.relation))
                .map(|l| l.mode)
                .max();
            checked += 1;
            if strongest != Some(expected) {
                mismatches.push(format!(
                    "{}: {} — src/sql says {}, PostgreSQL {major} took {}",
                    case.sql,
                    lock.relation,
                    expected,
                    strongest.map_or("nothing".to_string(), |m| m.to_string())
                ));
            }
        }
    }
    eprintln!("PostgreSQL {major}: {checked} static lock levels checked against pg_locks");
    assert!(checked > 90, "only {checked} locks checked");
    assert!(mismatches.is_empty(), "static lock levels disagree with the server:\n{}", mismatches.join("\n"));
}
