//! Reaching PostgreSQL: the target from `--database-url` / `DATABASE_URL` / libpq `PG*` variables
//! and `.pgpass`, TLS per `sslmode`, passwords kept out of every message; and the embedded
//! throwaway server used when no target is given.
//!
//! URL parsing, `sslmode`, `PGPASSWORD`, `PGSSLMODE` and `.pgpass` / `PGPASSFILE` are sqlx's
//! (`PgConnectOptions`), which follows libpq: variables fill whatever the URL leaves out. This
//! module adds what sqlx lacks: libpq `key=value` strings, `PGSERVICE` / `service=` files, strict
//! checking of `sslmode` and of unknown parameters (a typo must not silently weaken TLS), and
//! redaction.

pub mod ephemeral;
pub mod session;

pub use session::Session;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{ConnectOptions, Connection};

use crate::error::{Error, Result};

/// How long [`connect`] waits for a server to answer before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The libpq variables whose presence means "the user named a server through the environment".
const LIBPQ_TARGET_VARS: [&str; 6] = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"];

/// What replaces a password in redacted text.
const REDACTED: &str = "***";

/// Where the target came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSource {
    /// `--database-url`.
    Flag,
    /// The `DATABASE_URL` environment variable.
    DatabaseUrlEnv,
    /// libpq's `PGHOST`, `PGDATABASE`, … variables (and `.pgpass`).
    LibpqEnv,
    /// The embedded throwaway server.
    Embedded,
}

impl TargetSource {
    /// How a user would name this source in a message.
    fn label(self) -> &'static str {
        match self {
            TargetSource::Flag => "--database-url",
            TargetSource::DatabaseUrlEnv => "DATABASE_URL",
            TargetSource::LibpqEnv => "PG* environment variables",
            TargetSource::Embedded => "embedded server",
        }
    }
}

/// A database to connect to. `display` is safe to print: it never holds a password.
#[derive(Clone)]
pub struct Target {
    pub options: PgConnectOptions,
    pub display: String,
    pub source: TargetSource,
}

// Written by hand: sqlx's `Debug` for the options prints the password.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target").field("display", &self.display).field("source", &self.source).finish_non_exhaustive()
    }
}

impl Target {
    /// The same server and credentials, another database (for scratch databases on a server).
    pub fn with_database(&self, dbname: &str) -> Target {
        let options = self.options.clone().database(dbname);
        let display = match self.source {
            TargetSource::Embedded => self.display.clone(),
            _ => describe(&options),
        };
        Target { options, display, source: self.source }
    }
}

/// Resolves the target: `--database-url`, else `DATABASE_URL`, else libpq variables when any of
/// `PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGSERVICE` is set; `None` when nothing
/// names one (the caller then uses the embedded server). Errors are redacted.
pub fn resolve_target(flag_url: Option<&str>) -> Result<Option<Target>> {
    if let Some(url) = flag_url {
        if url.trim().is_empty() {
            return Err(Error::Usage(
                "--database-url is empty; pass a URL such as postgres://user@host:5432/dbname".into(),
            ));
        }
        return parse_target(url, TargetSource::Flag).map(Some);
    }
    if let Some(url) = env_nonempty("DATABASE_URL") {
        return parse_target(&url, TargetSource::DatabaseUrlEnv).map(Some);
    }
    if LIBPQ_TARGET_VARS.iter().any(|name| env_nonempty(name).is_some()) {
        return libpq_env_target().map(Some);
    }
    Ok(None)
}

/// Parses a `postgres://` URL (or libpq key=value string) into a target.
pub fn parse_target(url: &str, source: TargetSource) -> Result<Target> {
    let usage = |message: String| Error::Usage(format!("{}: {}", source.label(), message));
    check_pgsslmode_env().map_err(usage)?;

    let text = url.trim();
    let options = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        options_from_url(text)
    } else if text.contains('=') && !text.contains("://") {
        parse_conninfo(text).and_then(|params| options_from_params(&params, true))
    } else {
        Err(format!(
            "not a PostgreSQL connection string: {} (expected postgres://user@host:5432/dbname \
             or libpq key=value pairs such as \"host=db dbname=app\")",
            redact(text)
        ))
    }
    .map_err(usage)?;
    let options = require_verifies_with_root_cert(options);

    Ok(Target { display: describe(&options), options, source })
}

