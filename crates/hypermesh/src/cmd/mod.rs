//! One module per subcommand; shared options and output helpers.

pub mod capture;
pub mod output;
pub mod profile;
pub mod usage;
pub mod watch;

use anyhow::Context;
use hypermesh_os::{Backend, FsRoot, linux::LinuxBackend};
use std::path::PathBuf;

/// Options that apply to every subcommand.
#[derive(clap::Args)]
pub struct Global {
    /// Read /proc and /sys under DIR instead of / (e.g. the host's, mounted in a container).
    #[arg(long, global = true, env = "HYPERMESH_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
}

impl Global {
    /// The filesystem root to read from.
    pub fn fs_root(&self) -> anyhow::Result<FsRoot> {
        match &self.root {
            None => Ok(FsRoot::host()),
            Some(dir) => FsRoot::new(dir).with_context(|| format!("cannot use {} as root", dir.display())),
        }
    }

    /// The backend that answers host questions.
    pub fn backend(&self) -> anyhow::Result<Box<dyn Backend>> {
        Ok(Box::new(LinuxBackend::new(self.fs_root()?)))
    }
}
