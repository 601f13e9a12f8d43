//! Errors of the eBPF layer, each naming its cause (and, where there is one, the fix).

use std::path::PathBuf;

/// An eBPF layer failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the machine's state failed (see the OS layer's error for path and cause).
    #[error(transparent)]
    Os(#[from] hypermesh_os::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The kernel refused a program; `log` is the verifier's log, verbatim.
    #[error("the kernel rejected program {program}: {cause}\n--- verifier log ---\n{log}")]
    Rejected {
        /// Program name.
        program: String,
        /// The errno or aya's description.
        cause: String,
        /// The errno the kernel refused it with, when there was one.
        errno: Option<i32>,
        /// Verifier log.
        log: String,
    },
    /// An object file is not a valid eBPF object.
    #[error("{0}")]
    Invalid(String),
    /// The operation cannot run here; the message names the cause and the fix.
    #[error("{0}")]
    Unavailable(String),
    /// This kernel or build does not offer the request.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An aya call failed in a way not covered above.
    #[error("{context}: {source}")]
    Aya {
        /// What was being done.
        context: String,
        /// aya's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// The errno behind the failure, for decisions that must not read message text: the one
    /// a rejected program was refused with, else the first OS error in the cause chain.
    pub fn errno(&self) -> Option<i32> {
        if let Error::Rejected { errno, .. } = self {
            return *errno;
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(c) = cause {
            if let Some(code) = c.downcast_ref::<std::io::Error>().and_then(std::io::Error::raw_os_error) {
                return Some(code);
            }
            cause = c.source();
        }
        None
    }

    /// Wraps an aya error with what was being done.
    pub fn aya(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Aya { context: context.into(), source: Box::new(source) }
    }
}

/// Result of the eBPF layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
