//! The embedded default target: a throwaway PostgreSQL cluster started from the machine's own
//! binaries in a temporary directory, reachable only through a private Unix socket, stopped and
//! deleted on every exit path.
//!
//! Exit paths and what covers them:
//! - normal end, error, Ctrl-C handled by the CLI: [`EphemeralServer::stop`] (also on drop);
//! - lockscope killed outright: the postmaster gets SIGTERM from the kernel (`PR_SET_PDEATHSIG`)
//!   and shuts down once our sessions are gone; the next start deletes the directory it left.
//!
//! `postgres` runs in its own process group, so a terminal Ctrl-C reaches only lockscope, which
//! then shuts the server down in order instead of racing it.

use std::fs::{self, File};
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::{Gid, Pid, Uid, User};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::Connection;

use crate::error::{Error, Result};

use super::{Target, TargetSource};

/// Prefix of every throwaway cluster directory, so stale ones can be recognised and swept.
const DIR_PREFIX: &str = "lockscope-pg-";
/// Holds the pid of the lockscope process that owns a cluster directory.
const OWNER_FILE: &str = "lockscope.pid";
/// The server's stdout and stderr.
const LOG_FILE: &str = "postgres.log";
/// The cluster's superuser (trust auth over the private socket).
const SUPERUSER: &str = "postgres";
/// The system user the server runs as when lockscope runs as root (initdb refuses root).
const SERVICE_USER: &str = "postgres";
/// How long a fresh server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a fast shutdown may take before the server's process group is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// `sun_path` holds 107 bytes; the socket is `<dir>/.s.PGSQL.<port>` (up to 16 more).
const MAX_SOCKET_DIR_LEN: usize = 90;
/// How old a cluster directory without an owner file must be before a sweep removes it, so a
/// concurrent lockscope that has just created its directory is left alone.
const ORPHAN_MIN_AGE: Duration = Duration::from_secs(600);
/// Variables that would redirect `initdb` or `postgres` away from the private directory.
const SERVER_ENV_TO_CLEAR: [&str; 8] =
    ["PGDATA", "PGPORT", "PGHOST", "PGHOSTADDR", "PGUSER", "PGDATABASE", "PGOPTIONS", "PGPASSWORD"];

/// How to start an [`EphemeralServer`]. The default listens on the private socket only.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Also listen on `127.0.0.1` at [`EphemeralServer::port`]. TCP logins need a password
    /// (scram-sha-256); the socket stays trust. For tests of password and TLS handling.
    pub listen_on_localhost: bool,
}

/// A running throwaway cluster. Dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub struct EphemeralServer {
    /// The private directory (socket, data, log); `None` once deleted.
    dir: Option<PathBuf>,
    /// Where the directory is (or was): also the socket directory.
    path: PathBuf,
    port: u16,
    listens_on_localhost: bool,
    version: String,
    keeper: Option<Keeper>,
}

/// The thread that spawned `postgres` and stays alive until it is stopped: `PR_SET_PDEATHSIG`
/// fires when the *thread* that forked the child ends, so that thread must outlive the server.
#[derive(Debug)]
struct Keeper {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
    pid: u32,
    exited: Arc<Mutex<Option<ExitStatus>>>,
}

/// The unprivileged account the server runs as when lockscope runs as root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

impl EphemeralServer {
    /// Finds binaries (see [`find_bindir`]), runs `initdb` and starts `postgres` (as the
    /// unprivileged `postgres` user when running as root), and waits until it accepts connections.
    pub fn start() -> Result<EphemeralServer> {
        EphemeralServer::start_with(StartOptions::default())
    }

    /// [`EphemeralServer::start`] with options.
    pub fn start_with(options: StartOptions) -> Result<EphemeralServer> {
        EphemeralServer::start_configured(options, &[])
    }

    /// [`EphemeralServer::start`] with extra server settings, passed as `-c name=value` after the
    /// defaults so they win (e.g. `("max_connections", "1100")` for a load benchmark).
    pub fn start_with_settings(settings: &[(&str, &str)]) -> Result<EphemeralServer> {
        EphemeralServer::start_configured(StartOptions::default(), settings)
    }

    fn start_configured(options: StartOptions, settings: &[(&str, &str)]) -> Result<EphemeralServer> {
        sweep_stale_dirs();
        let bindir = find_bindir()?;
        let version = server_version(&bindir)?;
        let run_as = run_as()?;
        let dir = create_private_dir(run_as)?;
        // From here on an early return drops `server`, which deletes the directory.
        let mut server = EphemeralServer {
            dir: Some(dir.clone()),
            path: dir.clone(),
            port: 0,
            listens_on_localhost: options.listen_on_localhost,
            version,
            keeper: None,
        };
        server.port = free_port()?;
        init_cluster(&bindir, &dir, run_as)?;
        let command = server.postgres_command(&bindir, run_as, settings)?;
        server.keeper = Some(Keeper::spawn(command)?);
        server.wait_until_ready()?;
        Ok(server)
    }