/// Opens one connection with the given `application_name`. Errors name the redacted target.
pub async fn connect(target: &Target, application_name: &str) -> Result<PgConnection> {
    let options = target.options.clone().application_name(application_name).disable_statement_logging();
    let connect_error = |message: String| Error::Connect { target: target.display.clone(), message };
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(err)) => Err(connect_error(describe_connect_error(&err))),
        Err(_) => Err(connect_error(format!("no answer within {} seconds", CONNECT_TIMEOUT.as_secs()))),
    }
}

/// Removes passwords from any text that may contain a connection URL or `password=` pair.
pub fn redact(text: &str) -> String {
    redact_password_pairs(&redact_url_passwords(text))
}

/// A one-line, password-free description of where `options` point, as a URL a user could pass
/// back to `--database-url` (sockets as `?host=/dir`, which libpq and sqlx both accept).
fn describe(options: &PgConnectOptions) -> String {
    let user = options.get_username();
    let database = options.get_database().unwrap_or(user);
    let port = options.get_port();
    let host = options.get_host();
    let socket_dir = match options.get_socket() {
        Some(dir) => Some(dir.display().to_string()),
        None if host.starts_with('/') => Some(host.to_string()),
        None => None,
    };
    match socket_dir {
        Some(dir) => format!("postgres://{user}@localhost:{port}/{database}?host={dir}"),
        None if host.contains(':') && !host.starts_with('[') => {
            format!("postgres://{user}@[{host}]:{port}/{database}")
        }
        None => format!("postgres://{user}@{host}:{port}/{database}"),
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// sqlx silently falls back to `prefer` on a bad `PGSSLMODE`; a typo must not weaken TLS.
fn check_pgsslmode_env() -> Result<(), String> {
    match env_nonempty("PGSSLMODE") {
        Some(mode) => check_sslmode(&mode).map_err(|message| format!("PGSSLMODE: {message}")),
        None => Ok(()),
    }
}

fn check_sslmode(mode: &str) -> Result<(), String> {
    mode.parse::<PgSslMode>().map(drop).map_err(|_| {
        format!(
            "unknown sslmode {mode:?} (expected disable, allow, prefer, require, verify-ca or \
             verify-full)"
        )
    })
}

/// libpq: with `sslmode=require`, "if a root CA file exists, the behavior of sslmode=require will
/// be the same as that of verify-ca"
/// (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLMODE). sqlx's
/// `require` ignores `sslrootcert` (sqlx-postgres src/connection/tls.rs accepts any certificate
/// below verify-ca), so a user who passed their provider's CA would silently get no check.
/// (libpq's default file `~/.postgresql/root.crt` is not read: only an explicit `sslrootcert` /
/// `PGSSLROOTCERT` counts here.)
fn require_verifies_with_root_cert(options: PgConnectOptions) -> PgConnectOptions {
    let has_root_cert = || options.to_url_lossy().query_pairs().any(|(key, _)| key == "sslrootcert");
    if matches!(options.get_ssl_mode(), PgSslMode::Require) && has_root_cert() {
        options.ssl_mode(PgSslMode::VerifyCa)
    } else {
        options
    }
}

/// The target named by libpq variables alone (`PGSERVICE` entries first, then the others).
fn libpq_env_target() -> Result<Target> {
    let source = TargetSource::LibpqEnv;
    let usage = |message: String| Error::Usage(format!("{}: {}", source.label(), message));
    check_pgsslmode_env().map_err(usage)?;
    let options = match env_nonempty("PGSERVICE") {
        Some(service) => service_params(&service)
            .and_then(|params| options_from_params(&params, false))
            .map_err(|message| usage(format!("PGSERVICE={service}: {message}")))?,
        None => PgConnectOptions::new(),
    };
    let options = require_verifies_with_root_cert(options);
    Ok(Target { display: describe(&options), options, source })
}

/// Query parameters sqlx understands in a URL, besides `options[NAME]`.
const URL_PARAMS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "application_name",
    "options",
    "statement-cache-capacity",
];

/// libpq parameters that only tune behaviour lockscope already controls (timeouts, keepalives,
/// encoding) or that other tools put in shared URLs; accepted and ignored.
const IGNORED_PARAMS: &[&str] = &[
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "target_session_attrs",
    "fallback_application_name",
    "client_encoding",
    "schema",
];

fn is_known_param(key: &str) -> bool {
    URL_PARAMS.contains(&key) || IGNORED_PARAMS.contains(&key) || (key.starts_with("options[") && key.ends_with(']'))
}

/// Parses a URL with sqlx after checking what sqlx would let slide.
fn options_from_url(text: &str) -> Result<PgConnectOptions, String> {
    let url = url::Url::parse(text).map_err(|err| format!("invalid URL ({err}): {}", redact(text)))?;
    for (key, value) in url.query_pairs() {
        if key == "sslmode" || key == "ssl-mode" {
            check_sslmode(&value)?;
        } else if key == "service" {
            return Err("`service=` is only supported in the key=value form (\"service=NAME\") or \
                 through PGSERVICE"
                .into());
        } else if !is_known_param(&key) {
            return Err(unknown_param(&key));
        }
    }
    // Drop the ignored parameters so sqlx does not warn about them.
    let mut url = url;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !IGNORED_PARAMS.contains(&key.as_ref()))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let options = PgConnectOptions::from_url(&url).map_err(|err| redact(&err.to_string()))?;
    // sqlx keeps the brackets of an IPv6 literal, which no resolver accepts.
    let host = options.get_host();
    Ok(match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(address) => {
            let address = address.to_string();
            options.host(&address)
        }
        None => options,
    })
}

