//! lockscope: what a PostgreSQL migration will really do to a live database.
//!
//! The pipeline flows one way (see `../shared/DESIGN.md`):
//! [`source`] (files → migrations) → [`sql`] (text → statements) → [`trace`] (statements +
//! connection → observations) → [`analyze`] (observations → findings) → [`report`] (→ output).
//! [`db`] holds connections and the embedded server; [`locks`] is the lock-mode table everyone uses.

pub mod analyze;
pub mod check;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod git_diff;
pub mod impact;
pub mod introspect;
pub mod isolate;
pub mod ledger;
pub mod lint;
pub mod locks;
pub mod progress;
pub mod report;
pub mod reversible;
pub mod run;
pub mod safety;
pub mod source;
pub mod sql;
pub mod trace;
pub mod units;
pub mod watch;

pub use error::{Error, Location, Result};