    /// A target for database `dbname` on this server (superuser, trust auth over the socket).
    pub fn target(&self, dbname: &str) -> Target {
        // `new_without_pgpass`: nothing from ~/.pgpass belongs to this server.
        let options = PgConnectOptions::new_without_pgpass()
            .host("localhost")
            .socket(&self.path)
            .port(self.port)
            .username(SUPERUSER)
            .database(dbname)
            .ssl_mode(PgSslMode::Disable);
        Target {
            options,
            display: format!("embedded PostgreSQL {} (throwaway)", self.version),
            source: TargetSource::Embedded,
        }
    }

    /// A `--database-url` for database `dbname` on this server, through its socket:
    /// `postgres://postgres@localhost:PORT/DBNAME?host=/tmp/lockscope-pg-…`.
    pub fn url(&self, dbname: &str) -> String {
        let mut url = url::Url::parse("postgres://postgres@localhost").expect("constant URL");
        url.set_port(Some(self.port)).expect("a URL with a host takes a port");
        url.set_path(dbname);
        url.query_pairs_mut().append_pair("host", &self.path.to_string_lossy());
        url.to_string()
    }

    /// `major.minor` of the server binaries, e.g. `15.18`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The socket's port (and the TCP port with [`StartOptions::listen_on_localhost`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCP port on `127.0.0.1`, when started with [`StartOptions::listen_on_localhost`].
    pub fn localhost_port(&self) -> Option<u16> {
        self.listens_on_localhost.then_some(self.port)
    }

    /// The private directory: socket, `data/`, `postgres.log`. Gone after [`Self::stop`].
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// The postmaster's process id while the server runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        self.keeper.as_ref().map(|keeper| keeper.pid)
    }

    /// Stops the server (fast shutdown) and deletes its directory. Idempotent.
    pub fn stop(&mut self) {
        if let Some(keeper) = self.keeper.take() {
            // A send error means the keeper already saw the server exit on its own.
            let _ = keeper.stop.send(());
            let _ = keeper.thread.join();
        }
        if let Some(dir) = self.dir.take() {
            remove_dir_patiently(&dir);
        }
    }

    fn postgres_command(&self, bindir: &Path, run_as: Option<RunAs>, settings: &[(&str, &str)]) -> Result<Command> {
        let log_path = self.path.join(LOG_FILE);
        let log = File::create(&log_path)
            .map_err(|err| Error::Embedded(format!("could not create {}: {err}", log_path.display())))?;
        let log_for_stderr = log
            .try_clone()
            .map_err(|err| Error::Embedded(format!("could not reopen {}: {err}", log_path.display())))?;
        let listen = if self.listens_on_localhost { "127.0.0.1" } else { "" };
        let mut command = server_command(&bindir.join("postgres"), &self.path, run_as);
        command
            .arg("-D")
            .arg(self.path.join("data"))
            .arg("-k")
            .arg(&self.path)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-F")
            .args(["-c", &format!("listen_addresses={listen}")])
            .args(["-c", "fsync=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "shared_buffers=32MB"]);
        for (name, value) in settings {
            command.args(["-c", &format!("{name}={value}")]);
        }
        command
            .stdout(log)
            .stderr(log_for_stderr)
            // A terminal Ctrl-C must reach only lockscope, which then stops the server in order.
            .process_group(0);
        Ok(command)
    }

    fn wait_until_ready(&self) -> Result<()> {
        let keeper = self.keeper.as_ref().expect("server was spawned");
        let exited = Arc::clone(&keeper.exited);
        let target = self.target("postgres");
        // A private runtime on a plain thread: works whether or not the caller is async.
        let outcome = thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|err| format!("could not start a runtime: {err}"))?;
                    runtime.block_on(wait_for_connection(&target, &exited))
                })
                .join()
                .unwrap_or_else(|_| Err("the readiness check panicked".into()))
        });
        outcome.map_err(|message| {
            Error::Embedded(format!(
                "{message}\n--- last lines of the server log ---\n{}",
                last_lines(&fs::read_to_string(self.path.join(LOG_FILE)).unwrap_or_default(), 20)
            ))
        })
    }
}

