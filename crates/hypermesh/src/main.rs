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
    /// How busy the host is over one interval: CPU, pressure, memory, disks, network, cgroup.
    Usage(cmd::usage::Args),
    /// Usage every interval until Ctrl-C: JSON lines (--json) or a refreshing table.
    Watch(cmd::watch::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Profile(args) => cmd::profile::run(&cli.global, args),
        Command::Capture(args) => cmd::capture::run(&cli.global, args),
        Command::Usage(args) => cmd::usage::run(&cli.global, args),
        Command::Watch(args) => cmd::watch::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hypermesh: {err:#}");
            ExitCode::FAILURE
        }
    }
}
