//! `lockscope.toml`: which rules run and how severe they are, thresholds, the tracing session's
//! timeouts and the PostgreSQL version `lint` judges for.
//!
//! Found upward from the working directory (or named with `--config`). Any mistake in it — bad
//! TOML, an unknown key, an unknown rule, a bad value — is an input error naming the file and
//! line (exit 2), never silently ignored.
//!
//! ```toml
//! pg_version = 16                 # lint judges for this PostgreSQL (default: 18, the newest)
//! runner = "psql"                 # how the migrations are applied (default: the layout's own tool)
//!
//! [rules]                         # by id or name: "off", "on", or a severity
//! LS103 = "off"
//! rename-column-or-table = "high"
//!
//! [thresholds]
//! large_table_rows = 100000       # an UPDATE/DELETE over more rows than this must be batched
//! max_lock_timeout = "5s"         # a SET lock_timeout above this counts as none
//!
//! [timeouts]                      # check's tracing session (the command line wins)
//! lock_timeout = "2s"
//! statement_timeout = "10min"
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::analyze::{catalogue, Rule, Severity, NEWEST_PG, OLDEST_PG};
use crate::error::{Error, Location, Result};

/// The file name looked for.
pub const FILE_NAME: &str = "lockscope.toml";

/// What a `[rules]` entry says about a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSetting {
    Off,
    On,
    Severity(Severity),
}

/// Numbers rules compare against.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// A table with more rows than this is "big": unbatched UPDATE/DELETE on it are findings.
    pub large_table_rows: u64,
    /// A `SET lock_timeout` above this (or 0) counts as no lock_timeout. `None`: any non-zero value.
    pub max_lock_timeout: Option<Duration>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { large_table_rows: 100_000, max_lock_timeout: None }
    }
}

/// The tracing session's timeouts for `check`, when the command line does not give them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeouts {
    pub lock_timeout: Option<Duration>,
    pub statement_timeout: Option<Duration>,
}

/// The configuration in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Where it was read from; `None` for the defaults.
    pub path: Option<PathBuf>,
    /// The PostgreSQL major version `lint` judges for.
    pub pg_version: Option<u32>,
    /// By rule id.
    pub rules: BTreeMap<&'static str, RuleSetting>,
    pub thresholds: Thresholds,
    pub timeouts: Timeouts,
    /// `runner = "psql"`: the tool that applies the migrations (`--runner` wins).
    pub runner: Option<crate::source::Runner>,
}

impl Config {
    /// Whether the rule runs.
    pub fn enabled(&self, rule: &Rule) -> bool {
        self.rules.get(rule.id) != Some(&RuleSetting::Off)
    }

    /// The severity configured for the rule, if any.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        match self.rules.get(rule.id) {
            Some(RuleSetting::Severity(severity)) => Some(*severity),
            _ => None,
        }
    }

    /// `explicit` (`--config FILE`), else the nearest `lockscope.toml` from the working directory
    /// upward, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(path) => Config::read(path),
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|err| Error::Usage(format!("cannot read the working directory: {err}")))?;
                match find_upward(&cwd) {
                    Some(path) => Config::read(&path),
                    None => Ok(Config::default()),
                }
            }
        }
    }

    /// Reads and checks one configuration file.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Error::input(Location::file(path), format!("cannot read the configuration: {err}")))?;
        Config::parse(path, &text)
    }

    /// Parses configuration text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let at = |span: Option<Range<usize>>, message: String| {
            let (line, column) = position(text, span.map_or(0, |s| s.start));
            Error::input(Location::new(path, line, column), message)
        };
        let raw: Raw = toml::from_str(text).map_err(|err| at(err.span(), first_line(err.message())))?;
        let mut config = Config { path: Some(path.to_path_buf()), ..Config::default() };

        if let Some(version) = raw.pg_version {
            let value = *version.get_ref();
            if !(i64::from(OLDEST_PG)..=i64::from(NEWEST_PG)).contains(&value) {
                return Err(at(
                    Some(version.span()),
                    format!("pg_version = {value}: lockscope knows PostgreSQL {OLDEST_PG} to {NEWEST_PG}"),
                ));
            }
            config.pg_version = Some(value as u32);
        }
        for (key, value) in raw.rules {
            let rule = catalogue::find(key.get_ref()).ok_or_else(|| {
                at(Some(key.span()), format!("unknown rule `{}` (see `lockscope rules`)", key.get_ref()))
            })?;
            let setting = match value.get_ref().trim().to_ascii_lowercase().as_str() {
                "off" | "false" | "disabled" => RuleSetting::Off,
                "on" | "true" | "enabled" => RuleSetting::On,
                other => RuleSetting::Severity(Severity::parse(other).ok_or_else(|| {
                    at(
                        Some(value.span()),
                        format!(
                            "{} = {:?}: expected \"off\", \"on\", \"low\", \"medium\", \"high\" or \"critical\"",
                            key.get_ref(),
                            value.get_ref()
                        ),
                    )
                })?),
            };
            config.rules.insert(rule.id, setting);
        }
        if let Some(rows) = raw.thresholds.large_table_rows {
            let value = *rows.get_ref();
            config.thresholds.large_table_rows = u64::try_from(value)
                .map_err(|_| at(Some(rows.span()), format!("large_table_rows = {value}: must not be negative")))?;
        }
        let duration = |value: Spanned<String>, name: &str| {
            humantime::parse_duration(value.get_ref().trim()).map_err(|err| {
                at(
                    Some(value.span()),
                    format!("{name} = {:?}: {err} (write e.g. \"500ms\", \"2s\", \"10min\")", value.get_ref()),
                )
            })
        };
        if let Some(value) = raw.thresholds.max_lock_timeout {
            config.thresholds.max_lock_timeout = Some(duration(value, "max_lock_timeout")?);
        }
        if let Some(value) = raw.timeouts.lock_timeout {
            config.timeouts.lock_timeout = Some(duration(value, "lock_timeout")?);
        }
        if let Some(value) = raw.timeouts.statement_timeout {
            config.timeouts.statement_timeout = Some(duration(value, "statement_timeout")?);
        }
        if let Some(value) = raw.runner {
            let runner = crate::source::Runner::parse(value.get_ref()).ok_or_else(|| {
                at(
                    Some(value.span()),
                    format!(
                        "runner = {:?}: expected one of {}",
                        value.get_ref(),
                        crate::source::Runner::ALL.map(|r| r.flag_value()).join(", ")
                    ),
                )
            })?;
            config.runner = Some(runner);
        }
        Ok(config)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    pg_version: Option<Spanned<i64>>,
    runner: Option<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    thresholds: RawThresholds,
    #[serde(default)]
    timeouts: RawTimeouts,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    large_table_rows: Option<Spanned<i64>>,
    max_lock_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTimeouts {
    lock_timeout: Option<Spanned<String>>,
    statement_timeout: Option<Spanned<String>>,
}

