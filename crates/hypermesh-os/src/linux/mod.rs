//! The Linux native backend: reads /proc and /sys under a [`FsRoot`].

use crate::error::Result;
use crate::model::{Cpu, Gpu, Memory, Network, Numa, Platform, Storage};
use crate::profile::{Backend, Problems};
use crate::root::FsRoot;

pub mod allowed;
pub mod cpu;
pub mod devpath;
pub mod meminfo;
pub mod memory;
pub mod memory_side;
pub mod mountinfo;
pub mod network;
pub mod numa;
pub mod platform;
pub mod pmem;
pub mod smbios;
pub mod storage;

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

impl Backend for LinuxBackend {
    fn name(&self) -> &'static str {
        "linux"
    }
    fn platform(&self, problems: &mut Problems) -> Result<Platform> {
        platform::detect(&self.root, problems)
    }
    fn cpu(&self, problems: &mut Problems) -> Result<Cpu> {
        cpu::detect(&self.root, problems)
    }
    fn numa(&self, problems: &mut Problems) -> Result<Numa> {
        numa::detect(&self.root, problems)
    }
    fn memory(&self, problems: &mut Problems) -> Result<Memory> {
        memory::detect(&self.root, problems)
    }
    fn storage(&self, problems: &mut Problems) -> Result<Storage> {
        storage::detect(&self.root, problems)
    }
    fn network(&self, problems: &mut Problems) -> Result<Network> {
        network::detect(&self.root, problems)
    }
    fn gpus(&self, problems: &mut Problems) -> Result<Vec<Gpu>> {
        crate::gpu::detect(&self.root, problems)
    }
}
