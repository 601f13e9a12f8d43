//! `hypermesh serve`: Prometheus metrics and the JSON API over HTTP(S).

use super::Global;
use super::assets::AssetOptions;
use anyhow::Context;
use hypermesh_os::detect;
use hypermesh_server::collector::Scraper;
use hypermesh_server::config::WebConfig;
use hypermesh_server::http::App;
use hypermesh_server::server::{Limits, Listen, ServeOptions, run_blocking};
use hypermesh_server::sources::{AssetsSource, Sources};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `hypermesh serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Address and port to listen on: loopback by default; `:9469` for every address, IPv6 and
    /// IPv4 (as Prometheus writes it), or one address such as 0.0.0.0:9469 or [::1]:9469.
    #[arg(long, default_value = "127.0.0.1:9469")]
    pub listen: Listen,
    /// Sections of /metrics to collect (comma-separated). Available: inventory, usage, assets
    /// (the default set) and ebpf (run-queue and block I/O latency histograms; loads eBPF
    /// programs for the server's lifetime, needs root).
    #[arg(long, value_delimiter = ',')]
    pub collectors: Vec<String>,
    /// TLS and basic auth config (exporter-toolkit web-config format).
    #[arg(long, value_name = "FILE")]
    pub web_config: Option<PathBuf>,
    #[command(flatten)]
    pub assets: AssetOptions,
}

/// Detects the inventory once (the assets are built from it), then serves until SIGTERM or
/// SIGINT.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    // A client that resets its connection while a reply is being written must cost an EPIPE on
    // that connection, not the process: back to ignoring SIGPIPE, Rust's default, which `main`
    // undoes so that `hypermesh profile | head` ends quietly.
    // SAFETY: changing a signal disposition, before this command starts any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let web = match &args.web_config {
        Some(path) => WebConfig::load(path).context("refusing to start: bad --web-config")?,
        None => WebConfig::default(),
    };
    for warning in &web.warnings {
        eprintln!("hypermesh serve: warning: {warning}");
    }
    hypermesh_server::collectors::validate(&args.collectors)?;
    let backend = global.backend()?;
    let profile = Arc::new(detect(backend.as_ref(), &[]));
    for problem in &profile.errors {
        eprintln!("hypermesh serve: inventory: {problem}");
    }
    let assets = args
        .assets
        .inventory_of(global, &profile)
        .and_then(|inventory| Ok(AssetsSource::new(inventory, args.assets.ledger_path()?)))
        .map_err(|e| format!("{e:#}"));
    if let Err(why) = &assets {
        eprintln!("hypermesh serve: assets: {why}");
    }
    let sources = Arc::new(Sources::new(global.fs_root()?, profile, assets));
    let collectors = hypermesh_server::collectors::build(&args.collectors, &sources)?;
    let app = App::new(Scraper::new(collectors), sources)?;
    // Detection and the first asset listing are done: give their freed memory back.
    hypermesh_os::heap::release_free();
    run_blocking(ServeOptions { listen: args.listen, web, app, limits: Limits::default() })
        .with_context(|| format!("serving on {}", args.listen))?;
    Ok(ExitCode::SUCCESS)
}
