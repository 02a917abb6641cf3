//! lockscope: what a PostgreSQL migration will really do to a live database.
//!
//! The pipeline flows one way (see `../shared/DESIGN.md`):
//! [`source`] (files → migrations) → [`sql`] (text → statements) → [`trace`] (statements +
//! connection → observations) → [`analyze`] (observations → findings) → [`report`] (→ output).
//! [`db`] holds connections and the embedded server; [`locks`] is the lock-mode table everyone uses.

pub mod analyze;
pub mod commands;
pub mod db;
pub mod error;
pub mod introspect;
pub mod isolate;
pub mod ledger;
pub mod locks;
pub mod plan;
pub mod progress;
pub mod report;
pub mod run;
pub mod safety;
pub mod source;
pub mod sql;
pub mod trace;
pub mod units;
pub mod watch;

pub use error::{Error, Location, Result};