impl Drop for EphemeralServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_for_connection(target: &Target, exited: &Mutex<Option<ExitStatus>>) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let status = *exited.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(status) = status {
            return Err(format!("postgres exited ({status}) before accepting connections"));
        }
        match super::connect(target, "lockscope-startup").await {
            Ok(connection) => {
                let _ = connection.close().await;
                return Ok(());
            }
            Err(err) if Instant::now() >= deadline => {
                return Err(format!(
                    "the server did not accept connections within {} seconds: {err}",
                    READY_TIMEOUT.as_secs()
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

impl Keeper {
    /// Spawns `command` from a new long-lived thread and returns once the child exists.
    fn spawn(mut command: Command) -> Result<Keeper> {
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (spawned_tx, spawned_rx) = mpsc::channel::<io::Result<u32>>();
        let exited = Arc::new(Mutex::new(None));
        let exited_for_thread = Arc::clone(&exited);
        let thread = thread::Builder::new()
            .name("lockscope-pg-keeper".into())
            .spawn(move || match command.spawn() {
                Ok(child) => {
                    let _ = spawned_tx.send(Ok(child.id()));
                    keep(child, &stop_rx, &exited_for_thread);
                }
                Err(err) => {
                    let _ = spawned_tx.send(Err(err));
                }
            })
            .map_err(|err| Error::Embedded(format!("could not start a thread: {err}")))?;
        match spawned_rx.recv() {
            Ok(Ok(pid)) => Ok(Keeper { stop: stop_tx, thread, pid, exited }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(Error::Embedded(format!("could not run postgres: {err}")))
            }
            Err(_) => {
                let _ = thread.join();
                Err(Error::Embedded("the thread running postgres died".into()))
            }
        }
    }
}

/// Runs on the keeper thread: notes if the server dies on its own; shuts it down when asked
/// (or when the [`EphemeralServer`] is gone without asking).
fn keep(mut child: Child, stop: &mpsc::Receiver<()>, exited: &Mutex<Option<ExitStatus>>) {
    loop {
        match stop.recv_timeout(Duration::from_millis(100)) {
            Err(RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = child.try_wait() {
                    *exited.lock().unwrap_or_else(PoisonError::into_inner) = Some(status);
                    return;
                }
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                shut_down(&mut child);
                return;
            }
        }
    }
}

/// Fast shutdown (SIGINT: abort sessions, exit), then SIGKILL to the whole process group.
fn shut_down(child: &mut Child) {
    let Ok(raw_pid) = i32::try_from(child.id()) else {
        return;
    };
    let pid = Pid::from_raw(raw_pid);
    let _ = signal::kill(pid, Signal::SIGINT);
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    // The postmaster leads its own process group, which holds every backend too.
    let _ = signal::killpg(pid, Signal::SIGKILL);
    let _ = child.wait();
}

/// A command for `initdb` or `postgres`: runs in `dir` with `HOME=dir`, as `run_as` if given,
/// and is sent SIGTERM if the thread that spawned it ends.
fn server_command(program: &Path, dir: &Path, run_as: Option<RunAs>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir).env("HOME", dir).stdin(Stdio::null());
    for name in SERVER_ENV_TO_CLEAR {
        command.env_remove(name);
    }
    if let Some(run_as) = run_as {
        command.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
    }
    #[cfg(target_os = "linux")]
    {
        let parent = nix::unistd::getpid();
        // SAFETY: only async-signal-safe system calls, no allocation. std runs this after
        // setuid/setgid, which would otherwise clear the death signal.
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from)?;
                // The parent may have died before the death signal was armed.
                if nix::unistd::getppid() != parent {
                    return Err(io::Error::from(Errno::ESRCH));
                }
                Ok(())
            });
        }
    }
    command
}

fn init_cluster(bindir: &Path, dir: &Path, run_as: Option<RunAs>) -> Result<()> {
    let initdb = bindir.join("initdb");
    let output = server_command(&initdb, dir, run_as)
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-U", SUPERUSER])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
        .args(["-E", "UTF8", "--locale=C", "--no-sync"])
        .output()
        .map_err(|err| {
            Error::Embedded(format!("could not run {}: {err}{}", initdb.display(), run_as_hint(run_as, bindir, dir)))
        })?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(Error::Embedded(format!(
        "{} failed ({}){}:\n{}",
        initdb.display(),
        output.status,
        run_as_hint(run_as, bindir, dir),
        last_lines(&text, 20)
    )))
}

fn run_as_hint(run_as: Option<RunAs>, bindir: &Path, dir: &Path) -> String {
    match run_as {
        Some(_) => format!(
            " (it runs as the `{SERVICE_USER}` user, which must be able to execute {} and write {})",
            bindir.display(),
            dir.display()
        ),
        None => String::new(),
    }
}

