use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::locks::LockMode::*;

fn parse(text: &str) -> Vec<Statement> {
    parse_file(Path::new("001_test.sql"), text).unwrap_or_else(|e| panic!("{text:?} did not parse: {e}"))
}

fn summary(sql: &str) -> Summary {
    let mut statements = parse(sql);
    assert_eq!(statements.len(), 1, "{sql}");
    statements.remove(0).summary
}

/// (line, column, message) of the error `text` gets.
fn error(text: &str) -> (usize, usize, String) {
    match parse_file(Path::new("001_test.sql"), text) {
        Err(Error::Input { location, message }) => {
            assert_eq!(location.path, Path::new("001_test.sql"));
            (location.line, location.column, message)
        }
        Err(other) => panic!("unexpected error kind: {other}"),
        Ok(statements) => panic!("{text:?} parsed into {} statements", statements.len()),
    }
}

fn lock(summary: &Summary, relation: &str) -> Option<LockMode> {
    summary.locks.iter().find(|l| l.relation.to_sql() == relation).map(|l| l.mode)
}

fn lock_kind(summary: &Summary, relation: &str) -> Option<ObjectKind> {
    summary.locks.iter().find(|l| l.relation.to_sql() == relation).map(|l| l.kind)
}

fn is_not_in_transaction(summary: &Summary) -> bool {
    matches!(summary.execution, Execution::NotInTransaction { .. })
}

fn is_forbidden(summary: &Summary) -> bool {
    matches!(summary.execution, Execution::Forbidden { .. })
}

// ---- where statements are ----

#[test]
fn statement_after_comments_reports_its_first_token() {
    let text =
        "-- add a column\n/* a /* nested */ comment */\n\n   ALTER TABLE accounts ADD COLUMN note text; -- done\n";
    let statements = parse(text);
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    assert_eq!((statement.line, statement.column), (4, 4));
    assert_eq!(statement.sql, "ALTER TABLE accounts ADD COLUMN note text");
    assert_eq!(&text[statement.start..statement.end], statement.sql);
}

#[test]
fn statement_after_multi_line_dollar_quoted_function_starts_on_its_own_line() {
    let text = "\
CREATE FUNCTION touch() RETURNS trigger AS $body$
BEGIN
  -- not a comment outside the body; and a semicolon
  NEW.updated_at := now();
  RETURN NEW;
END;
$body$ LANGUAGE plpgsql;

CREATE TRIGGER touch BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION touch();
";
    let statements = parse(text);
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0].summary.kind, "CREATE FUNCTION");
    assert!(statements[0].sql.ends_with("$body$ LANGUAGE plpgsql"));
    assert_eq!((statements[1].line, statements[1].column), (9, 1));
    assert_eq!(statements[1].summary.kind, "CREATE TRIGGER");
    assert_eq!(statements[1].index, 1);
}

#[test]
fn tricky_lexical_forms_split_where_postgresql_splits() {
    let text = "BEGIN;\n\
DO $$ BEGIN PERFORM 1; END $$;\n\
SELECT E'it\\'s; fine', 'a;b' AS \"semi;colon\";\n\
CREATE TABLE \"odd;name\" (id int);\n\
COMMIT";
    let statements = parse(text);
    let kinds: Vec<&str> = statements.iter().map(|s| s.summary.kind.as_str()).collect();
    assert_eq!(kinds, ["BEGIN", "DO", "SELECT", "CREATE TABLE", "COMMIT"]);
    assert_eq!(statements[2].sql, "SELECT E'it\\'s; fine', 'a;b' AS \"semi;colon\"");
    assert_eq!(statements[3].summary.targets, [RelationName::new(None, "odd;name")]);
    assert_eq!((statements[4].line, statements[4].sql.as_str()), (5, "COMMIT"));
}

#[test]
fn sql_function_with_begin_atomic_body_is_one_statement() {
    let statements =
        parse("CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;\nSELECT one();");
    assert_eq!(statements.len(), 2);
    assert!(statements[0].sql.ends_with("END"));
    assert_eq!(statements[1].line, 5);
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = "/* überprüfung — 検証 */ SELECT 1;";
    let statements = parse(text);
    assert_eq!(statements[0].column, 24);
    assert_eq!(statements[0].sql, "SELECT 1");
}

