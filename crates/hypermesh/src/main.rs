//! `hypermesh`: what this host has, how busy it is, and what its kernel can run.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// HyperMesh node layer: host inventory, usage, GPUs, eBPF and assets.
#[derive(Parser)]
#[command(name = "hypermesh", version, about)]
struct Cli {
    #[command(flatten)]
    global: cmd::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print what this host has (all sections, or those given with --section).
    Profile(cmd::profile::Args),
    /// Archive every /proc and /sys file the detection reads, for `--root` to read back.
    Capture(cmd::capture::Args),
    /// List GPUs: PCI identity, vendor detail from sysfs, NVIDIA live state through NVML.
    Gpus(cmd::gpus::Args),
    /// List, allocate and release this node's assets (CPU, GPU, memory, storage).
    Assets(cmd::assets::Args),
    /// Serve Prometheus metrics and the JSON API over HTTP (until SIGTERM or SIGINT).
    Serve(cmd::serve::Args),
    /// Write the Kubernetes node-feature-discovery feature file for this host.
    Nfd(cmd::nfd::Args),
    /// eBPF: probe what this kernel allows, check bytecode, run programs (runqlat), list, unpin.
    Ebpf(cmd::ebpf::Args),
    /// How busy the host is over one interval: CPU, pressure, memory, disks, network, cgroup.
    Usage(cmd::usage::Args),
    /// Usage every interval until Ctrl-C: JSON lines (--json) or a refreshing table.
    Watch(cmd::watch::Args),
    /// Live terminal view: CPUs, memory, pressure, I/O, filesystems, GPUs, assets, eBPF latency.
    Top(cmd::top::Args),
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`hypermesh profile --json | head`) like other Unix tools,
    // instead of panicking inside println!.
    #[cfg(unix)]
    // SAFETY: setting a signal disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL)
    };
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Profile(args) => cmd::profile::run(&cli.global, args),
        Command::Capture(args) => cmd::capture::run(&cli.global, args),
        Command::Gpus(args) => cmd::gpus::run(&cli.global, args),
        Command::Assets(args) => cmd::assets::run(&cli.global, args),
        Command::Serve(args) => cmd::serve::run(&cli.global, args),
        Command::Nfd(args) => cmd::nfd::run(&cli.global, args),
        Command::Ebpf(args) => cmd::ebpf::run(&cli.global, args),
        Command::Usage(args) => cmd::usage::run(&cli.global, args),
        Command::Watch(args) => cmd::watch::run(&cli.global, args),
        Command::Top(args) => cmd::top::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hypermesh: {err:#}");
            ExitCode::FAILURE
        }
    }
}
