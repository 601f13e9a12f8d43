//! Which backend answers: the native one on Linux, the portable one elsewhere, or the one asked
//! for. This is the only place that depends on the target OS.

use super::PortableBackend;
use crate::error::{Error, Result};
use crate::linux::LinuxBackend;
use crate::profile::Backend;
use crate::root::FsRoot;
use std::fmt;
use std::str::FromStr;

/// True where the native backend (Linux /proc and /sys) can read the host.
const NATIVE_AVAILABLE: bool = cfg!(target_os = "linux");

/// A backend that can be asked for by name (`--backend native|portable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Reads Linux /proc and /sys under a root ([`LinuxBackend`]).
    Native,
    /// Reads the live host through sysinfo ([`PortableBackend`]).
    Portable,
}

impl BackendKind {
    /// The backend used when none is asked for: native on Linux, portable elsewhere.
    pub fn for_this_os() -> Self {
        if NATIVE_AVAILABLE { BackendKind::Native } else { BackendKind::Portable }
    }

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Native => "native",
            BackendKind::Portable => "portable",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "native" => Ok(BackendKind::Native),
            "portable" => Ok(BackendKind::Portable),
            other => Err(format!("unknown backend {other:?}; expected native or portable")),
        }
    }
}

/// Opens the backend of `kind` (default [`BackendKind::for_this_os`]) reading from `root`
/// (default the live host). The portable backend reads the live host only, so a root is
/// refused with it; the native backend is refused where it cannot run.
pub fn open(kind: Option<BackendKind>, root: Option<FsRoot>) -> Result<Box<dyn Backend>> {
    match kind.unwrap_or_else(BackendKind::for_this_os) {
        BackendKind::Native if !NATIVE_AVAILABLE => Err(Error::Unsupported(format!(
            "the native backend reads Linux /proc and /sys and cannot run on {}; use --backend portable",
            std::env::consts::OS
        ))),
        BackendKind::Native => Ok(Box::new(LinuxBackend::new(root.unwrap_or_else(FsRoot::host)))),
        BackendKind::Portable => match root.filter(|r| !r.is_host()) {
            Some(root) => Err(Error::Unsupported(format!(
                "the portable backend reads the live host only and cannot read {} (--root/HYPERMESH_ROOT); \
                 use --backend native",
                root.dir().display()
            ))),
            None => Ok(Box::new(PortableBackend::new())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print() {
        assert_eq!("portable".parse::<BackendKind>(), Ok(BackendKind::Portable));
        assert_eq!(" Native ".parse::<BackendKind>(), Ok(BackendKind::Native));
        assert!("sysinfo".parse::<BackendKind>().unwrap_err().contains("native or portable"));
        assert_eq!(BackendKind::Portable.to_string(), "portable");
    }

    #[test]
    fn native_by_default_on_linux_and_portable_refuses_a_root() {
        let default = open(None, None).unwrap();
        assert_eq!(default.name(), if NATIVE_AVAILABLE { "linux" } else { "portable" });
        assert_eq!(open(Some(BackendKind::Portable), None).unwrap().name(), "portable");
        assert_eq!(open(Some(BackendKind::Portable), Some(FsRoot::host())).unwrap().name(), "portable");
        let dir = tempfile::tempdir().unwrap();
        let err = open(Some(BackendKind::Portable), Some(FsRoot::new(dir.path()).unwrap())).err().unwrap();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(err.to_string().contains("live host only"), "{err}");
        let native = open(Some(BackendKind::Native), Some(FsRoot::new(dir.path()).unwrap())).unwrap();
        assert_eq!(native.name(), "linux");
    }
}