#[test]
fn byte_order_mark_is_neither_sql_nor_a_column() {
    let statements = parse("\u{feff}SELECT 1;\nSELECT 2;");
    assert_eq!((statements[0].line, statements[0].column, statements[0].sql.as_str()), (1, 1, "SELECT 1"));
    let (line, column, _) = error("\u{feff}SELEC 1;");
    assert_eq!((line, column), (1, 1));
}

#[test]
fn ast_is_the_statement_node() {
    let statements = parse("UPDATE accounts SET balance = 0");
    assert!(matches!(statements[0].ast, Some(pg_query::NodeEnum::UpdateStmt(_))));
}

// ---- bad input ----

#[test]
fn syntax_error_points_at_the_offending_token() {
    let text = "-- 001\nCREATE TABLE a (id int);\n\nALTER TABLE a\n  ADD COLUMN b int;\n\nALTER TABLE a ADD COLUMN c int NOT NUL;\n";
    let (line, column, message) = error(text);
    assert_eq!((line, column), (7, 36));
    assert_eq!(message, "syntax error at or near \"NUL\"");
}

#[test]
fn syntax_error_on_a_repeated_word_points_at_the_bad_occurrence() {
    let (line, column, message) = error("SELECT a\n  FROM t t t;");
    assert_eq!(message, "syntax error at or near \"t\"");
    assert_eq!((line, column), (2, 12), "`FROM t t` is a table with an alias; the third t is the error");
}

#[test]
fn misspelled_command_is_reported_at_its_start() {
    let (line, column, _) = error("SELECT 1;\n  SELEC 2;");
    assert_eq!((line, column), (2, 3));
}

#[test]
fn unfinished_statement_is_reported_where_input_ends() {
    let (line, column, message) = error("SELECT 1;\nCREATE TABLE t (id int\n-- forgot the parenthesis\n");
    assert_eq!(message, "syntax error at end of input");
    assert_eq!((line, column), (2, 23));
}

#[test]
fn unterminated_string_is_reported_where_it_opens() {
    let long_tail = "x".repeat(500);
    let (line, column, message) = error(&format!("SELECT 1;\nINSERT INTO t VALUES ('{long_tail});\n"));
    assert_eq!((line, column), (2, 23));
    assert!(message.starts_with("unterminated quoted string at or near \"'xxx"), "{message}");
    assert!(message.chars().count() < 120, "the excerpt is shortened: {message}");
}

#[test]
fn junk_after_a_number_is_reported_at_the_token() {
    let (line, column, message) = error("SELECT 1;\nSELECT '1a', 1a;");
    assert!(message.starts_with("trailing junk after numeric literal"), "{message}");
    assert_eq!((line, column), (2, 14));
}

#[test]
fn psql_meta_command_gets_its_own_message() {
    let (line, column, message) = error("SELECT 1;\n\\set ON_ERROR_STOP on\nSELECT 2;");
    assert_eq!((line, column), (2, 1));
    assert_eq!(message, "psql meta-command `\\set` is not SQL; lockscope runs SQL only");

    let (line, _, message) = error("-- switch database\n  \\connect other\n");
    assert_eq!(line, 2);
    assert!(message.contains("`\\connect`"), "{message}");
}

#[test]
fn psql_meta_command_after_a_query_gets_its_own_message() {
    let (line, column, message) = error("SELECT 1;\nSELECT count(*) AS n FROM t \\gset\n");
    assert_eq!((line, column), (2, 29));
    assert_eq!(message, "psql meta-command `\\gset` is not SQL; lockscope runs SQL only");
}

#[test]
fn grammar_errors_without_a_quoted_token_still_name_the_line() {
    let (line, _, message) = error("SELECT 1;\n\nSELECT * FROM t LIMIT 1, 2;\nSELECT 3;");
    assert_eq!(message, "LIMIT #,# syntax is not supported");
    assert_eq!(line, 3);
}

#[test]
fn backslash_lines_inside_a_function_body_are_not_meta_commands() {
    let statements = parse("CREATE FUNCTION f() RETURNS text AS $$\n\\i not a command\n$$ LANGUAGE sql;");
    assert_eq!(statements.len(), 1);
}

