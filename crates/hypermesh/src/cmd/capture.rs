//! `hypermesh capture`: archive the files detection reads.

use super::Global;
use anyhow::Context;
use hypermesh_os::capture;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `hypermesh capture`.
#[derive(clap::Args)]
pub struct Args {
    /// Archive to write (.tar.gz); unpack it and pass the folder to `--root` to read it back.
    /// Written to a temporary file and renamed into place; a symbolic link here is refused.
    pub out: PathBuf,
}

/// Runs a full profile and a usage sample while recording what they read, then writes those
/// files to the archive.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let root = global.fs_root()?;
    let (profile, stats) = capture::capture_to_file(root, &args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {}: {} files ({} bytes), {} links, {} directories",
        args.out.display(),
        stats.files,
        stats.bytes,
        stats.links,
        stats.dirs
    );
    for e in &profile.errors {
        eprintln!("  not captured: {e}");
    }
    Ok(ExitCode::SUCCESS)
}
