//! Checks that a target is fit for a dry-run before anything executes on it (docs/ARCHITECTURE.md, safety
//! invariants): never a read-only standby, and never a production-looking database reached as a
//! superuser unless the user says they mean it.

use sqlx::postgres::PgConnection;
use sqlx::Row;

use crate::error::{Error, Result};

/// What lockscope needs to know about a target before it runs anything there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub standby: bool,
    pub superuser: bool,
    pub database: String,
    pub user: String,
}

/// Reads the facts in one cheap, read-only query.
pub async fn target_facts(conn: &mut PgConnection) -> Result<TargetFacts> {
    let row = sqlx::query(
        "SELECT pg_catalog.pg_is_in_recovery() AS standby, \
                current_setting('is_superuser') = 'on' AS superuser, \
                current_database()::text AS database, current_user::text AS user_name",
    )
    .fetch_one(conn)
    .await
    .map_err(|err| {
        Error::Database(crate::db::redact(&format!("reading the target's role and recovery state: {err}")))
    })?;
    Ok(TargetFacts {
        standby: row.get("standby"),
        superuser: row.get("superuser"),
        database: row.get("database"),
        user: row.get("user_name"),
    })
}

/// Whether a database name reads like a production one: `prod`, `production`, `prd` or `live`
/// as a word of the name (`shop_prod`, `prod-eu`, `live`), not inside another word (`product`).
pub fn looks_like_production(database: &str) -> bool {
    database
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| matches!(word, "prod" | "production" | "prd" | "live"))
}

/// Refuses targets a dry-run must not touch; `allow_production` is `--i-know-this-is-production`.
pub fn vet(facts: &TargetFacts, target: &str, allow_production: bool) -> Result<()> {
    if facts.standby {
        return Err(Error::Usage(format!(
            "{target} is a hot standby (read-only): a dry-run needs a writable server. Point lockscope at the \
             primary or at a writable staging copy"
        )));
    }
    if facts.superuser && looks_like_production(&facts.database) && !allow_production {
        return Err(Error::Usage(format!(
            "refusing to dry-run on {target}: connected as superuser {} to a database whose name looks like \
             production ({}). A dry-run takes the same locks as the real migration, ACCESS EXCLUSIVE included, for \
             as long as it runs, and real traffic queues behind them (lock_timeout bounds only the wait for each \
             lock). Use a staging copy, or pass --i-know-this-is-production to proceed",
            facts.user, facts.database
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(standby: bool, superuser: bool, database: &str) -> TargetFacts {
        TargetFacts { standby, superuser, database: database.into(), user: "admin".into() }
    }

    #[test]
    fn production_names() {
        for name in ["prod", "shop_prod", "PROD-eu", "production", "app.live", "prd_main"] {
            assert!(looks_like_production(name), "{name}");
        }
        for name in ["staging", "product_catalog", "delivery", "preprod_copy_x"] {
            assert!(!looks_like_production(name), "{name}");
        }
    }

    #[test]
    fn standby_is_always_refused() {
        let err = vet(&facts(true, false, "staging"), "postgres://db/staging", true).unwrap_err().to_string();
        assert!(err.contains("hot standby"), "{err}");
    }

    #[test]
    fn superuser_on_production_needs_the_flag() {
        let err = vet(&facts(false, true, "shop_prod"), "t", false).unwrap_err().to_string();
        assert!(err.contains("--i-know-this-is-production") && err.contains("same locks"), "{err}");
        assert!(vet(&facts(false, true, "shop_prod"), "t", true).is_ok());
        assert!(vet(&facts(false, false, "shop_prod"), "t", false).is_ok());
        assert!(vet(&facts(false, true, "staging"), "t", false).is_ok());
    }
}
