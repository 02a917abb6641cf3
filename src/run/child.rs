//! The user's migration command as a child process: run unchanged with stdin and stdout passed
//! through, two environment variables added (`PGAPPNAME`, and `PGOPTIONS` with a lock_timeout),
//! stderr copied through line by line while watching for PostgreSQL's lock-timeout message.

use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::Write;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::{Error, Result};

/// PostgreSQL's message when `lock_timeout` fires (errcode 55P03, `ProcessInterrupts` in
/// src/backend/tcop/postgres.c: "canceling statement due to lock timeout"). Only the English
/// text is recognised; with another `lc_messages` only lockscope's own cancellations count.
const LOCK_TIMEOUT_MESSAGE: &str = "due to lock timeout";

/// A running migration command.
pub struct Running {
    child: Child,
    pid: u32,
    saw_lock_timeout: Arc<AtomicBool>,
    stderr_copy: Option<tokio::task::JoinHandle<()>>,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Its exit code; 128 + signal when a signal ended it.
    pub code: i32,
    /// Its stderr said a statement hit the server's lock_timeout.
    pub lock_timeout: bool,
}

/// Starts `command` with extra environment variables.
pub fn spawn(command: &[String], env: &[(String, String)]) -> Result<Running> {
    let (program, args) =
        command.split_first().ok_or_else(|| Error::Usage("lockscope run needs a command after `--`".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::inherit()).stdout(Stdio::inherit()).stderr(Stdio::piped()).kill_on_drop(true);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().map_err(|err| Error::Usage(format!("could not start {program:?}: {err}")))?;
    let pid = child.id().ok_or_else(|| Error::Usage(format!("{program:?} exited before it could be watched")))?;
    let saw_lock_timeout = Arc::new(AtomicBool::new(false));
    let stderr_copy = child.stderr.take().map(|stderr| {
        let flag = saw_lock_timeout.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match lines.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if String::from_utf8_lossy(&line).contains(LOCK_TIMEOUT_MESSAGE) {
                            flag.store(true, Ordering::SeqCst);
                        }
                        let mut out = std::io::stderr().lock();
                        let _ = out.write_all(&line);
                        let _ = out.flush();
                    }
                }
            }
        })
    });
    Ok(Running { child, pid, saw_lock_timeout, stderr_copy })
}

impl Running {
    /// The child's process id (the root of the tree whose sockets are matched).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for the command to end.
    pub async fn wait(&mut self) -> Result<Ended> {
        let status = self
            .child
            .wait()
            .await
            .map_err(|err| Error::Database(format!("could not wait for the migration command: {err}")))?;
        if let Some(copy) = self.stderr_copy.take() {
            let _ = copy.await;
        }
        Ok(Ended { code: exit_code(status), lock_timeout: self.saw_lock_timeout.load(Ordering::SeqCst) })
    }

    /// Stops the command: SIGINT (what Ctrl-C would send it), then SIGTERM, then SIGKILL, each
    /// after `grace` without an exit.
    pub async fn stop(&mut self, grace: Duration) -> Result<Ended> {
        for signal in [Signal::SIGINT, Signal::SIGTERM] {
            let _ = kill(Pid::from_raw(self.pid as i32), signal);
            if let Ok(ended) = tokio::time::timeout(grace, self.wait()).await {
                return ended;
            }
        }
        let _ = self.child.start_kill();
        self.wait().await
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
