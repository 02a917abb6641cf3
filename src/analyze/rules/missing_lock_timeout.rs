//! LS124: a write-blocking lock requested with no lock_timeout set.

use std::time::Duration;

use super::prelude::*;
use crate::sql::Statement;

pub const RULE: Rule = Rule {
    id: "LS124",
    name: "missing-lock-timeout",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Dangerous lock without lock_timeout",
    trigger: "A statement takes a lock that blocks writes (SHARE or stronger) on an existing relation, and no \
              `SET [LOCAL] lock_timeout` (non-zero, and at most `max_lock_timeout` from lockscope.toml when set) \
              comes before it in the migration. Reported once per migration, at the first such statement.",
    why: "A lock request waits behind any running transaction that holds a conflicting lock — a long report, an \
          idle-in-transaction session — and every later query on the table queues behind the waiting request: \
          the table is down for as long as the oldest transaction lasts.",
    fix: "Start the migration with SET lock_timeout = '2s' (SET LOCAL inside BEGIN … COMMIT) and retry the \
          migration when it times out.",
    bad: include_str!("../../../rules/LS124/bad.sql"),
    good: include_str!("../../../rules/LS124/good.sql"),
    check: Check::File(check),
};

fn check(file: &FileCx<'_>) -> Vec<Hit> {
    let max = file.run.config.thresholds.max_lock_timeout;
    let mut timeout: Option<Duration> = None;
    // A `SET LOCAL` lasts to the end of its transaction; outside a transaction block PostgreSQL
    // ignores it with a warning (sql-set.html), so under autocommit it covers nothing after it.
    let mut local_from: Option<usize> = None;
    for (index, statement) in file.statements().iter().enumerate() {
        if let Some(setting) = lock_timeout_setting(statement) {
            timeout = setting;
            local_from = is_local(statement).then_some(index);
            continue;
        }
        if local_from.is_some_and(|set| !file.same_transaction(set, index) || !file.in_transaction_block(set)) {
            timeout = None;
            local_from = None;
        }
        if needs_own_transaction(statement) {
            continue;
        }
        let covered = timeout.is_some_and(|t| !t.is_zero() && max.is_none_or(|max| t <= max));
        let Some(lock) = statement
            .summary
            .locks
            .iter()
            .filter(|l| l.mode.blocks_writes() && file.existing(&l.relation, index))
            .rev() // the first relation the statement names wins a tie
            .max_by_key(|l| l.mode)
        else {
            continue;
        };
        if covered {
            continue;
        }
        let why = match (timeout, max) {
            (Some(t), Some(max)) if !t.is_zero() => {
                format!("the lock_timeout set before it ({t:?}) is above max_lock_timeout ({max:?})")
            }
            (Some(_), _) => "lock_timeout is 0 (wait forever)".to_string(),
            _ => "no SET lock_timeout before it in the migration".to_string(),
        };
        return vec![Hit::new(format!(
            "{} takes {} on {} and {why}: if it waits behind a long transaction, every query on {} queues behind it",
            statement.summary.kind,
            lock.mode.sql_name(),
            lock.relation,
            lock.relation
        ))
        .on(&lock.relation)
        .expect(Expect::Lock(lock.mode))
        .at(index)];
    }
    Vec::new()
}

fn is_local(statement: &Statement) -> bool {
    matches!(&statement.ast, Some(NodeEnum::VariableSetStmt(set)) if set.is_local)
}

/// `Some(value)` when the statement sets lock_timeout (`Some(None)`: back to the default).
fn lock_timeout_setting(statement: &Statement) -> Option<Option<Duration>> {
    let Some(NodeEnum::VariableSetStmt(set)) = &statement.ast else { return None };
    if !set.name.eq_ignore_ascii_case("lock_timeout") {
        return None;
    }
    let value = set.args.first().and_then(|arg| match &arg.node {
        Some(NodeEnum::AConst(constant)) => match &constant.val {
            Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(Duration::from_millis(i.ival.max(0) as u64)),
            Some(pg_query::protobuf::a_const::Val::Sval(s)) => parse_setting(&s.sval),
            Some(pg_query::protobuf::a_const::Val::Fval(f)) => {
                f.fval.parse::<f64>().ok().map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0))
            }
            _ => None,
        },
        _ => None,
    });
    Some(value)
}

/// A PostgreSQL time setting: `2s`, `500ms`, `1min`, `1 h`, or bare milliseconds.
fn parse_setting(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let number: f64 = text[..split].parse().ok()?;
    let unit_ms = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(number * unit_ms / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn settings_parse_like_postgresql() {
        assert_eq!(parse_setting("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_setting("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_setting("1 min"), Some(Duration::from_secs(60)));
        assert_eq!(parse_setting("soon"), None);
    }

    #[test]
    fn zero_reset_and_threshold() {
        assert!(fires("LS124", "SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN x int;"));
        assert!(fires("LS124", "SET lock_timeout = '1s';\nRESET lock_timeout;\nALTER TABLE users ADD COLUMN x int;"));
        assert!(!fires(
            "LS124",
            "BEGIN;\nSET LOCAL lock_timeout TO 1000;\nALTER TABLE users ADD COLUMN x int;\nCOMMIT;"
        ));
        // Only write-blocking locks on existing tables count.
        assert!(!fires("LS124", "UPDATE users SET status = 'x' WHERE id = 1;"));
        assert!(!fires("LS124", "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;"));
        let mut config = crate::analyze::config::Config::default();
        config.thresholds.max_lock_timeout = Some(Duration::from_secs(1));
        let found = lint_files_with("SET lock_timeout = '30s';\nALTER TABLE users ADD COLUMN x int;", 18, config);
        assert!(found.iter().any(|f| f.rule == "LS124" && f.message.contains("above max_lock_timeout")), "{found:#?}");
    }
}