/// `None` normally; the `postgres` account when running as root.
fn run_as() -> Result<Option<RunAs>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name(SERVICE_USER) {
        Ok(Some(user)) => Ok(Some(RunAs { uid: user.uid, gid: user.gid })),
        _ => Err(Error::Embedded(format!(
            "lockscope runs as root and initdb refuses to run as root, but there is no \
             `{SERVICE_USER}` user to run the throwaway server as. Create one (`useradd --system \
             --user-group {SERVICE_USER}`; installing PostgreSQL's packages also does), run \
             lockscope as an ordinary user, or pass --database-url"
        ))),
    }
}

/// Creates `lockscope-pg-XXXXXX` under the temp dir (or `/tmp` when that path is too long for a
/// socket), records our pid in it, and hands it to `run_as`.
fn create_private_dir(run_as: Option<RunAs>) -> Result<PathBuf> {
    let mut base = std::env::temp_dir();
    if base.as_os_str().len() + DIR_PREFIX.len() + 8 > MAX_SOCKET_DIR_LEN {
        base = PathBuf::from("/tmp");
    }
    let dir = tempfile::Builder::new()
        .prefix(DIR_PREFIX)
        .tempdir_in(&base)
        .map_err(|err| Error::Embedded(format!("could not create a directory in {}: {err}", base.display())))?
        .keep();
    let prepared = fs::write(dir.join(OWNER_FILE), std::process::id().to_string()).and_then(|()| match run_as {
        Some(run_as) => nix::unistd::chown(&dir, Some(run_as.uid), Some(run_as.gid)).map_err(io::Error::from),
        None => Ok(()),
    });
    if let Err(err) = prepared {
        let _ = fs::remove_dir_all(&dir);
        return Err(Error::Embedded(format!("could not prepare {}: {err}", dir.display())));
    }
    Ok(dir)
}

/// A port nobody listens on right now. The socket itself is private, so this only matters for
/// the optional TCP listener.
fn free_port() -> Result<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|err| Error::Embedded(format!("could not find a free port: {err}")))
}

/// Deletes `dir`, retrying briefly in case a backend is still writing as it exits.
fn remove_dir_patiently(dir: &Path) {
    for _ in 0..20 {
        match fs::remove_dir_all(dir) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                thread::sleep(Duration::from_millis(50));
            }
            _ => return,
        }
    }
}

/// Deletes cluster directories left by lockscope processes that were killed outright: their
/// owner and their postmaster are both gone. Only directories of this user (or of the service
/// user, when root) are touched.
fn sweep_stale_dirs() {
    let mut bases = vec![std::env::temp_dir()];
    if !bases.iter().any(|base| base == Path::new("/tmp")) {
        bases.push(PathBuf::from("/tmp"));
    }
    let me = Uid::effective();
    let service_uid =
        if me.is_root() { User::from_name(SERVICE_USER).ok().flatten().map(|user| user.uid) } else { None };
    for base in bases {
        let Ok(entries) = fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            if !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
                continue;
            }
            let path = entry.path();
            let Ok(metadata) = fs::symlink_metadata(&path) else {
                continue;
            };
            let owner = Uid::from_raw(metadata.uid());
            if !metadata.is_dir() || (owner != me && Some(owner) != service_uid) {
                continue;
            }
            if is_abandoned(&path, &metadata) {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}

fn is_abandoned(dir: &Path, metadata: &fs::Metadata) -> bool {
    if read_pid(&dir.join("data").join("postmaster.pid")).is_some_and(process_alive) {
        return false;
    }
    match read_pid(&dir.join(OWNER_FILE)) {
        Some(owner) => !process_alive(owner),
        None => metadata
            .modified()
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > ORPHAN_MIN_AGE),
    }
}

/// The pid on the first line of a pid file.
fn read_pid(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    (pid > 0).then_some(pid)
}

