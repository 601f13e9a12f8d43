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

/// Parses an interval such as `500ms`, `1s` or `2m` (between 10 ms and one day).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e} (try 500ms, 1s, 2m)"))?;
    if d < Duration::from_millis(10) || d > Duration::from_secs(86_400) {
        return Err(format!("{text:?}: the interval must be between 10ms and 24h"));
    }
    Ok(d)
}

/// Runs the command with the sampler of the backend asked for (default: this OS's).
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    match global.backend_kind()? {
        #[cfg(native_linux)]
        hypermesh_os::portable::select::BackendKind::Native => native::run(global, args),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_interval("1ms").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
