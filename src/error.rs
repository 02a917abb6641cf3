//! Errors that stop lockscope from doing its job. Every one maps to exit code 2 (or 130 when the
//! user interrupted), never to 0 or 1.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a migration file, 1-based, for messages a user can jump to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(path: impl Into<PathBuf>, line: usize, column: usize) -> Self {
        Location { path: path.into(), line, column }
    }

    /// The start of a file, for problems that concern the file as a whole.
    pub fn file(path: &Path) -> Self {
        Location::new(path, 1, 1)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// Why lockscope could not do the job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input on disk: unreadable, unparsable, badly named. Nothing was executed.
    #[error("{location}: {message}")]
    Input { location: Location, message: String },

    /// A problem with the files that has no single line to point at (a missing directory, say).
    #[error("{path}: {message}")]
    InputPath { path: PathBuf, message: String },

    /// Command-line arguments or configuration that make no sense.
    #[error("{0}")]
    Usage(String),

    /// Could not reach, or was refused by, the target database. The message is already redacted.
    #[error("could not connect to {target}: {message}")]
    Connect { target: String, message: String },

    /// The embedded throwaway server could not be started.
    #[error("could not start the embedded PostgreSQL: {0}")]
    Embedded(String),

    /// A migration statement failed on the target; the transaction was rolled back.
    #[error("{location}: migration statement failed: {message}")]
    Statement { location: Location, message: String },

    /// The database misbehaved while lockscope was observing (lost connection, catalog query failed).
    #[error("{0}")]
    Database(String),

    /// The user pressed Ctrl-C (SIGINT) or sent SIGTERM; everything was rolled back and cleaned up.
    #[error("interrupted; the dry-run was rolled back")]
    Interrupted,

    /// A report or sample could not be encoded (JSON); nothing to do with the database.
    #[error("{0}")]
    Encode(String),

    /// Writing the report failed.
    #[error("could not write {path}: {message}")]
    Output { path: PathBuf, message: String },
}

impl Error {
    pub fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input { location, message: message.into() }
    }

    pub fn input_path(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::InputPath { path: path.into(), message: message.into() }
    }

    /// The process exit code for this error: 130 for an interruption, 2 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted => 130,
            _ => 2,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