/// The nearest `lockscope.toml` in `start` or one of its ancestors.
pub fn find_upward(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|dir| dir.join(FILE_NAME)).find(|candidate| candidate.is_file())
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

/// The PostgreSQL version to judge for: the flag, else the configuration, else the newest.
pub fn pg_version(flag: Option<u32>, config: &Config) -> Result<u32> {
    let version = flag.or(config.pg_version).unwrap_or(NEWEST_PG);
    if !(OLDEST_PG..=NEWEST_PG).contains(&version) {
        return Err(Error::Usage(format!(
            "--pg-version {version}: lockscope knows PostgreSQL {OLDEST_PG} to {NEWEST_PG} (give the major version, e.g. 16)"
        )));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(Path::new("lockscope.toml"), text)
    }

    #[test]
    fn reads_every_setting() {
        let config = parse(
            "pg_version = 13\n[rules]\nLS103 = \"off\"\ncreate-index-without-concurrently = \"critical\"\n\
             [thresholds]\nlarge_table_rows = 5000\nmax_lock_timeout = \"3s\"\n\
             [timeouts]\nlock_timeout = \"1s\"\nstatement_timeout = \"2min\"\n",
        )
        .unwrap();
        assert_eq!(config.pg_version, Some(13));
        assert_eq!(config.rules.get("LS103"), Some(&RuleSetting::Off));
        assert_eq!(config.rules.get("LS107"), Some(&RuleSetting::Severity(Severity::Critical)));
        assert_eq!(config.thresholds.large_table_rows, 5000);
        assert_eq!(config.thresholds.max_lock_timeout, Some(Duration::from_secs(3)));
        assert_eq!(config.timeouts.lock_timeout, Some(Duration::from_secs(1)));
        assert_eq!(config.timeouts.statement_timeout, Some(Duration::from_secs(120)));
    }

    #[test]
    fn runner_names_how_the_migrations_are_applied() {
        let config = parse("runner = \"psql\"\n").unwrap();
        assert_eq!(config.runner, Some(crate::source::Runner::Psql));
        let err = parse("pg_version = 15\nrunner = \"liquibase\"\n").unwrap_err().to_string();
        assert!(err.contains("lockscope.toml:2") && err.contains("runner = \"liquibase\""), "{err}");
    }

    #[test]
    fn mistakes_name_the_line() {
        for (text, line, needle) in [
            ("pg_version = 16\n[rules]\nLS999 = \"off\"\n", 3, "unknown rule `LS999`"),
            ("[rules]\nLS101 = \"loud\"\n", 2, "expected \"off\""),
            ("pg_version = 9\n", 1, "PostgreSQL 10 to 18"),
            ("\n[thresholds]\nbig = 1\n", 3, "unknown field"),
            ("[timeouts]\n\nlock_timeout = \"soon\"\n", 3, "lock_timeout"),
            ("pg_version = \n", 1, ""),
        ] {
            let err = parse(text).unwrap_err();
            let Error::Input { location, message } = &err else { panic!("{err}") };
            assert_eq!(location.line, line, "{text:?}: {err}");
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }

    #[test]
    fn found_upward() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find_upward(&nested).filter(|p| p.starts_with(dir.path())), None);
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(find_upward(&nested), Some(dir.path().join(FILE_NAME)));
    }
}