#[test]
fn nul_byte_is_reported_where_it_is() {
    let (line, column, message) = error("SELECT 1;\nSELECT 2\0;");
    assert_eq!((line, column), (2, 9));
    assert!(message.contains("NUL"), "{message}");
}

#[test]
fn empty_and_comment_only_files_have_no_statements() {
    for text in ["", "   \n\n", "-- just a note\n/* and a block */\n", ";;"] {
        let (line, column, message) = error(text);
        assert_eq!((line, column), (1, 1), "{text:?}");
        assert!(message.contains("no SQL statements"), "{message}");
    }
}

// ---- kinds and actions ----

#[test]
fn alter_table_lists_each_sub_command() {
    let s = summary(
        "ALTER TABLE accounts ADD COLUMN note text, ALTER COLUMN id TYPE bigint, ALTER COLUMN note SET DEFAULT '', \
         ALTER COLUMN note DROP DEFAULT, ALTER COLUMN note SET NOT NULL, DROP COLUMN old",
    );
    assert_eq!(s.kind, "ALTER TABLE");
    assert_eq!(
        s.actions,
        ["ADD COLUMN", "ALTER COLUMN TYPE", "SET DEFAULT", "DROP DEFAULT", "SET NOT NULL", "DROP COLUMN"]
    );
}

#[test]
fn constraint_actions_say_whether_they_are_validated() {
    let s = summary(
        "ALTER TABLE a ADD CONSTRAINT fk FOREIGN KEY (b_id) REFERENCES b (id) NOT VALID, \
         ADD CONSTRAINT c CHECK (x > 0), ADD CONSTRAINT c2 CHECK (x > 0) NOT VALID, \
         ADD CONSTRAINT u UNIQUE USING INDEX a_u, ADD PRIMARY KEY (id), ADD CONSTRAINT fk2 FOREIGN KEY (c_id) REFERENCES c",
    );
    assert_eq!(
        s.actions,
        [
            "ADD CONSTRAINT FOREIGN KEY NOT VALID",
            "ADD CONSTRAINT CHECK",
            "ADD CONSTRAINT CHECK NOT VALID",
            "ADD CONSTRAINT UNIQUE USING INDEX",
            "ADD CONSTRAINT PRIMARY KEY",
            "ADD CONSTRAINT FOREIGN KEY",
        ]
    );
    assert!(s.targets.contains(&RelationName::new(None, "a_u")));
}

#[test]
fn renames_are_alter_statements() {
    let s = summary("ALTER TABLE app.accounts RENAME COLUMN note TO notes");
    assert_eq!((s.kind.as_str(), s.actions.as_slice()), ("ALTER TABLE", &["RENAME COLUMN".to_string()][..]));
    assert_eq!(lock(&s, "app.accounts"), Some(AccessExclusive));
    let s = summary("ALTER TABLE accounts RENAME TO customers");
    assert_eq!(s.actions, ["RENAME TO"]);
    let s = summary("ALTER TABLE accounts RENAME CONSTRAINT a TO b");
    assert_eq!(s.actions, ["RENAME CONSTRAINT"]);
    let s = summary("ALTER INDEX accounts_pkey RENAME TO accounts_pk");
    assert_eq!(s.kind, "ALTER INDEX");
    assert_eq!(lock(&s, "accounts_pkey"), Some(ShareUpdateExclusive));
    assert_eq!(lock_kind(&s, "accounts_pkey"), Some(ObjectKind::Index));
}

