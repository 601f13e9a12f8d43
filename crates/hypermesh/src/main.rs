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
    /// eBPF: probe what this kernel allows, check bytecode, run programs (runqlat), list, unpin.
    Ebpf(cmd::ebpf::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Profile(args) => cmd::profile::run(&cli.global, args),
        Command::Capture(args) => cmd::capture::run(&cli.global, args),
        Command::Ebpf(args) => cmd::ebpf::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hypermesh: {err:#}");
            ExitCode::FAILURE
        }
    }
}
