//! lockscope: what a PostgreSQL migration will really do to a live database.
//!
//! The pipeline flows one way (docs/ARCHITECTURE.md, "The pipeline"):
//! [`source`] (files → migrations) → [`sql`] (text → statements) → [`plan`] (what runs, pure) →
//! [`trace`] (plan + connection → observations) → [`analyze`] (observations → an
//! [`analyze::Assessment`]) → [`report`] (both → output), with [`commands`] on top, one per
//! subcommand. [`db`] holds connections, the run's shared session and the embedded server;
//! [`locks`] is the lock-mode table everyone uses; [`watch`] and [`run`] watch and guard live runs.

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