fn unknown_param(key: &str) -> String {
    format!(
        "unknown connection parameter `{key}` (lockscope understands host, hostaddr, port, \
         dbname, user, password, sslmode, sslrootcert, sslcert, sslkey, application_name, \
         options, service)"
    )
}

/// Turns libpq-style parameters into options by way of a URL, so sqlx applies the `PG*`
/// variables and `.pgpass` exactly as it does for URLs (after host, user and database are known).
fn options_from_params(params: &[(String, String)], allow_service: bool) -> Result<PgConnectOptions, String> {
    let mut params = params.to_vec();
    if let Some(position) = params.iter().position(|(key, _)| key == "service") {
        if !allow_service {
            return Err("a service definition cannot name another service".into());
        }
        let (_, service) = params.remove(position);
        // As in libpq, explicit parameters win over the service file's.
        for (key, value) in service_params(&service).map_err(|message| format!("service {service:?}: {message}"))? {
            if key == "service" {
                return Err(format!("service {service:?}: a service definition cannot name another service"));
            }
            if !params.iter().any(|(existing, _)| *existing == key) {
                params.push((key, value));
            }
        }
    }

    let mut url = url::Url::parse("postgres://").expect("a constant URL parses");
    {
        let mut query = url.query_pairs_mut();
        // `hostaddr` last: sqlx takes the last host it sees, libpq connects to hostaddr.
        let ordered = params
            .iter()
            .filter(|(key, _)| key != "hostaddr")
            .chain(params.iter().filter(|(key, _)| key == "hostaddr"));
        for (key, value) in ordered {
            if key == "sslmode" {
                check_sslmode(value)?;
            }
            if IGNORED_PARAMS.contains(&key.as_str()) {
                continue;
            }
            if !URL_PARAMS.contains(&key.as_str()) || key.contains('-') {
                return Err(unknown_param(key));
            }
            query.append_pair(key, value);
        }
    }
    PgConnectOptions::from_url(&url).map_err(|err| redact(&err.to_string()))
}

/// Parses a libpq connection string (`host=db port=5432 password='it''s'`): `key = value` pairs
/// split by whitespace, values optionally single-quoted, backslash escapes `\'` and `\\`.
fn parse_conninfo(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(params);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("missing \"=\" after \"{key}\" in connection string"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("unterminated quoted value for \"{key}\" in connection string")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        params.push((key, value));
    }
}

/// The parameters of service `name`: from `PGSERVICEFILE` (else `~/.pg_service.conf`), then
/// `$PGSYSCONFDIR/pg_service.conf` (else `/etc/postgresql-common/pg_service.conf`), as libpq.
fn service_params(name: &str) -> Result<Vec<(String, String)>, String> {
    let user_file = std::env::var_os("PGSERVICEFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pg_service.conf")));
    let system_file = std::env::var_os("PGSYSCONFDIR")
        .map(|dir| PathBuf::from(dir).join("pg_service.conf"))
        .unwrap_or_else(|| PathBuf::from("/etc/postgresql-common/pg_service.conf"));
    for file in user_file.into_iter().chain([system_file]) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if let Some(params) = service_section(&text, name) {
            return parse_service_lines(&params, &file);
        }
    }
    Err(format!(
        "no definition of service {name:?} in PGSERVICEFILE, ~/.pg_service.conf or \
         pg_service.conf"
    ))
}

