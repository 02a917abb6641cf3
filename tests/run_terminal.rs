//! `lockscope run` on a terminal: the live panel and the command's own output share it. The
//! test runs lockscope on a pseudo-terminal, replays everything it wrote there through a
//! terminal emulator (vt100) and reads the screen and scrollback a user would see afterwards.
//! No wall-clock assertion: the command waits for a file the test creates once the panel has
//! shown the lock the command holds.

mod common;

use std::io::Read;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Only a guard against a hung test; never asserted on.
const HANG_GUARD: Duration = Duration::from_secs(90);

const ROWS: u16 = 30;
const COLS: u16 = 140;

/// Opens a terminal of ROWS × COLS whose far end lockscope gets as stdin, stdout and stderr.
fn terminal() -> (OwnedFd, OwnedFd) {
    let size = nix::pty::Winsize { ws_row: ROWS, ws_col: COLS, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
    (pty.master, pty.slave)
}

/// Everything written to the terminal, read until lockscope (and its command) closed it.
fn capture(master: OwnedFd) -> Arc<Mutex<Vec<u8>>> {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let sink = captured.clone();
    std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut buffer = [0u8; 8192];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => sink.lock().unwrap().extend_from_slice(&buffer[..read]),
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                // EIO: every slave end is closed.
                Err(_) => break,
            }
        }
    });
    captured
}

/// The whole transcript the emulator holds: scrollback first, then the screen, one string a row.
fn transcript(bytes: &[u8]) -> Vec<String> {
    let mut parser = vt100::Parser::new(ROWS, COLS, 100_000);
    parser.process(bytes);
    let screen = parser.screen_mut();
    screen.set_scrollback(usize::MAX);
    let above = screen.scrollback();
    let mut rows = Vec::new();
    for offset in (1..=above).rev() {
        screen.set_scrollback(offset);
        rows.extend(screen.rows(0, COLS).next());
    }
    screen.set_scrollback(0);
    rows.extend(screen.rows(0, COLS));
    rows.into_iter().map(|row| row.trim_end().to_string()).collect()
}

fn count(rows: &[String], wanted: &str) -> usize {
    rows.iter().filter(|row| row.as_str() == wanted).count()
}

#[tokio::test]
async fn the_commands_output_and_the_live_panel_never_interleave_on_a_terminal() {
    let db = common::fresh_database().await;
    let mut setup = db.connect().await;
    common::execute(&mut setup, "CREATE TABLE items (id int)").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let go = dir.path().join("go");
    // The command holds ACCESS EXCLUSIVE on items (psql in the background, found by PGAPPNAME)
    // and prints a line every 50ms until the test creates `go`; then it ends with a prompt-like
    // unfinished line that it completes later.
    let script = r#"
        [ -t 1 ] && echo "child: stdout is a terminal"
        ( echo "BEGIN;"; echo "LOCK TABLE items IN ACCESS EXCLUSIVE MODE;"
          while [ ! -f "$GO" ]; do sleep 0.05; done; echo "COMMIT;" ) | psql -X -q -v ON_ERROR_STOP=1 "$URL" &
        i=0
        while [ ! -f "$GO" ]; do i=$((i+1)); echo "child line $i"; sleep 0.05; done
        wait
        echo "child printed $i lines" >&2
        printf 'Continue? '
        sleep 0.3
        echo yes
    "#;
    let (master, slave) = terminal();
    let captured = capture(master);
    let mut lockscope = Command::new(env!("CARGO_BIN_EXE_lockscope"));
    lockscope
        .env_remove("PGAPPNAME")
        .env_remove("PGOPTIONS")
        .env("GO", &go)
        .env("URL", &db.url)
        .env("TERM", "xterm")
        .args(["run", "--database-url", &db.url, "--interval", "50ms", "--format", "json", "--output"])
        .arg(dir.path().join("report.json"))
        .args(["--", "sh", "-c", script])
        .stdin(Stdio::from(slave.try_clone().expect("dup")))
        .stdout(Stdio::from(slave.try_clone().expect("dup")))
        .stderr(Stdio::from(slave));
    let mut child = lockscope.spawn().expect("start lockscope");
    drop(lockscope);

    // Event order, not time: the panel shows the lock the command holds, then the command goes on.
    let deadline = std::time::Instant::now() + HANG_GUARD;
    while !String::from_utf8_lossy(&captured.lock().unwrap()).contains("holds AccessExclusiveLock on public.items") {
        assert!(std::time::Instant::now() < deadline, "the panel never showed the held lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(&go, "").expect("create go");
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("join").expect("wait");
    assert_eq!(status.code(), Some(0));
    // The reader ends when the terminal's last writer has closed it.
    let deadline = std::time::Instant::now() + HANG_GUARD;
    while Arc::strong_count(&captured) > 1 {
        assert!(std::time::Instant::now() < deadline, "the terminal was never closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bytes = captured.lock().unwrap().clone();
    let rows = transcript(&bytes);
    let all = rows.join("\n");

    let printed: usize = rows
        .iter()
        .find_map(|row| row.strip_prefix("child printed ")?.strip_suffix(" lines")?.parse().ok())
        .unwrap_or_else(|| panic!("the command's last line is missing:\n{all}"));
    assert!(printed > 0, "{all}");
    for line in 1..=printed {
        assert_eq!(count(&rows, &format!("child line {line}")), 1, "child line {line} once:\n{all}");
    }
    assert_eq!(count(&rows, "child: stdout is a terminal"), 1, "the command sees a terminal:\n{all}");
    assert_eq!(count(&rows, "Continue? yes"), 1, "an unfinished line is completed in place:\n{all}");
    assert!(
        !rows.iter().any(|row| row.contains("lockscope run — attempt") || row.contains("seen held")),
        "no copy of the panel is left on the screen or in the scrollback:\n{all}"
    );
    let held_lines = rows.iter().filter(|row| row.contains("now holds AccessExclusiveLock on public.items")).count();
    assert_eq!(held_lines, 1, "the held lock is announced once, above the panel:\n{all}");
    let order = |text: &str| rows.iter().position(|row| row.contains(text)).unwrap_or_else(|| panic!("{text}:\n{all}"));
    assert!(order("child printed") < order("Continue? yes"));
    assert!(order("Continue? yes") < order("attempt 1: the command exited with 0"));
}
