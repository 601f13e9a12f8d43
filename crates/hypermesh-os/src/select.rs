//! Which backend answers: the native one on Linux, the portable one elsewhere, or the one asked
//! for. This is the only place that depends on the target OS; "Linux" here means the
//! `native_linux` cfg (see `build-support/native_linux.rs`).

use crate::error::{Error, Result};
use crate::portable::PortableBackend;
use crate::profile::Backend;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// True where the native backend (Linux /proc and /sys) can read the host.
const NATIVE_AVAILABLE: bool = cfg!(native_linux);

/// This build's system as `Unsupported` messages name it: the OS, or the portable-only check
/// build on Linux.
const THIS_PLATFORM: &str =
    if cfg!(hypermesh_portable_only) { "this portable-only build" } else { std::env::consts::OS };

/// The error for something only the native Linux code can do (`what`, e.g. `hypermesh ebpf`),
/// on a build without it: names the platform.
pub fn linux_only(what: &str) -> Error {
    Error::Unsupported(format!(
        "{what} reads Linux /proc, /sys or bpf() and is not available on {THIS_PLATFORM}"
    ))
}

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

/// The backend that answers for `kind` (default [`BackendKind::for_this_os`]) and the root
/// directory `root` (default the live host, `/`), or why none can: the portable backend reads
/// the live host only, and the native one is refused where it is not compiled. Commands with
/// their own native and portable paths (usage, watch, assets) choose with this.
pub fn resolve(kind: Option<BackendKind>, root: Option<&Path>) -> Result<BackendKind> {
    let root = root.filter(|dir| *dir != Path::new("/"));
    match (kind.unwrap_or_else(BackendKind::for_this_os), root) {
        (BackendKind::Native, _) if !NATIVE_AVAILABLE => Err(Error::Unsupported(format!(
            "the native backend reads Linux /proc and /sys and is not available on {THIS_PLATFORM}; \
             use --backend portable"
        ))),
        (BackendKind::Portable, Some(dir)) if NATIVE_AVAILABLE => Err(Error::Unsupported(format!(
            "the portable backend reads the live host only and cannot read {} (--root/HYPERMESH_ROOT); \
             use --backend native",
            dir.display()
        ))),
        (BackendKind::Portable, Some(_)) => Err(linux_only("--root/HYPERMESH_ROOT")),
        (kind, _) => Ok(kind),
    }
}

/// Opens the backend [`resolve`] chooses, reading from `root` (default `/`).
pub fn open(kind: Option<BackendKind>, root: Option<&Path>) -> Result<Box<dyn Backend>> {
    match resolve(kind, root)? {
        #[cfg(native_linux)]
        BackendKind::Native => {
            let root = match root {
                Some(dir) => crate::root::FsRoot::new(dir)?,
                None => crate::root::FsRoot::host(),
            };
            Ok(Box::new(crate::linux::LinuxBackend::new(root)))
        }
        // Without `native_linux`, `resolve` gives the portable backend only.
        _ => Ok(Box::new(PortableBackend::new())),
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
    fn the_portable_backend_refuses_another_root() {
        assert_eq!(open(Some(BackendKind::Portable), None).unwrap().name(), "portable");
        assert_eq!(open(Some(BackendKind::Portable), Some(Path::new("/"))).unwrap().name(), "portable");
        let dir = tempfile::tempdir().unwrap();
        let err = open(Some(BackendKind::Portable), Some(dir.path())).err().unwrap();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let expected = if NATIVE_AVAILABLE { "live host only" } else { "--root/HYPERMESH_ROOT" };
        assert!(err.to_string().contains(expected), "{err}");
    }

    #[cfg(native_linux)]
    #[test]
    fn native_by_default_and_under_a_root() {
        assert_eq!(resolve(None, None).unwrap(), BackendKind::Native);
        assert_eq!(open(None, None).unwrap().name(), "linux");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(open(Some(BackendKind::Native), Some(dir.path())).unwrap().name(), "linux");
        let missing = dir.path().join("missing");
        assert!(open(Some(BackendKind::Native), Some(&missing)).is_err());
    }

    #[cfg(not(native_linux))]
    #[test]
    fn portable_by_default_and_native_refused_naming_the_platform() {
        assert_eq!(open(None, None).unwrap().name(), "portable");
        for root in [None, Some(Path::new("/"))] {
            assert_eq!(resolve(None, root).unwrap(), BackendKind::Portable);
            let err = open(Some(BackendKind::Native), root).err().unwrap();
            assert!(matches!(err, Error::Unsupported(_)), "{err}");
            assert!(err.to_string().contains(THIS_PLATFORM), "{err}");
        }
        let err = linux_only("hypermesh ebpf").to_string();
        assert!(err.contains("hypermesh ebpf") && err.contains(THIS_PLATFORM), "{err}");
    }
}
