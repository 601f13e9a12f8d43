//! `hypermesh nfd`: the node-feature-discovery feature file for this host.

use super::Global;
use anyhow::Context;
use hypermesh_os::detect;
use hypermesh_server::nfd;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hypermesh nfd`.
#[derive(clap::Args)]
pub struct Args {
    /// Directory nfd-worker reads feature files from.
    #[arg(long, value_name = "DIR", default_value = nfd::DEFAULT_DIR)]
    pub out: PathBuf,
}

/// Detects the host and writes `DIR/hypermesh`.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let backend = global.backend()?;
    let profile = detect(backend.as_ref(), &[]);
    for problem in &profile.errors {
        eprintln!("hypermesh nfd: {problem}");
    }
    let labels = nfd::labels(&profile, &[]);
    let path = nfd::write(&args.out, &labels)
        .with_context(|| format!("cannot write into {}", args.out.display()))?;
    eprintln!("hypermesh nfd: wrote {} labels to {}", labels.len(), path.display());
    Ok(ExitCode::SUCCESS)
}
