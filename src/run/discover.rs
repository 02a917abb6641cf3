//! Finding the migration command's database sessions without its cooperation.
//!
//! Three ways, each recorded on the session so the report says how it was found:
//! - `application_name`: lockscope sets `PGAPPNAME` to a tag unique to this run and attempt.
//!   libpq (psql), lib/pq (dbmate, golang-migrate; `parseEnviron` in lib/pq conn.go) and pgx
//!   (`parseEnvSettings` in jackc/pgx pgconn/config.go) read it; a tool that sets its own
//!   application_name overrides it.
//! - `tcp socket`: the child's process tree is read from `/proc/*/stat` (ppid), each process's
//!   sockets from `/proc/<pid>/fd` (`socket:[inode]`), their local address and port from
//!   `/proc/net/tcp` and `/proc/net/tcp6`; a server session whose `client_addr`/`client_port` is
//!   one of those endpoints is the child's. Unix-socket connections cannot be matched this way:
//!   `pg_stat_activity.client_port` is -1 for them and `/proc/net/unix` does not show the peer.
//! - `session filter`: `--session-filter key=glob` for what neither can see (a pooler in between).

use std::collections::BTreeSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::observe::glob_match;
use crate::error::{Error, Result};

/// How a session was recognised as the command's.
pub const BY_APPLICATION_NAME: &str = "application_name";
pub const BY_TCP_SOCKET: &str = "tcp socket";
pub const BY_SESSION_FILTER: &str = "session filter";

/// One row of `sql/run_sessions.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSession {
    pub pid: i32,
    pub application_name: Option<String>,
    pub usename: Option<String>,
    pub datname: Option<String>,
    /// `host(client_addr)`; `None` over a unix socket.
    pub client_addr: Option<String>,
    /// -1 over a unix socket.
    pub client_port: Option<i32>,
    pub backend_start_us: i64,
}

/// `--session-filter KEY=GLOB`: sessions to treat as the command's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFilter {
    pub key: FilterKey,
    pub pattern: String,
}

/// What a session filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    ApplicationName,
    User,
    Database,
    ClientAddr,
}

impl SessionFilter {
    /// Parses `application_name=deploy-*`, `user=migrator`, `database=app`, `client_addr=10.0.0.5`.
    pub fn parse(text: &str) -> Result<SessionFilter> {
        let (key, pattern) = text.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--session-filter {text:?}: expected KEY=GLOB with KEY one of application_name, user, database, \
                 client_addr (e.g. application_name=deploy-*)"
            ))
        })?;
        let key = match key.trim() {
            "application_name" => FilterKey::ApplicationName,
            "user" | "usename" => FilterKey::User,
            "database" | "datname" => FilterKey::Database,
            "client_addr" => FilterKey::ClientAddr,
            other => {
                return Err(Error::Usage(format!(
                    "--session-filter: unknown key {other:?}; use application_name, user, database or client_addr"
                )))
            }
        };
        if pattern.trim().is_empty() || pattern.trim() == "*" {
            return Err(Error::Usage(format!(
                "--session-filter {text:?} would match every session: lockscope could then cancel sessions that \
                 are not the migration's"
            )));
        }
        Ok(SessionFilter { key, pattern: pattern.trim().to_string() })
    }

    /// Whether `session` matches.
    pub fn matches(&self, session: &ServerSession) -> bool {
        let value = match self.key {
            FilterKey::ApplicationName => session.application_name.as_deref(),
            FilterKey::User => session.usename.as_deref(),
            FilterKey::Database => session.datname.as_deref(),
            FilterKey::ClientAddr => session.client_addr.as_deref(),
        };
        value.is_some_and(|value| glob_match(&self.pattern, value))
    }
}

/// A TCP endpoint of one of the child's sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TcpEndpoint {
    pub local: IpAddr,
    pub local_port: u16,
    pub inode: u64,
}

/// How one session matched, if it did: the ways, in a fixed order.
pub fn match_session(
    session: &ServerSession,
    application_name: &str,
    endpoints: &[TcpEndpoint],
    filters: &[SessionFilter],
) -> Vec<&'static str> {
    let mut ways = Vec::new();
    if session.application_name.as_deref() == Some(application_name) {
        ways.push(BY_APPLICATION_NAME);
    }
    if let (Some(addr), Some(port)) = (session.client_addr.as_deref(), session.client_port) {
        let addr = addr.parse::<IpAddr>().ok().map(canonical);
        let port = u16::try_from(port).ok();
        if let (Some(addr), Some(port)) = (addr, port) {
            if endpoints.iter().any(|endpoint| endpoint.local_port == port && canonical(endpoint.local) == addr) {
                ways.push(BY_TCP_SOCKET);
            }
        }
    }
    if filters.iter().any(|filter| filter.matches(session)) {
        ways.push(BY_SESSION_FILTER);
    }
    ways
}

/// IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) as plain IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// `root` and all its descendants, from the ppid field of every `/proc/<pid>/stat`.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(ppid) = fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|stat| parse_ppid(&stat))
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        index += 1;
    }
    tree
}

/// The ppid field of `/proc/<pid>/stat`: the fourth field, counted after the `)` that ends the
/// command name (which may itself contain spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Inodes of the sockets open in process `pid` (`/proc/<pid>/fd/* -> socket:[inode]`).
pub fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| fs::read_link(entry.path()).ok())
        .filter_map(|target| parse_socket_link(&target.to_string_lossy()))
        .collect()
}

/// `socket:[12345]` → 12345.
pub fn parse_socket_link(target: &str) -> Option<u64> {
    target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// The TCP endpoints of the sockets held by `root`'s process tree.
pub fn tree_endpoints(root: u32) -> Vec<TcpEndpoint> {
    let inodes: BTreeSet<u64> = process_tree(root).into_iter().flat_map(socket_inodes).collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut endpoints = Vec::new();
    for (path, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        if let Ok(text) = fs::read_to_string(path) {
            endpoints.extend(parse_proc_net_tcp(&text, v6).into_iter().filter(|e| inodes.contains(&e.inode)));
        }
    }
    endpoints.sort();
    endpoints
}

/// Parses `/proc/net/tcp` (or `tcp6` with `v6`): `sl local_address rem_address st … inode`.
/// Addresses are hex words in host byte order (little-endian here), ports big-endian hex.
pub fn parse_proc_net_tcp(text: &str, v6: bool) -> Vec<TcpEndpoint> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (addr, port) = fields.get(1)?.split_once(':')?;
            let inode = fields.get(9)?.parse().ok()?;
            let local = if v6 { parse_v6(addr)? } else { parse_v4(addr)? };
            Some(TcpEndpoint { local, local_port: u16::from_str_radix(port, 16).ok()?, inode })
        })
        .collect()
}

fn parse_v4(hex: &str) -> Option<IpAddr> {
    let word = u32::from_str_radix(hex, 16).ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(word.to_le_bytes())))
}

fn parse_v6(hex: &str) -> Option<IpAddr> {
    if hex.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for word in 0..4 {
        let value = u32::from_str_radix(&hex[word * 8..word * 8 + 8], 16).ok()?;
        bytes[word * 4..word * 4 + 4].copy_from_slice(&value.to_le_bytes());
    }
    Some(IpAddr::V6(Ipv6Addr::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_is_read_after_a_command_name_with_spaces_and_parentheses() {
        assert_eq!(parse_ppid("4242 (my (odd) cmd) S 17 4242 4242 0 -1"), Some(17));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn proc_net_tcp_lines_give_address_port_and_inode() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
                    0: 0100007F:1538 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000  1000        0 987654 1 0 20 4 30 10 -1\n";
        let endpoints = parse_proc_net_tcp(text, false);
        assert_eq!(
            endpoints,
            vec![TcpEndpoint { local: "127.0.0.1".parse().unwrap(), local_port: 0x1538, inode: 987654 }]
        );
        let text6 = "header\n 0: 0000000000000000FFFF00000100007F:1538 00000000000000000000000000000000:0000 0A 0 0 0 0 0 12 1\n";
        let endpoints = parse_proc_net_tcp(text6, true);
        assert_eq!(canonical(endpoints[0].local), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(endpoints[0].inode, 12);
    }

    #[test]
    fn own_tcp_connection_is_found_through_proc() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let local = client.local_addr().unwrap();
        let endpoints = tree_endpoints(std::process::id());
        assert!(
            endpoints.iter().any(|e| e.local_port == local.port() && e.local == local.ip()),
            "{local} not among {endpoints:?}"
        );
        let session = ServerSession {
            pid: 1,
            application_name: Some("someone".into()),
            usename: None,
            datname: None,
            client_addr: Some(local.ip().to_string()),
            client_port: Some(i32::from(local.port())),
            backend_start_us: 0,
        };
        assert_eq!(match_session(&session, "tag", &endpoints, &[]), vec![BY_TCP_SOCKET]);
        let unix = ServerSession { client_addr: None, client_port: Some(-1), ..session };
        assert!(match_session(&unix, "tag", &endpoints, &[]).is_empty());
    }

    #[test]
    fn session_filters_refuse_match_everything() {
        assert!(SessionFilter::parse("application_name=*").is_err());
        assert!(SessionFilter::parse("color=red").is_err());
        let filter = SessionFilter::parse("user=migrat*").unwrap();
        let session = ServerSession {
            pid: 1,
            application_name: None,
            usename: Some("migrator".into()),
            datname: None,
            client_addr: None,
            client_port: None,
            backend_start_us: 0,
        };
        assert!(filter.matches(&session));
    }
}
