//! The Linux native backend: reads /proc and /sys under a [`FsRoot`].

use crate::error::{Error, Result};
use crate::model::{Cpu, Gpu, Memory, Network, Numa, Platform, Storage};
use crate::profile::{Backend, Problems};
use crate::root::FsRoot;

/// Reads a Linux host (live or captured) through its /proc and /sys.
#[derive(Debug)]
pub struct LinuxBackend {
    root: FsRoot,
}

impl LinuxBackend {
    /// A backend over the given root.
    pub fn new(root: FsRoot) -> Self {
        LinuxBackend { root }
    }

    /// The root it reads from.
    pub fn root(&self) -> &FsRoot {
        &self.root
    }
}

fn todo(what: &str) -> Error {
    Error::Unsupported(format!("{what} detection is not implemented yet"))
}

impl Backend for LinuxBackend {
    fn name(&self) -> &'static str {
        "linux"
    }
    fn platform(&self, _problems: &mut Problems) -> Result<Platform> {
        Err(todo("platform"))
    }
    fn cpu(&self, _problems: &mut Problems) -> Result<Cpu> {
        Err(todo("cpu"))
    }
    fn numa(&self, _problems: &mut Problems) -> Result<Numa> {
        Err(todo("numa"))
    }
    fn memory(&self, _problems: &mut Problems) -> Result<Memory> {
        Err(todo("memory"))
    }
    fn storage(&self, _problems: &mut Problems) -> Result<Storage> {
        Err(todo("storage"))
    }
    fn network(&self, _problems: &mut Problems) -> Result<Network> {
        Err(todo("network"))
    }
    fn gpus(&self, _problems: &mut Problems) -> Result<Vec<Gpu>> {
        Err(todo("gpu"))
    }
}
