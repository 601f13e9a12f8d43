//! `hypermesh usage`: one reading of how busy the host is, over an interval, from the native
//! sampler ([`native`], Linux) or the portable one ([`portable`], sysinfo), as `--backend`
//! chooses.

#[cfg(native_linux)]
pub mod native;
pub mod portable;

use super::Global;
use super::output::bytes;
use std::process::ExitCode;
use std::time::Duration;

pub use super::duration::parse_interval;

/// Arguments of `hypermesh usage` and `hypermesh watch`.
#[derive(clap::Args)]
pub struct Args {
    /// Time between two readings (`500ms`, `1s`, `2m`).
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Print JSON instead of tables (`watch`: one object per line per interval).
    #[arg(long)]
    pub json: bool,
}

/// Runs the command with the sampler of the backend asked for (default: this OS's).
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    match global.backend_kind()? {
        #[cfg(native_linux)]
        hypermesh_os::select::BackendKind::Native => native::run(global, args),
        // Without `native_linux` the portable backend is the only one.
        _ => portable::run(args),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "-".into())
}

fn per_sec(v: Option<f64>) -> String {
    v.map(|v| format!("{}/s", bytes(v.max(0.0) as u64))).unwrap_or_else(|| "-".into())
}