#[test]
fn everyday_commands_have_dba_names() {
    let cases = [
        ("CREATE INDEX i ON t (a)", "CREATE INDEX"),
        ("DROP INDEX i", "DROP INDEX"),
        ("DROP TABLE t", "DROP TABLE"),
        ("DROP MATERIALIZED VIEW mv", "DROP MATERIALIZED VIEW"),
        ("INSERT INTO t VALUES (1)", "INSERT"),
        ("DELETE FROM t", "DELETE"),
        ("VACUUM t", "VACUUM"),
        ("ANALYZE t", "ANALYZE"),
        ("REINDEX TABLE t", "REINDEX"),
        ("LOCK TABLE t", "LOCK TABLE"),
        ("SET lock_timeout = '2s'", "SET"),
        ("START TRANSACTION", "BEGIN"),
        ("END", "COMMIT"),
        ("TRUNCATE t", "TRUNCATE"),
        ("ALTER SEQUENCE s RESTART", "ALTER SEQUENCE"),
        ("COMMENT ON TABLE t IS 'x'", "COMMENT"),
        ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
        ("REFRESH MATERIALIZED VIEW mv", "REFRESH MATERIALIZED VIEW"),
        ("CLUSTER t USING i", "CLUSTER"),
        ("COPY t TO STDOUT", "COPY"),
        ("CREATE TYPE mood AS ENUM ('ok')", "CREATE TYPE"),
        ("ALTER TYPE mood ADD VALUE 'meh'", "ALTER TYPE"),
        ("CREATE PROCEDURE p() LANGUAGE sql AS 'select 1'", "CREATE PROCEDURE"),
        ("MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE", "MERGE"),
        ("CREATE MATERIALIZED VIEW mv AS SELECT * FROM t", "CREATE MATERIALIZED VIEW"),
        ("GRANT SELECT ON t TO app", "GRANT"),
        ("CREATE EXTENSION IF NOT EXISTS pgcrypto", "CREATE EXTENSION"),
        ("ALTER TABLE t SET SCHEMA archive", "ALTER TABLE"),
        ("IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO local", "IMPORT FOREIGN SCHEMA"),
    ];
    for (sql, kind) in cases {
        assert_eq!(summary(sql).kind, kind, "{sql}");
    }
}

// ---- lock levels ----

#[test]
fn add_column_takes_access_exclusive() {
    let s = summary("ALTER TABLE accounts ADD COLUMN note text");
    assert_eq!(
        s.locks,
        [StaticLock { relation: RelationName::new(None, "accounts"), kind: ObjectKind::Table, mode: AccessExclusive }]
    );
}

#[test]
fn add_foreign_key_takes_share_row_exclusive_on_both_tables() {
    let s = summary("ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES billing.accounts (id) NOT VALID");
    assert_eq!(lock(&s, "orders"), Some(ShareRowExclusive));
    assert_eq!(lock(&s, "billing.accounts"), Some(ShareRowExclusive));
    assert_eq!(s.targets, [RelationName::new(None, "orders"), RelationName::new(Some("billing"), "accounts")]);
}

#[test]
fn add_column_with_references_locks_the_referenced_table() {
    let s = summary("ALTER TABLE orders ADD COLUMN account_id bigint REFERENCES accounts (id)");
    assert_eq!((lock(&s, "orders"), lock(&s, "accounts")), (Some(AccessExclusive), Some(ShareRowExclusive)));
}

#[test]
fn strongest_sub_command_wins() {
    let s = summary("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES accounts, ADD COLUMN b int");
    assert_eq!(lock(&s, "orders"), Some(AccessExclusive));
    assert_eq!(lock(&s, "accounts"), Some(ShareRowExclusive));
}

#[test]
fn validate_and_maintenance_settings_take_share_update_exclusive() {
    for sql in [
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_account_fk",
        "ALTER TABLE orders ALTER COLUMN a SET STATISTICS 500",
        "ALTER TABLE orders SET (fillfactor = 70, autovacuum_enabled = off)",
        "ALTER TABLE orders CLUSTER ON orders_pkey",
        "ALTER TABLE orders SET WITHOUT CLUSTER",
    ] {
        assert_eq!(lock(&summary(sql), "orders"), Some(ShareUpdateExclusive), "{sql}");
    }
    assert_eq!(lock(&summary("ALTER VIEW v SET (security_barrier = true)"), "v"), Some(AccessExclusive));
}

#[test]
fn trigger_changes_take_share_row_exclusive() {
    for sql in [
        "ALTER TABLE orders DISABLE TRIGGER audit",
        "ALTER TABLE orders ENABLE TRIGGER ALL",
        "CREATE TRIGGER audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit()",
    ] {
        assert_eq!(lock(&summary(sql), "orders"), Some(ShareRowExclusive), "{sql}");
    }
    assert_eq!(lock(&summary("DROP TRIGGER audit ON app.orders"), "app.orders"), Some(AccessExclusive));
}

