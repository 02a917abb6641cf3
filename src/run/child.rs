//! The user's migration command as a child process: run unchanged with stdin passed through, two
//! environment variables added (`PGAPPNAME`, and `PGOPTIONS` with a lock_timeout), its output
//! copied to the user through [`Relay`] while watching for PostgreSQL's lock-timeout message.
//!
//! Without a live panel on lockscope's stdout terminal ([`ChildOutput::Inherit`]) stdout is
//! inherited and stderr copied line by line, as before. With one ([`ChildOutput::Pty`]) the
//! command's stdout and stderr are a pseudo-terminal, so it still sees a terminal (colours, line
//! buffering), and lockscope writes what it prints above the panel. Its stdin stays lockscope's
//! own (the user's terminal: prompts and Ctrl-C behave as without lockscope), and the
//! pseudo-terminal's output processing is off, so the bytes reach the user as the command wrote
//! them and the user's own terminal translates them as usual.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use super::live::{ChildOutput, Relay, Stream};
use crate::error::{Error, Result};

/// PostgreSQL's message when `lock_timeout` fires (errcode 55P03, `ProcessInterrupts` in
/// src/backend/tcop/postgres.c: "canceling statement due to lock timeout"). Only the English
/// text is recognised; with another `lc_messages` only lockscope's own cancellations count.
const LOCK_TIMEOUT_MESSAGE: &str = "due to lock timeout";

/// An unfinished line (a prompt, a `\r` progress counter) is shown after this long without more
/// output…
const UNFINISHED_QUIET: Duration = Duration::from_millis(100);
/// …or after this long in any case.
const UNFINISHED_AT_MOST: Duration = Duration::from_millis(250);

/// After the command exits, its output is copied for at most this long more (a process it left
/// behind may keep the terminal or pipe open).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(5);

/// A running migration command.
pub struct Running {
    child: Child,
    pid: u32,
    saw_lock_timeout: Arc<AtomicBool>,
    /// Fires when the output copier has seen the end of the command's output.
    output_done: Option<oneshot::Receiver<()>>,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Its exit code; 128 + signal when a signal ended it.
    pub code: i32,
    /// Its output said a statement hit the server's lock_timeout.
    pub lock_timeout: bool,
}

/// Starts `command` with extra environment variables, its output connected as `output` says.
pub fn spawn(command: &[String], env: &[(String, String)], output: ChildOutput, relay: Relay) -> Result<Running> {
    let (program, args) =
        command.split_first().ok_or_else(|| Error::Usage("lockscope run needs a command after `--`".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::inherit()).kill_on_drop(true);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let master = match output {
        ChildOutput::Inherit => {
            cmd.stdout(Stdio::inherit()).stderr(Stdio::piped());
            None
        }
        ChildOutput::Pty => {
            let (master, slave) = open_pty()?;
            let slave_for_stderr =
                slave.try_clone().map_err(|err| Error::Database(format!("cannot set up a pseudo-terminal: {err}")))?;
            cmd.stdout(Stdio::from(slave)).stderr(Stdio::from(slave_for_stderr));
            Some(master)
        }
    };
    let spawned = cmd.spawn();
    // The parent's copies of the slave end go with `cmd`: the master then reads end-of-output
    // (EIO) as soon as the command and everything it started have closed theirs.
    drop(cmd);
    let mut child = spawned.map_err(|err| Error::Usage(format!("could not start {program:?}: {err}")))?;
    let pid = child.id().ok_or_else(|| Error::Usage(format!("{program:?} exited before it could be watched")))?;
    let saw_lock_timeout = Arc::new(AtomicBool::new(false));
    let (done, output_done) = oneshot::channel();
    let flag = saw_lock_timeout.clone();
    match (master, child.stderr.take()) {
        (Some(master), _) => {
            std::thread::spawn(move || {
                copy_pty(master, &relay, &flag);
                let _ = done.send(());
            });
        }
        (None, Some(stderr)) => {
            tokio::spawn(async move {
                copy_stderr(stderr, &relay, &flag).await;
                let _ = done.send(());
            });
        }
        (None, None) => drop(done),
    }
    Ok(Running { child, pid, saw_lock_timeout, output_done: Some(output_done) })
}

/// A pseudo-terminal (master, slave) the size of lockscope's stdout terminal, with output
/// processing off (no `\n` → `\r\n`: termios(3), OPOST) so the master reads the command's bytes
/// as written. Neither end is inherited by the command except as its stdout and stderr.
fn open_pty() -> Result<(OwnedFd, OwnedFd)> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};
    let failed = |err: nix::Error| Error::Database(format!("cannot set up a pseudo-terminal: {err}"));
    let size = terminal_size::terminal_size_of(std::io::stdout()).map(|(width, height)| nix::pty::Winsize {
        ws_row: height.0,
        ws_col: width.0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    let pty = nix::pty::openpty(size.as_ref(), None).map_err(failed)?;
    let mut termios = tcgetattr(&pty.slave).map_err(failed)?;
    termios.output_flags.remove(OutputFlags::OPOST);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).map_err(failed)?;
    for fd in [&pty.master, &pty.slave] {
        fcntl(std::os::fd::AsRawFd::as_raw_fd(fd), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(failed)?;
    }
    Ok((pty.master, pty.slave))
}

/// Copies the pseudo-terminal's output to lockscope's stdout until the command and its
/// children have closed it: whole lines as they come, an unfinished line once it has been quiet
/// for a moment.
fn copy_pty(master: OwnedFd, relay: &Relay, saw_lock_timeout: &AtomicBool) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut scan = LockTimeoutScan::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_since = Instant::now();
    let mut buffer = vec![0u8; 16 * 1024];
    let mut file = std::fs::File::from(master);
    loop {
        if !pending.is_empty() {
            let left = UNFINISHED_AT_MOST.saturating_sub(pending_since.elapsed()).min(UNFINISHED_QUIET);
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::ZERO);
            let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => {
                    relay.write_unfinished(&pending, Stream::Stdout);
                    pending.clear();
                    continue;
                }
                Err(nix::errno::Errno::EINTR) => continue,
                _ => {}
            }
        }
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO once every slave end is closed (Linux, pty(7)): the output has ended.
            Err(_) => break,
        };
        let chunk = &buffer[..read];
        if scan.saw(chunk) {
            saw_lock_timeout.store(true, Ordering::SeqCst);
        }
        if pending.is_empty() {
            pending_since = Instant::now();
        }
        pending.extend_from_slice(chunk);
        if let Some(last_newline) = pending.iter().rposition(|byte| *byte == b'\n') {
            let rest = pending.split_off(last_newline + 1);
            relay.write(&pending, Stream::Stdout);
            pending = rest;
            pending_since = Instant::now();
        }
    }
    relay.write_unfinished(&pending, Stream::Stdout);
}