/// Whether `pid` is a live process (zombies, which nobody may ever reap here, count as dead).
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match signal::kill(Pid::from_raw(pid), None) {
        Err(Errno::ESRCH) => false,
        _ => !is_zombie(pid),
    }
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Where `initdb` and `postgres` live: `LOCKSCOPE_PG_BINDIR`, then `PATH`, then `pg_config --bindir`,
/// then the newest `/usr/lib/postgresql/*/bin`. The error says how to install them or pass
/// `--database-url`.
pub fn find_bindir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("LOCKSCOPE_PG_BINDIR").filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        return if has_server_binaries(&dir) {
            Ok(dir)
        } else {
            Err(Error::Embedded(format!(
                "LOCKSCOPE_PG_BINDIR is {}, which holds no initdb and postgres executables",
                dir.display()
            )))
        };
    }
    let on_path = find_on_path("initdb")
        .and_then(|initdb| fs::canonicalize(initdb).ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    let from_pg_config = || {
        let output = Command::new("pg_config").arg("--bindir").output().ok()?;
        output.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
    };
    on_path
        .filter(|dir| has_server_binaries(dir))
        .or_else(|| from_pg_config().filter(|dir| has_server_binaries(dir)))
        .or_else(|| newest_packaged_bindir(Path::new("/usr/lib/postgresql")))
        .ok_or_else(|| {
            Error::Embedded(
                "no PostgreSQL server binaries (initdb, postgres) found in LOCKSCOPE_PG_BINDIR, \
                 on PATH, at `pg_config --bindir` or in /usr/lib/postgresql/*/bin. Install the \
                 PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf \
                 install postgresql-server`; macOS: `brew install postgresql`) or set \
                 LOCKSCOPE_PG_BINDIR to its bin directory; or pass --database-url to use an \
                 existing server"
                    .into(),
            )
        })
}

/// The `bin` of the highest numbered version under `root` (Debian's layout: `15/bin`, `16/bin`).
fn newest_packaged_bindir(root: &Path) -> Option<PathBuf> {
    fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version: Vec<u32> =
                entry.file_name().to_str()?.split('.').map(|part| part.parse().ok()).collect::<Option<_>>()?;
            let bin = entry.path().join("bin");
            has_server_binaries(&bin).then_some((version, bin))
        })
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, bin)| bin)
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

fn has_server_binaries(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres"))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// `major.minor` from `postgres --version` (allowed as root).
fn server_version(bindir: &Path) -> Result<String> {
    let postgres = bindir.join("postgres");
    let output = Command::new(&postgres)
        .arg("--version")
        .output()
        .map_err(|err| Error::Embedded(format!("could not run {}: {err}", postgres.display())))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_version(&text).ok_or_else(|| {
        Error::Embedded(format!("could not read a version from `{} --version`: {}", postgres.display(), text.trim()))
    })
}

fn parse_version(text: &str) -> Option<String> {
    let after_name = text.split_once("(PostgreSQL)").map_or(text, |(_, rest)| rest);
    after_name
        .split_whitespace()
        .next()
        .filter(|version| version.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_from_postgres_output() {
        assert_eq!(parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(), Some("15.18"));
        assert_eq!(parse_version("postgres (PostgreSQL) 18beta1\n").as_deref(), Some("18beta1"));
        assert_eq!(parse_version("garbage").as_deref(), None);
    }

    #[test]
    fn picks_the_newest_packaged_version_numerically() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "10", "15", "not-a-version"] {
            let bin = root.path().join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            for program in ["initdb", "postgres"] {
                fs::write(bin.join(program), "").unwrap();
                fs::set_permissions(bin.join(program), fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        // A newer version without server binaries (client only) is not a candidate.
        fs::create_dir_all(root.path().join("16").join("bin")).unwrap();
        assert_eq!(newest_packaged_bindir(root.path()), Some(root.path().join("15").join("bin")));
    }

    #[test]
    fn a_directory_whose_owner_and_postmaster_are_gone_is_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let metadata = fs::metadata(dir.path()).unwrap();
        // Pid of a process that has exited and been reaped.
        let mut child = Command::new("true").spawn().unwrap();
        let dead = child.id().to_string();
        child.wait().unwrap();

        fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string()).unwrap();
        assert!(!is_abandoned(dir.path(), &metadata), "owner alive");

        fs::write(dir.path().join(OWNER_FILE), &dead).unwrap();
        assert!(is_abandoned(dir.path(), &metadata), "owner dead, no postmaster");

        fs::create_dir(dir.path().join("data")).unwrap();
        fs::write(dir.path().join("data").join("postmaster.pid"), format!("{}\n/some/data\n", std::process::id()))
            .unwrap();
        assert!(!is_abandoned(dir.path(), &metadata), "postmaster alive");

        fs::remove_file(dir.path().join(OWNER_FILE)).unwrap();
        fs::write(dir.path().join("data").join("postmaster.pid"), &dead).unwrap();
        assert!(!is_abandoned(dir.path(), &metadata), "young directory without owner");
    }

    #[test]
    fn the_server_can_be_stopped_from_any_thread() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<EphemeralServer>();
    }

    #[test]
    fn last_lines_keeps_the_tail() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
    }
}
