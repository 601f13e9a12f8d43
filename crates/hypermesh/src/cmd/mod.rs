//! One module per subcommand; shared options and output helpers.

pub mod assets;
#[cfg(native_linux)]
pub mod capture;
pub mod duration;
#[cfg(native_linux)]
pub mod ebpf;
pub mod gpus;
#[cfg(native_linux)]
pub mod health;
#[cfg(not(native_linux))]
mod linux_only;
pub mod nfd;
pub mod output;
pub mod profile;
#[cfg(native_linux)]
pub mod serve;
#[cfg(native_linux)]
pub mod top;
pub mod usage;
pub mod watch;

// Without `native_linux` these commands still parse, and say why they cannot run.
#[cfg(not(native_linux))]
pub use linux_only::{capture, ebpf, health, serve, top};

use anyhow::Context;
use hypermesh_os::Backend;
use hypermesh_os::select::{self, BackendKind};
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
    #[cfg(native_linux)]
    pub fn fs_root(&self) -> anyhow::Result<hypermesh_os::FsRoot> {
        use hypermesh_os::FsRoot;
        match &self.root {
            None => Ok(FsRoot::host()),
            Some(dir) => FsRoot::new(dir).with_context(|| format!("cannot use {} as root", dir.display())),
        }
    }

    /// Which backend answers: the one asked for, else the one for this OS; an error when it
    /// cannot (the portable backend with --root, the native one where it is not compiled).
    pub fn backend_kind(&self) -> anyhow::Result<BackendKind> {
        select::resolve(self.backend, self.root.as_deref()).context("cannot use that backend")
    }

    /// The backend that answers host questions: the one asked for, else the one for this OS.
    pub fn backend(&self) -> anyhow::Result<Box<dyn Backend>> {
        select::open(self.backend, self.root.as_deref()).context("cannot open the backend")
    }
}

/// A subcommand's arguments, defined only when that subcommand runs (clap's `Command::defer`).
/// Building every subcommand's arguments costs a fresh `hypermesh profile` process about a
/// quarter of a millisecond, mostly page faults in code it never needs.
pub struct Deferred<A>(pub A);

impl<A: clap::Args> Deferred<A> {
    /// Adds `A`'s arguments, keeping the subcommand's own description: the one on its variant,
    /// which `A`'s doc comment would otherwise replace, since the deferred part runs last.
    fn define(cmd: clap::Command, augment: fn(clap::Command) -> clap::Command) -> clap::Command {
        use clap::builder::Resettable;
        let keep = |text: Option<&clap::builder::StyledStr>| {
            text.cloned().map_or(Resettable::Reset, Resettable::Value)
        };
        let (about, long_about) = (keep(cmd.get_about()), keep(cmd.get_long_about()));
        augment(cmd).about(about).long_about(long_about)
    }
}

impl<A: clap::Args> clap::Args for Deferred<A> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| Self::define(cmd, A::augment_args))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(|cmd| Self::define(cmd, A::augment_args_for_update))
    }

    fn group_id() -> Option<clap::Id> {
        A::group_id()
    }
}

impl<A: clap::FromArgMatches> clap::FromArgMatches for Deferred<A> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        A::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        A::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}
