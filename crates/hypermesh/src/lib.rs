//! `hypermesh`: what this host has, how busy it is, and what its kernel can run.
//!
//! A library so that the command-line definition can be read by `cargo xtask dist`, which
//! generates the man pages and shell completions from it, and so that tests reach [`nfd`]; the
//! binary is `src/main.rs`.

mod cmd;
pub mod nfd;

use clap::{Parser, Subcommand};
use cmd::Deferred;
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
    Profile(Deferred<cmd::profile::Args>),
    /// Archive every /proc and /sys file the detection reads, for `--root` to read back.
    Capture(Deferred<cmd::capture::Args>),
    /// List GPUs: PCI identity, vendor detail from sysfs, NVIDIA live state through NVML.
    Gpus(Deferred<cmd::gpus::Args>),
    /// List, allocate and release this node's assets (CPU, GPU, memory, storage).
    Assets(Deferred<cmd::assets::Args>),
    /// Serve Prometheus metrics and the JSON API over HTTP (until SIGTERM or SIGINT).
    Serve(Deferred<cmd::serve::Args>),
    /// Write the Kubernetes node-feature-discovery feature file for this host.
    Nfd(Deferred<cmd::nfd::Args>),
    /// eBPF: probe what this kernel allows, check bytecode, run programs (runqlat), list, unpin.
    Ebpf(Deferred<cmd::ebpf::Args>),
    /// How busy the host is over one interval: CPU, pressure, memory, disks, network, cgroup.
    Usage(Deferred<cmd::usage::Args>),
    /// Usage every interval until Ctrl-C: JSON lines (--json) or a refreshing table.
    Watch(Deferred<cmd::watch::Args>),
    /// Live terminal view: CPUs, memory, pressure, I/O, filesystems, GPUs, assets, eBPF latency.
    Top(Deferred<cmd::top::Args>),
    /// Hardware health: disk SMART and NVMe logs, sensors, memory errors, thermal zones, GPUs.
    Health(Deferred<cmd::health::Args>),
}

/// The command-line definition: what the man pages and completions are generated from (they
/// build it, which defines the deferred subcommands' arguments).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs `hypermesh` with the process's arguments.
pub fn main() -> ExitCode {
    // Die quietly on a closed pipe (`hypermesh profile --json | head`) like other Unix tools,
    // instead of panicking inside println!.
    #[cfg(unix)]
    // SAFETY: setting a signal disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL)
    };
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Profile(Deferred(args)) => cmd::profile::run(&cli.global, args),
        Command::Capture(Deferred(args)) => cmd::capture::run(&cli.global, args),
        Command::Gpus(Deferred(args)) => cmd::gpus::run(&cli.global, args),
        Command::Assets(Deferred(args)) => cmd::assets::run(&cli.global, args),
        Command::Serve(Deferred(args)) => cmd::serve::run(&cli.global, args),
        Command::Nfd(Deferred(args)) => cmd::nfd::run(&cli.global, args),
        Command::Ebpf(Deferred(args)) => cmd::ebpf::run(&cli.global, args),
        Command::Usage(Deferred(args)) => cmd::usage::run(&cli.global, args),
        Command::Watch(Deferred(args)) => cmd::watch::run(&cli.global, args),
        Command::Top(Deferred(args)) => cmd::top::run(&cli.global, args),
        Command::Health(Deferred(args)) => cmd::health::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hypermesh: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn deferred_subcommands_keep_their_description_and_get_their_arguments() {
        let mut cli = Cli::command();
        cli.build();
        let profile = cli.find_subcommand("profile").unwrap();
        let about = profile.get_about().unwrap().to_string();
        assert!(about.starts_with("Print what this host has"), "{about}");
        assert!(profile.get_arguments().any(|a| a.get_id() == "json"));
        assert!(profile.get_arguments().any(|a| a.get_id() == "root"), "global options reach it");
        let probe = cli.find_subcommand("ebpf").and_then(|e| e.find_subcommand("probe"));
        assert!(probe.is_some(), "nested subcommands are defined too");
        for sub in cli.get_subcommands() {
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            assert!(!about.starts_with("Arguments of"), "{}: {about}", sub.get_name());
        }
    }
}
