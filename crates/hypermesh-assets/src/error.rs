//! Errors of the asset manager.

use std::path::PathBuf;

/// Why an asset operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be served now; the message says why (scope, NUMA node, free amount...).
    #[error("refused: {0}")]
    Refused(String),
    /// The request itself is malformed (zero amount, empty holder...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No allocation with this id (never made, released, or expired).
    #[error("no allocation {0} (never made, already released, or expired)")]
    UnknownAllocation(u64),
    /// The ledger file could not be opened, read or written (busy, I/O, no space...).
    #[error("ledger {path}: {source}")]
    Ledger {
        /// Ledger file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: redb::Error,
    },
    /// A file operation on the ledger (creating it, its backup) failed.
    #[error("ledger {path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A change was asked of a ledger opened for reading only.
    #[error("ledger {0} is open read-only")]
    ReadOnly(PathBuf),
    /// The ledger does not verify (page checksums, record checksums, record contents): it is
    /// left as it is, neither trusted nor rewritten.
    #[error("ledger {path} is corrupt: {message}; it was left unchanged")]
    Corrupt {
        /// Ledger file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Result of the asset manager.
pub type Result<T, E = Error> = std::result::Result<T, E>;
