//! `hypermesh nfd`: the node-feature-discovery feature file for this host.

use super::Global;
use crate::nfd;
use anyhow::Context;
use hypermesh_os::detect;
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
    let ebpf = match ebpf_labels(global) {
        Ok(labels) => labels,
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

/// The eBPF labels from a probe of this kernel. The probe attaches a trivial program per hook
/// (detached at once), as root only.
#[cfg(native_linux)]
fn ebpf_labels(global: &Global) -> anyhow::Result<Vec<(String, String)>> {
    use hypermesh_ebpf::probe::{self, ProbeOptions};
    let options = ProbeOptions { helpers: false, ..ProbeOptions::full() };
    Ok(nfd::ebpf_labels(&probe::probe(&global.fs_root()?, options)?))
}

/// No eBPF here: the probe is Linux-only.
#[cfg(not(native_linux))]
fn ebpf_labels(_: &Global) -> anyhow::Result<Vec<(String, String)>> {
    Err(hypermesh_os::select::linux_only("the eBPF probe").into())
}
