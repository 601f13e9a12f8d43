//! One module per subcommand; shared options and output helpers.

pub mod assets;
pub mod capture;
pub mod ebpf;
pub mod gpus;
pub mod nfd;
pub mod output;
pub mod profile;
pub mod serve;
pub mod top;
pub mod usage;
pub mod watch;

use anyhow::Context;
use hypermesh_os::portable::select::{self, BackendKind};
use hypermesh_os::{Backend, FsRoot};
use std::path::PathBuf;

/// Options that apply to every subcommand.
#[derive(clap::Args)]
pub struct Global {
    /// Read /proc and /sys under DIR instead of / (e.g. the host's, mounted in a container).
    #[arg(long, global = true, env = "HYPERMESH_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Backend: `native` (Linux /proc and /sys, the default on Linux) or `portable` (sysinfo,
    /// the default elsewhere; live host only, so not with --root).
    #[arg(long, global = true, env = "HYPERMESH_BACKEND", value_name = "native|portable")]
    pub backend: Option<BackendKind>,
}

impl Global {
    /// The filesystem root to read from.
    pub fn fs_root(&self) -> anyhow::Result<FsRoot> {
        match &self.root {
            None => Ok(FsRoot::host()),
            Some(dir) => FsRoot::new(dir).with_context(|| format!("cannot use {} as root", dir.display())),
        }
    }

    /// The backend that answers host questions: the one asked for, else the one for this OS.
    pub fn backend(&self) -> anyhow::Result<Box<dyn Backend>> {
        let root = self.root.as_ref().map(|_| self.fs_root()).transpose()?;
        select::open(self.backend, root).context("cannot open the backend")
    }
}