/// Copies the command's stderr (a pipe) to lockscope's stderr, line by line.
async fn copy_stderr(stderr: tokio::process::ChildStderr, relay: &Relay, saw_lock_timeout: &AtomicBool) {
    let mut lines = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if String::from_utf8_lossy(&line).contains(LOCK_TIMEOUT_MESSAGE) {
                    saw_lock_timeout.store(true, Ordering::SeqCst);
                }
                if line.ends_with(b"\n") {
                    relay.write(&line, Stream::Stderr);
                } else {
                    relay.write_unfinished(&line, Stream::Stderr);
                }
            }
        }
    }
}

/// Finds [`LOCK_TIMEOUT_MESSAGE`] in a stream read in chunks, across chunk boundaries.
#[derive(Default)]
struct LockTimeoutScan {
    tail: Vec<u8>,
}

impl LockTimeoutScan {
    fn saw(&mut self, chunk: &[u8]) -> bool {
        self.tail.extend_from_slice(chunk);
        let found = self.tail.windows(LOCK_TIMEOUT_MESSAGE.len()).any(|w| w == LOCK_TIMEOUT_MESSAGE.as_bytes());
        let keep = LOCK_TIMEOUT_MESSAGE.len() - 1;
        if self.tail.len() > keep {
            self.tail.drain(..self.tail.len() - keep);
        }
        found
    }
}

impl Running {
    /// The child's process id (the root of the tree whose sockets are matched).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for the command to end, and for its last output to be copied.
    pub async fn wait(&mut self) -> Result<Ended> {
        let status = self
            .child
            .wait()
            .await
            .map_err(|err| Error::Database(format!("could not wait for the migration command: {err}")))?;
        // Polled by reference, so a wait cancelled meanwhile (the caller's select!) still drains.
        if let Some(done) = self.output_done.as_mut() {
            let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, done).await;
            self.output_done = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_timeout_message_is_found_across_chunks() {
        let mut scan = LockTimeoutScan::default();
        assert!(!scan.saw(b"ERROR:  canceling statement due to lo"));
        assert!(scan.saw(b"ck timeout\r\n"));
        let mut other = LockTimeoutScan::default();
        assert!(!other.saw(b"ERROR:  syntax error at or near \"ALTR\"\n"));
    }
}
