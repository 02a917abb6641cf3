//! `lockscope run -- COMMAND…`: the team's migrate command under guard — all of it in `run/`.

pub use crate::run::{RunOptions, RunOutcome};

/// Runs `lockscope run`.
pub async fn run(options: &RunOptions) -> crate::Result<RunOutcome> {
    crate::run::run(options).await
}
