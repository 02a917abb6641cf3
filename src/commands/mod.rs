//! One thin orchestration per subcommand, on top of the pipeline (docs/ARCHITECTURE.md): each
//! takes a plain options struct (the binary's `cli.rs` converts the command line into it once)
//! and returns the exit code.

pub mod check;
pub mod explain;
pub mod inspect;
pub mod lint;
pub mod rules;
pub mod run;
pub mod snapshot;
