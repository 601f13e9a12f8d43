//! The portable backend: every section from the [`sysinfo`] crate, for the systems the native
//! backend does not read (Windows, macOS, FreeBSD) and, forced with `--backend portable`, on
//! Linux, where it is tested against the native backend.
//!
//! sysinfo is maintained and tested by its authors on each of those systems, so nothing here is
//! platform-specific: this module compiles and runs on Linux exactly as it would elsewhere. What
//! sysinfo cannot tell is left `None` and named in a problem of its section, never guessed.
//! It reads the live host only; an alternate root (`--root`) is refused by [`crate::select::open`].

mod cpu;
mod gpu;
mod memory;
mod network;
mod platform;
mod storage;
pub mod usage;

use crate::error::{Error, Result};
use crate::model::{Cpu, Gpu, Memory, Network, Numa, Platform, Storage};
use crate::profile::{Backend, Problems};

pub use usage::{PortableSampler, PortableUsage};

/// Reads the live host through sysinfo. Each section builds the sysinfo objects it needs, so a
/// profile of one section costs only that section's queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct PortableBackend;

impl PortableBackend {
    /// The portable backend of the live host.
    pub fn new() -> Self {
        PortableBackend
    }
}

impl Backend for PortableBackend {
    fn name(&self) -> &'static str {
        "portable"
    }
    fn platform(&self, problems: &mut Problems) -> Result<Platform> {
        platform::detect(problems)
    }
    fn cpu(&self, problems: &mut Problems) -> Result<Cpu> {
        cpu::detect(problems)
    }
    fn numa(&self, _problems: &mut Problems) -> Result<Numa> {
        Err(Error::Unsupported("sysinfo does not report NUMA topology".into()))
    }
    fn memory(&self, problems: &mut Problems) -> Result<Memory> {
        memory::detect(problems)
    }
    fn storage(&self, problems: &mut Problems) -> Result<Storage> {
        storage::detect(problems)
    }
    fn network(&self, problems: &mut Problems) -> Result<Network> {
        network::detect(problems)
    }
    fn gpus(&self, problems: &mut Problems) -> Result<Vec<Gpu>> {
        gpu::detect(problems)
    }
}

/// Converts a sysinfo error met while asking for `what`.
fn from_sysinfo(what: &str, error: sysinfo::Error) -> Error {
    match error {
        sysinfo::Error::Unsupported => {
            Error::Unsupported(format!("{what}: sysinfo does not support it on {}", std::env::consts::OS))
        }
        other => Error::Unavailable(format!("{what}: sysinfo: {other}")),
    }
}

/// The value of a sysinfo query, or `None` with the reason added to `problems`.
fn known<T>(what: &str, result: Result<T, sysinfo::Error>, problems: &mut Problems) -> Option<T> {
    result.map_err(|e| problems.push(from_sysinfo(what, e))).ok()
}

/// Records that sysinfo has no source for these fields of a section (they stay `None`/empty).
fn not_reported(fields: &str, problems: &mut Problems) {
    problems.push(Error::Unavailable(format!("{fields}: not reported by the portable backend (sysinfo)")));
}
