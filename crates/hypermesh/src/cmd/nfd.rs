//! `hypermesh nfd`: the node-feature-discovery feature file for this host.

use super::Global;
use anyhow::Context;
use hypermesh_ebpf::probe::{self, ProbeOptions};
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
    // The probe attaches a trivial program per hook (detached at once), as root only.
    let options = ProbeOptions { helpers: false, ..ProbeOptions::full() };
    let probed = global.fs_root().and_then(|root| Ok(probe::probe(&root, options)?));
    let ebpf = match probed {
        Ok(p) => nfd::ebpf_labels(&p),
        Err(e) => {
            eprintln!("hypermesh nfd: no eBPF labels: {e:#}");
            Vec::new()
        }
    };
    let labels = nfd::labels(&profile, &ebpf);
    let path = nfd::write(&args.out, &labels)
        .with_context(|| format!("cannot write into {}", args.out.display()))?;
    eprintln!("hypermesh nfd: wrote {} labels to {}", labels.len(), path.display());
    Ok(ExitCode::SUCCESS)
}