/// The lines of `[name]` in a service file, or `None` when the file has no such section.
fn service_section(text: &str, name: &str) -> Option<Vec<String>> {
    let mut section: Option<Vec<String>> = None;
    for line in text.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if section.is_some() {
                break;
            }
            if header == name {
                section = Some(Vec::new());
            }
        } else if let Some(lines) = section.as_mut() {
            if !line.is_empty() && !line.starts_with('#') {
                lines.push(line.to_string());
            }
        }
    }
    section
}

fn parse_service_lines(lines: &[String], file: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    lines
        .iter()
        .map(|line| {
            line.split_once('=')
                .map(|(key, value)| (key.trim().to_string(), value.to_string()))
                .ok_or_else(|| format!("{}: syntax error in service file (expected key=value)", file.display()))
        })
        .collect()
}

/// A connection error in words a user can act on, without secrets.
fn describe_connect_error(err: &sqlx::Error) -> String {
    let text = redact(&err.to_string());
    match err {
        sqlx::Error::Tls(_) if text.contains("does not support TLS") => format!(
            "{text}; sslmode requires TLS but the server has it turned off (use sslmode=prefer \
             or disable, or enable ssl on the server)"
        ),
        // rustls' words (sqlx wraps them in an I/O error) for a certificate no trusted CA signed
        // and for one issued to other names.
        _ if text.contains("invalid peer certificate: UnknownIssuer") => format!(
            "{text}; the server's certificate is not signed by a CA lockscope trusts (sslrootcert, \
             else the public web roots): pass sslrootcert=/path/to/your-provider-ca.pem"
        ),
        _ if text.contains("invalid peer certificate: certificate not valid for name") => format!(
            "{text}; sslmode=verify-full needs the host name you connect to among the names the \
             certificate lists"
        ),
        _ => text,
    }
}

