//! `hypermesh capture`: archive the files detection reads.

use super::Global;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hypermesh capture`.
#[derive(clap::Args)]
pub struct Args {
    /// Archive to write (.tar.gz).
    pub out: PathBuf,
}

/// Runs the command.
pub fn run(_global: &Global, _args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("capture is not implemented yet")
}
