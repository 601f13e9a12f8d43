//! Errors of the OS layer: every one carries the path it concerns and the cause.

use std::path::{Path, PathBuf};

/// An error while detecting or sampling part of a host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// Path as the kernel would see it (relative to the host root, e.g. `/proc/meminfo`).
        path: PathBuf,
        /// The underlying cause.
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its content is not what the kernel writes there.
    #[error("{path}: {message}")]
    Parse {
        /// Path of the file that could not be parsed.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
    /// This backend or platform does not implement the request.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The information exists in principle but cannot be had here (missing driver, no permission...).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Builds an [`Error::Parse`].
    pub fn parse(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Parse { path: path.into(), message: message.into() }
    }

    /// The path this error concerns, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. } | Error::Parse { path, .. } => Some(path),
            Error::Unsupported(_) | Error::Unavailable(_) => None,
        }
    }

    /// The cause without the path (for reports that show the path in a column of its own).
    pub fn message(&self) -> String {
        match self {
            Error::Io { source, .. } => source.to_string(),
            Error::Parse { message, .. } => message.clone(),
            Error::Unsupported(m) => format!("unsupported: {m}"),
            Error::Unavailable(m) => format!("unavailable: {m}"),
        }
    }

    /// The same error again, for a failure that is reported anew each time (errors are not
    /// `Clone`: see [`copy_io`]).
    pub fn duplicate(&self) -> Self {
        match self {
            Error::Io { path, source } => Error::io(path.clone(), copy_io(source)),
            Error::Parse { path, message } => Error::parse(path.clone(), message.clone()),
            Error::Unsupported(m) => Error::Unsupported(m.clone()),
            Error::Unavailable(m) => Error::Unavailable(m.clone()),
        }
    }

    /// True when the error means "the file does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A copy of an I/O error (`std::io::Error` is not `Clone`): the same errno where it has one,
/// else the same kind and message.
pub fn copy_io(e: &std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(errno) => std::io::Error::from_raw_os_error(errno),
        None => std::io::Error::new(e.kind(), e.to_string()),
    }
}

/// Result of the OS layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
