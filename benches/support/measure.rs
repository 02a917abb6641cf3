//! Running a command and measuring it: wall time and the child's peak resident memory (from
//! `wait4`'s rusage, so no external `time` binary is needed).

use std::process::Command;
use std::time::{Duration, Instant};

/// What one run of a child process cost.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    /// Peak resident set size of the child, in KiB.
    pub max_rss_kib: i64,
    pub exit_code: i32,
}

/// Runs `command` to completion, measuring it.
pub fn run(command: &mut Command) -> Run {
    let started = Instant::now();
    let child = command.spawn().unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child; status and usage are valid out-pointers.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed for {command:?}");
    let wall = started.elapsed();
    std::mem::forget(child); // already reaped
    let exit_code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    Run { wall, max_rss_kib: usage.ru_maxrss, exit_code }
}

/// The median of some durations.
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