/// Replaces `password` in every `scheme://user:password@host`. The password runs from the first
/// `:` after `scheme://` to the *last* `@` before whitespace or a quote, so raw `@`, `/` or `:`
/// in a password is still covered; erring towards hiding a little too much.
fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let token_end =
            rest.find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '`')).unwrap_or(rest.len());
        let token = &rest[..token_end];
        let at = token.rfind('@');
        let colon = at.and_then(|at| token[..at].find(':'));
        if let (Some(colon), Some(at)) = (colon, at) {
            out.push_str(&token[..=colon]);
            out.push_str(REDACTED);
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the value of every `password=…` (also `PGPASSWORD=…`, `password = '…'`): quoted
/// values to their closing quote, URL query values to `&`, `#` or whitespace, others to
/// whitespace.
fn redact_password_pairs(text: &str) -> String {
    const KEY: &str = "password";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search_from = 0;
    while let Some(found) = lower[search_from..].find(KEY) {
        let key_start = search_from + found;
        let mut cursor = key_start + KEY.len();
        search_from = cursor;
        let skip_spaces = |mut at: usize| {
            while text[at..].starts_with([' ', '\t']) {
                at += 1;
            }
            at
        };
        cursor = skip_spaces(cursor);
        if !text[cursor..].starts_with('=') {
            continue;
        }
        cursor = skip_spaces(cursor + 1);
        let in_url_query = key_start > 0 && matches!(text.as_bytes()[key_start - 1], b'?' | b'&');
        let value = &text[cursor..];
        let (value_start, value_end) = match value.chars().next() {
            Some(quote @ ('\'' | '"')) => {
                let mut end = value.len();
                let mut escaped = false;
                for (offset, c) in value.char_indices().skip(1) {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == quote {
                        end = offset;
                        break;
                    }
                }
                (cursor + 1, cursor + end)
            }
            _ => {
                let end = value
                    .find(|c: char| c.is_whitespace() || (in_url_query && matches!(c, '&' | '#')))
                    .unwrap_or(value.len());
                (cursor, cursor + end)
            }
        };
        if value_end > value_start {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
        }
        search_from = search_from.max(value_end);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_url_password_and_keeps_the_rest() {
        assert_eq!(
            redact("could not connect to postgres://app:s3cret@db.example:5432/staging?sslmode=require: refused"),
            "could not connect to postgres://app:***@db.example:5432/staging?sslmode=require: refused"
        );
    }

    #[test]
    fn redact_handles_special_and_percent_encoded_passwords() {
        let cases = [
            ("postgres://app:p%40ss%2Fw%3Ard@db/x", "postgres://app:***@db/x"),
            ("postgres://app:p@ss@db/x", "postgres://app:***@db/x"),
            ("postgres://app:pa/ss:w?rd#x@db:5432/x", "postgres://app:***@db:5432/x"),
            ("postgresql://app:it's@db/x", "postgresql://app:***@db/x"),
            ("postgres://app:%E2%9C%93ü€@[::1]:5432/x", "postgres://app:***@[::1]:5432/x"),
            ("postgres://app:@db/x", "postgres://app:***@db/x"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "input: {input}");
        }
    }

    #[test]
    fn redact_leaves_urls_without_password_alone() {
        for text in [
            "postgres://app@db.example:5432/staging",
            "postgres://db.example:5432/staging",
            "postgres:///staging?host=/var/run/postgresql",
            "see https://www.postgresql.org/docs/ and mail dba@example.com",
            "plain text with no secrets: a=b, password authentication failed for user \"app\"",
            "",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn redact_handles_several_urls_in_one_text() {
        assert_eq!(
            redact("from postgres://a:one@h1/x to \"postgres://b:two@h2/y\"\nand postgres://c@h3/z"),
            "from postgres://a:***@h1/x to \"postgres://b:***@h2/y\"\nand postgres://c@h3/z"
        );
    }

    #[test]
    fn redact_removes_password_pairs() {
        let cases = [
            ("host=db password=s3cret dbname=x", "host=db password=*** dbname=x"),
            ("host=db password = s3cret dbname=x", "host=db password = *** dbname=x"),
            ("password='it\\'s a secret' user=x", "password='***' user=x"),
            ("PASSWORD=\"with spaces\" x", "PASSWORD=\"***\" x"),
            ("PGPASSWORD=hunter2 lockscope check", "PGPASSWORD=*** lockscope check"),
            (
                "postgres://db/x?user=a&password=p%26w&sslmode=require",
                "postgres://db/x?user=a&password=***&sslmode=require",
            ),
            ("postgres://db/x?password=a#frag", "postgres://db/x?password=***#frag"),
            ("conninfo password=a&b;c", "conninfo password=***"),
            ("password=last", "password=***"),
            ("password=", "password="),
            ("Password= ", "Password= "),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "input: {input}");
        }
    }

    #[test]
    fn redact_keeps_text_after_an_unterminated_quote_hidden() {
        assert_eq!(redact("password='never closed"), "password='***");
    }

    #[test]
    fn parse_url_builds_a_display_without_password() {
        let target =
            parse_target("postgres://app:s3cret@db.example:5432/staging?sslmode=require", TargetSource::Flag).unwrap();
        assert_eq!(target.display, "postgres://app@db.example:5432/staging");
        assert!(matches!(target.options.get_ssl_mode(), PgSslMode::Require));
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(target.source, TargetSource::Flag);
    }

    #[test]
    fn parse_url_accepts_socket_form() {
        let target = parse_target(
            "postgres://postgres@localhost/scratch?host=/tmp/lockscope-pg-x&port=6543",
            TargetSource::Flag,
        )
        .unwrap();
        assert_eq!(target.options.get_socket().map(|p| p.display().to_string()), Some("/tmp/lockscope-pg-x".into()));
        assert_eq!(target.options.get_port(), 6543);
        assert_eq!(target.options.get_database(), Some("scratch"));
        assert_eq!(target.display, "postgres://postgres@localhost:6543/scratch?host=/tmp/lockscope-pg-x");
        // The display is itself a usable URL.
        let again = parse_target(&target.display, TargetSource::Flag).unwrap();
        assert_eq!(again.display, target.display);
    }

    #[test]
    fn parse_url_decodes_percent_encoded_password() {
        let target = parse_target("postgres://app:p%40ss%2Fw@db/x", TargetSource::Flag).unwrap();
        let url = target.options.to_url_lossy();
        assert_eq!(url.password(), Some("p%40ss%2Fw"));
        assert_eq!(target.display, "postgres://app@db:5432/x");
    }

    #[test]
    fn parse_url_accepts_ipv6_hosts() {
        let target = parse_target("postgres://app@[::1]:5433/x", TargetSource::Flag).unwrap();
        assert_eq!(target.options.get_host(), "::1");
        assert_eq!(target.display, "postgres://app@[::1]:5433/x");
    }

    #[test]
    fn parse_rejects_bad_sslmode_and_bad_urls_without_leaking() {
        let err = parse_target("postgres://app:s3cret@db/x?sslmode=requir", TargetSource::Flag).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Usage(_)));
        assert!(text.contains("unknown sslmode \"requir\""), "{text}");
        assert!(!text.contains("s3cret"), "{text}");

        let err =
            parse_target("postgres://app:s3cret@db:54x2/x", TargetSource::DatabaseUrlEnv).unwrap_err().to_string();
        assert!(err.starts_with("DATABASE_URL: invalid URL"), "{err}");
        assert!(err.contains("postgres://app:***@db:54x2/x"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");

        let err = parse_target("mysql://root:s3cret@db/x", TargetSource::Flag).unwrap_err().to_string();
        assert!(err.contains("not a PostgreSQL connection string"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn parse_rejects_unknown_parameters_so_typos_do_not_weaken_tls() {
        let err = parse_target("postgres://db/x?sslmdoe=require", TargetSource::Flag).unwrap_err().to_string();
        assert!(err.contains("unknown connection parameter `sslmdoe`"), "{err}");
        // Common harmless extras are accepted.
        parse_target("postgres://db/x?connect_timeout=5&schema=public", TargetSource::Flag).unwrap();
    }

    #[test]
    fn parse_accepts_libpq_key_value_strings() {
        let target = parse_target(
            "host=db.example port=6000 dbname='my db' user=app password='it\\'s' sslmode=verify-full",
            TargetSource::Flag,
        )
        .unwrap();
        assert_eq!(target.display, "postgres://app@db.example:6000/my db");
        assert!(matches!(target.options.get_ssl_mode(), PgSslMode::VerifyFull));
        assert_eq!(target.options.to_url_lossy().password(), Some("it%27s"));

        let socket = parse_target("host=/run/postgresql dbname=x user=y", TargetSource::Flag).unwrap();
        assert_eq!(socket.display, "postgres://y@localhost:5432/x?host=/run/postgresql");
    }

    #[test]
    fn parse_conninfo_reports_syntax_errors_without_values() {
        let err = parse_target("host=db password='s3cret", TargetSource::Flag).unwrap_err().to_string();
        assert!(err.contains("unterminated quoted value for \"password\""), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let err = parse_target("host=db bogus", TargetSource::Flag).unwrap_err().to_string();
        assert!(err.contains("missing \"=\" after \"bogus\""), "{err}");
        let err = parse_target("host=db sslmode=sometimes", TargetSource::Flag).unwrap_err().to_string();
        assert!(err.contains("unknown sslmode"), "{err}");
    }

    #[test]
    fn service_sections_are_found_and_parsed() {
        let file =
            "# comment\n[other]\nhost=a\n\n[mine]\nhost=db.example\n  port=7000\n# x\npassword=p w=\n[later]\nhost=z\n";
        let lines = service_section(file, "mine").unwrap();
        let params = parse_service_lines(&lines, std::path::Path::new("f")).unwrap();
        assert_eq!(
            params,
            vec![
                ("host".to_string(), "db.example".to_string()),
                ("port".to_string(), "7000".to_string()),
                ("password".to_string(), "p w=".to_string()),
            ]
        );
        assert!(service_section(file, "missing").is_none());
    }

    #[test]
    fn require_with_a_root_cert_verifies_the_ca_as_in_libpq() {
        let with_root =
            parse_target("postgres://db/x?sslmode=require&sslrootcert=/ca.pem", TargetSource::Flag).unwrap();
        assert!(matches!(with_root.options.get_ssl_mode(), PgSslMode::VerifyCa));
        let conninfo = parse_target("host=db sslmode=require sslrootcert=/ca.pem", TargetSource::Flag).unwrap();
        assert!(matches!(conninfo.options.get_ssl_mode(), PgSslMode::VerifyCa));
        let plain = parse_target("postgres://db/x?sslmode=require", TargetSource::Flag).unwrap();
        assert!(matches!(plain.options.get_ssl_mode(), PgSslMode::Require));
        let full = parse_target("postgres://db/x?sslmode=verify-full&sslrootcert=/ca.pem", TargetSource::Flag).unwrap();
        assert!(matches!(full.options.get_ssl_mode(), PgSslMode::VerifyFull));
    }

    #[test]
    fn with_database_switches_database_and_display() {
        let target = parse_target("postgres://app:pw@db/x", TargetSource::Flag).unwrap();
        let other = target.with_database("y");
        assert_eq!(other.display, "postgres://app@db:5432/y");
        assert_eq!(other.options.get_database(), Some("y"));
    }
}