#[test]
fn partitions_lock_parent_and_partition_differently() {
    let s = summary("ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
    assert_eq!((lock(&s, "events"), lock(&s, "events_2024")), (Some(ShareUpdateExclusive), Some(AccessExclusive)));
    let s = summary("ALTER TABLE events DETACH PARTITION events_2023");
    assert_eq!((lock(&s, "events"), lock(&s, "events_2023")), (Some(AccessExclusive), Some(AccessExclusive)));
    let s = summary("ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY");
    assert_eq!((lock(&s, "events"), lock(&s, "events_2023")), (Some(ShareUpdateExclusive), Some(ShareUpdateExclusive)));
    assert_eq!(s.actions, ["DETACH PARTITION CONCURRENTLY"]);
    assert!(s.concurrently && is_not_in_transaction(&s));
    let s = summary("CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')");
    assert_eq!(lock(&s, "events"), Some(AccessExclusive));
}

#[test]
fn create_index_takes_share_and_concurrently_share_update_exclusive() {
    let s = summary("CREATE INDEX orders_account_idx ON app.orders (account_id)");
    assert_eq!(lock(&s, "app.orders"), Some(Share));
    assert_eq!(s.execution, Execution::InTransaction);
    assert!(s.targets.contains(&RelationName::new(Some("app"), "orders_account_idx")));

    let s = summary("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_idx ON orders (account_id)");
    assert_eq!(lock(&s, "orders"), Some(ShareUpdateExclusive));
    assert!(s.concurrently && s.if_exists);
    assert!(is_not_in_transaction(&s));
}

#[test]
fn index_maintenance_locks_the_index_it_names() {
    let s = summary("DROP INDEX app.orders_account_idx");
    assert_eq!(lock(&s, "app.orders_account_idx"), Some(AccessExclusive));
    assert_eq!(lock_kind(&s, "app.orders_account_idx"), Some(ObjectKind::Index));
    let s = summary("DROP INDEX CONCURRENTLY IF EXISTS orders_account_idx");
    assert_eq!(lock(&s, "orders_account_idx"), Some(ShareUpdateExclusive));
    assert!(s.if_exists && s.concurrently && is_not_in_transaction(&s));
    assert_eq!(lock(&summary("REINDEX INDEX orders_pkey"), "orders_pkey"), Some(AccessExclusive));
    assert_eq!(lock(&summary("REINDEX TABLE orders"), "orders"), Some(Share));
    let s = summary("REINDEX TABLE CONCURRENTLY orders");
    assert_eq!(lock(&s, "orders"), Some(ShareUpdateExclusive));
    assert!(is_not_in_transaction(&s));
}

#[test]
fn table_rewriting_and_dropping_commands_take_access_exclusive() {
    for (sql, relation) in [
        ("DROP TABLE IF EXISTS old_orders, archive.older", "archive.older"),
        ("TRUNCATE orders, payments", "payments"),
        ("CLUSTER orders USING orders_pkey", "orders"),
        ("VACUUM FULL orders", "orders"),
        ("REFRESH MATERIALIZED VIEW totals", "totals"),
        ("CREATE RULE r AS ON INSERT TO orders DO INSTEAD NOTHING", "orders"),
        ("ALTER TABLE orders SET LOGGED", "orders"),
    ] {
        assert_eq!(lock(&summary(sql), relation), Some(AccessExclusive), "{sql}");
    }
    assert_eq!(lock(&summary("REFRESH MATERIALIZED VIEW CONCURRENTLY totals"), "totals"), Some(Exclusive));
}

#[test]
fn maintenance_and_comments_take_share_update_exclusive() {
    for (sql, relation) in [
        ("VACUUM (ANALYZE) orders", "orders"),
        ("ANALYZE orders", "orders"),
        ("CREATE STATISTICS s (dependencies) ON a, b FROM orders", "orders"),
        ("COMMENT ON TABLE orders IS 'x'", "orders"),
        ("COMMENT ON COLUMN app.orders.total IS 'x'", "app.orders"),
        ("COMMENT ON INDEX orders_pkey IS 'x'", "orders_pkey"),
    ] {
        assert_eq!(lock(&summary(sql), relation), Some(ShareUpdateExclusive), "{sql}");
    }
    // Comments on a table's constraints and triggers only read the table.
    let s = summary("COMMENT ON CONSTRAINT orders_fk ON app.orders IS 'x'");
    assert_eq!(lock(&s, "app.orders"), Some(AccessShare));
}

#[test]
fn lock_table_takes_the_written_mode() {
    let s = summary("LOCK TABLE orders, payments IN SHARE ROW EXCLUSIVE MODE NOWAIT");
    assert_eq!((lock(&s, "orders"), lock(&s, "payments")), (Some(ShareRowExclusive), Some(ShareRowExclusive)));
    assert_eq!(lock(&summary("LOCK orders"), "orders"), Some(AccessExclusive));
    assert_eq!(lock(&summary("LOCK orders IN ACCESS SHARE MODE"), "orders"), Some(AccessShare));
}

#[test]
fn dml_locks_its_target_and_the_tables_it_reads() {
    let s = summary(
        "WITH recent AS (SELECT id FROM payments WHERE at > now() - interval '1 day') \
         UPDATE orders o SET paid = true FROM recent r WHERE o.id = r.id AND EXISTS (SELECT 1 FROM audit.log)",
    );
    assert_eq!(lock(&s, "orders"), Some(RowExclusive));
    assert_eq!(lock(&s, "payments"), Some(AccessShare));
    assert_eq!(lock(&s, "audit.log"), Some(AccessShare));
    assert_eq!(lock(&s, "recent"), None, "a CTE is not a relation");
    assert_eq!(lock(&summary("INSERT INTO orders SELECT * FROM staging"), "orders"), Some(RowExclusive));
    assert_eq!(lock(&summary("DELETE FROM orders USING gone WHERE orders.id = gone.id"), "gone"), Some(AccessShare));
}

#[test]
fn select_for_update_takes_row_share_on_locked_tables() {
    let s = summary("SELECT * FROM orders o JOIN accounts a ON a.id = o.account_id FOR UPDATE OF o");
    assert_eq!((lock(&s, "orders"), lock(&s, "accounts")), (Some(RowShare), Some(AccessShare)));
    let s = summary("SELECT * FROM orders FOR SHARE");
    assert_eq!(lock(&s, "orders"), Some(RowShare));
    assert_eq!(lock(&summary("SELECT count(*) FROM orders"), "orders"), Some(AccessShare));
}

#[test]
fn create_table_locks_referenced_tables() {
    let s = summary(
        "CREATE TABLE IF NOT EXISTS payments (id bigint PRIMARY KEY, order_id bigint REFERENCES orders, \
         FOREIGN KEY (id) REFERENCES ledger (id), LIKE template)",
    );
    assert_eq!(lock(&s, "orders"), Some(ShareRowExclusive));
    assert_eq!(lock(&s, "ledger"), Some(ShareRowExclusive));
    assert_eq!(lock(&s, "template"), Some(AccessShare));
    assert_eq!(lock(&s, "payments"), None, "a new table is not locked by anyone else");
    assert!(s.if_exists);
}

#[test]
fn create_view_reads_its_tables() {
    let s = summary("CREATE VIEW totals AS SELECT account_id, sum(total) FROM orders GROUP BY 1");
    assert_eq!(lock(&s, "orders"), Some(AccessShare));
    assert_eq!(lock(&s, "totals"), None);
    let s = summary("CREATE OR REPLACE VIEW totals AS SELECT 1");
    assert_eq!(lock(&s, "totals"), Some(AccessExclusive));
}

// ---- execution ----

#[test]
fn statements_postgresql_refuses_in_a_transaction_block() {
    for sql in [
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        "DROP INDEX CONCURRENTLY i",
        "REINDEX INDEX CONCURRENTLY i",
        "REINDEX DATABASE app",
        "REINDEX SYSTEM app",
        "REINDEX SCHEMA app",
        "VACUUM",
        "VACUUM (VERBOSE) t",
        "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
        "CREATE DATABASE scratch",
        "DROP DATABASE scratch",
        "CREATE TABLESPACE fast LOCATION '/ssd'",
        "DROP TABLESPACE fast",
        "ALTER SYSTEM SET work_mem = '64MB'",
        "CLUSTER",
        "CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION pub",
        "DISCARD ALL",
    ] {
        let s = summary(sql);
        assert!(is_not_in_transaction(&s), "{sql}: {:?}", s.execution);
        if let Execution::NotInTransaction { reason } = &s.execution {
            // One clause, so callers can embed it: "not executed on a dry-run target: {reason}".
            assert!(!reason.ends_with('.') && !reason.contains('\n'), "{reason}");
        }
    }
}

#[test]
fn statements_a_rollback_cannot_undo_are_forbidden() {
    for sql in [
        "COPY t FROM PROGRAM 'curl http://x'",
        "COPY t TO '/tmp/out.csv'",
        "COPY (SELECT 1) TO PROGRAM 'cat'",
        "COPY t FROM STDIN",
        "PREPARE TRANSACTION 'x'",
        "COMMIT PREPARED 'x'",
        "ROLLBACK PREPARED 'x'",
        "SET SESSION AUTHORIZATION 'admin'",
        "RESET SESSION AUTHORIZATION",
        "LOAD 'auto_explain'",
        "CHECKPOINT",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle'",
        "SELECT pg_catalog.pg_reload_conf()",
        "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)",
        "SELECT dblink_exec('host=x', 'drop table t')",
        "SELECT lo_export(1, '/tmp/x')",
        "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
        "SELECT pg_stat_reset_shared('bgwriter')",
        "UPDATE t SET a = (SELECT pg_switch_wal()::text)",
        "CALL pg_cancel_backend(1)",
        "CREATE INDEX CONCURRENTLY i ON t ((pg_reload_conf()))",
    ] {
        let s = summary(sql);
        assert!(is_forbidden(&s), "{sql}: {:?}", s.execution);
    }
}

#[test]
fn ordinary_statements_run_in_the_transaction() {
    for sql in [
        "ALTER TYPE mood ADD VALUE 'meh'",
        "COPY t FROM '/data/t.csv'",
        "COPY t TO STDOUT",
        "ANALYZE t",
        "SET lock_timeout = '1s'",
        "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'SELECT pg_reload_conf()'",
        "CREATE VIEW v AS SELECT pg_reload_conf()",
        "EXPLAIN SELECT pg_reload_conf()",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
        "DISCARD PLANS",
    ] {
        assert_eq!(summary(sql).execution, Execution::InTransaction, "{sql}");
    }
}

// ---- flags ----

#[test]
fn transaction_control_is_recognised() {
    let statements = parse(
        "BEGIN; SAVEPOINT before_index; RELEASE SAVEPOINT before_index; ROLLBACK TO SAVEPOINT s1; \
         ROLLBACK; ABORT; START TRANSACTION; END; SELECT 1",
    );
    let tx: Vec<TxControl> = statements.into_iter().map(|s| s.summary.tx).collect();
    assert_eq!(
        tx,
        [
            TxControl::Begin,
            TxControl::Savepoint("before_index".into()),
            TxControl::Release("before_index".into()),
            TxControl::RollbackTo("s1".into()),
            TxControl::Rollback,
            TxControl::Rollback,
            TxControl::Begin,
            TxControl::Commit,
            TxControl::None,
        ]
    );
}

#[test]
fn if_exists_is_noticed_on_create_drop_and_alter() {
    for sql in [
        "DROP TABLE IF EXISTS t",
        "CREATE TABLE IF NOT EXISTS t (a int)",
        "ALTER TABLE IF EXISTS t ADD COLUMN a int",
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS a int",
        "ALTER TABLE t DROP CONSTRAINT IF EXISTS c",
        "CREATE INDEX IF NOT EXISTS i ON t (a)",
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh'",
    ] {
        assert!(summary(sql).if_exists, "{sql}");
    }
    assert!(!summary("DROP TABLE t").if_exists);
}

#[test]
fn opaque_statements_hide_their_effects() {
    for sql in [
        "DO $$ BEGIN EXECUTE 'drop table t'; END $$",
        "CALL migrate_accounts()",
        "EXECUTE prepared_step(1)",
        "SELECT backfill_orders(1000)",
        "UPDATE t SET a = app.normalize(a)",
    ] {
        assert!(summary(sql).opaque, "{sql}");
    }
    for sql in [
        "SELECT count(*) FROM t",
        "UPDATE t SET updated_at = now(), name = lower(name)",
        "ALTER TABLE t ADD COLUMN id uuid DEFAULT gen_random_uuid()",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT g()'",
    ] {
        assert!(!summary(sql).opaque, "{sql}");
    }
}

// ---- ignore directives ----

#[test]
fn ignore_directives_above_a_statement() {
    let text = "\
CREATE TABLE t (a int);
-- lockscope:ignore LS101, LS204 table is empty at this point
-- another note
ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 0;
-- lockscope:ignore LS300
CREATE INDEX i ON t (b);
";
    let statements = parse(text);
    assert!(statements[0].ignores.is_empty());
    assert_eq!(
        statements[1].ignores,
        [Ignore {
            rules: vec!["LS101".into(), "LS204".into()],
            reason: Some("table is empty at this point".into()),
            line: 2
        }]
    );
    assert_eq!(statements[2].ignores, [Ignore { rules: vec!["LS300".into()], reason: None, line: 5 }]);
}

#[test]
fn trailing_ignore_directive_belongs_to_its_own_line() {
    let text = "\
ALTER TABLE t ADD COLUMN b int; -- lockscope:ignore LS101 tiny table
ALTER TABLE t
  ADD COLUMN c int; -- lockscope:ignore LS102
SELECT 1;
";
    let statements = parse(text);
    assert_eq!(statements[0].ignores.len(), 1);
    assert_eq!(statements[0].ignores[0].reason.as_deref(), Some("tiny table"));
    assert_eq!(statements[1].ignores, [Ignore { rules: vec!["LS102".into()], reason: None, line: 3 }]);
    assert!(statements[2].ignores.is_empty());
}

// ---- names ----

#[test]
fn relation_names_are_quoted_only_when_needed() {
    assert_eq!(RelationName::new(None, "orders").to_sql(), "orders");
    assert_eq!(RelationName::new(Some("app"), "order_items_2024").to_sql(), "app.order_items_2024");
    assert_eq!(RelationName::new(None, "Orders").to_sql(), "\"Orders\"");
    assert_eq!(RelationName::new(Some("my-schema"), "2024").to_sql(), "\"my-schema\".\"2024\"");
    assert_eq!(RelationName::new(None, "user").to_sql(), "\"user\"");
    assert_eq!(RelationName::new(None, "order").to_sql(), "\"order\"");
    assert_eq!(RelationName::new(None, "say \"hi\"").to_sql(), "\"say \"\"hi\"\"\"");
    // Unreserved keywords need no quotes.
    assert_eq!(RelationName::new(None, "comment").to_sql(), "comment");
}

#[test]
fn quoted_names_keep_their_case_through_parsing() {
    let s = summary("ALTER TABLE \"Billing\".\"Accounts\" ADD COLUMN x int");
    assert_eq!(s.targets[0].to_sql(), "\"Billing\".\"Accounts\"");
}

// ---- properties ----

/// Parses `text`; for statements, checks `sql` is the file's own text; for errors, checks the
/// location is inside the file.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    match parse_file(Path::new("p.sql"), text) {
        Ok(statements) => {
            for statement in &statements {
                prop_assert_eq!(&text[statement.start..statement.end], statement.sql.as_str());
                prop_assert!(!statement.sql.ends_with(';'));
                prop_assert!(!statement.sql.starts_with(char::is_whitespace));
            }
        }
        Err(Error::Input { location, .. }) => {
            let line = text.split('\n').nth(location.line - 1);
            prop_assert!(line.is_some(), "line {} is past the end", location.line);
            prop_assert!(location.column >= 1 && location.column <= line.unwrap().chars().count() + 1);
        }
        Err(other) => prop_assert!(false, "unexpected error kind: {}", other),
    }
    Ok(())
}

proptest! {
    #[test]
    fn parse_file_never_panics_on_arbitrary_text(text in "(?s).{0,80}") {
        check_parse(&text)?;
    }

    #[test]
    fn parse_file_never_panics_on_sql_shaped_text(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "SELECT 1", "ALTER TABLE t ADD COLUMN a int", "DO $$ BEGIN PERFORM 1; END $$", "SELECT E'a\\';b'",
                "CREATE TABLE \"x;y\" (a int)", "BEGIN", "COMMIT", "-- lockscope:ignore LS1 why\n", "--c\n",
                "/* c */", "/*", "*/", ";", " ", "\n", "'", "$$", "\"", "(", ")", "\\set x", "é", "検", "\0",
                "FROM", "t", ",", "SELEC",
            ]),
            0..16,
        )
    ) {
        check_parse(&pieces.concat())?;
    }
}
