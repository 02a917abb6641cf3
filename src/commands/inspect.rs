//! `lockscope inspect`: the overview, one sample, or the live view — all of it in `watch/`.

pub use crate::watch::{InspectFormat, InspectOptions};

/// Runs `lockscope inspect`; returns the exit code.
pub async fn run(options: &InspectOptions) -> crate::Result<i32> {
    crate::watch::run(options).await
}
