//! `hypermesh ebpf`: probe what this kernel allows, check bytecode, run programs, list, unpin.

mod inspect;
mod run;
mod session;

use super::Global;
use super::duration::parse_duration;
use hypermesh_ebpf::lifecycle;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `hypermesh ebpf`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// What this kernel lets this process do: types, helpers, attach hooks, settings.
    Probe {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Skip the helper scan (for start-up decisions).
        #[arg(long)]
        quick: bool,
    },
    /// Check an eBPF ELF object or raw instruction file before loading it.
    Check {
        /// The file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load, attach and run one of HyperMesh's programs, then print its result.
    Run {
        /// Program to run.
        #[arg(value_enum)]
        program: RunProgram,
        /// How long to collect (`5s`, `500ms`, `1m`).
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        duration: Duration,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// One histogram per CPU instead of the sum.
        #[arg(long)]
        per_cpu: bool,
        /// Pin the links under bpffs and exit, leaving the program running (see `unpin`).
        #[arg(long)]
        pin: bool,
        /// Commands listed per syscall (`syscalls`).
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Interface to count packets on (`xdp-counter`).
        #[arg(long, required_if_eq("program", "xdp-counter"))]
        interface: Option<String>,
        /// Attach every hook with this variant only, failing (with the kernel's reason) where it
        /// cannot attach: fentry, kprobe, tp_btf, raw_tp (raw_tracepoint), tracepoint; for
        /// xdp-counter xdp_native or xdp_generic (native, generic).
        #[arg(long, env = "HYPERMESH_EBPF_VARIANT", value_parser = parse_variant)]
        variant: Option<String>,
    },
    /// List loaded eBPF programs (ours marked) and our pins.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove every pin under bpffs/hypermesh; the programs are detached with them.
    Unpin,
    /// The program suite: loads each briefly to tell which hook variant it gets here and why.
    Programs {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Programs `run` knows.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RunProgram {
    /// Run-queue latency histogram (like libbpf-tools runqlat).
    Runqlat,
    /// System calls per syscall number, with the top commands of each (like syscount).
    Syscalls,
    /// Successful execs per user and new command name.
    Exec,
    /// TCP retransmits and resets per remote port, and TCP state transitions.
    Tcp,
    /// Received packets and bytes per protocol on `--interface` (XDP, native else generic).
    XdpCounter,
    /// Block I/O latency histograms per disk and operation (like libbpf-tools biolatency).
    Biolatency,
}

/// The XDP variants `--variant` takes, as the JSON's `variant` names them.
const XDP_VARIANTS: [&str; 2] = ["xdp_native", "xdp_generic"];

/// A `--variant` name, canonical: a [`lifecycle::KINDS`] name or an [`XDP_VARIANTS`] one.
fn parse_variant(s: &str) -> Result<String, String> {
    let name = match s {
        "raw_tp" => "raw_tracepoint",
        "native" => "xdp_native",
        "generic" => "xdp_generic",
        other => other,
    };
    if lifecycle::KINDS.contains(&name) || XDP_VARIANTS.contains(&name) {
        Ok(name.to_string())
    } else {
        let all: Vec<&str> = lifecycle::KINDS.iter().chain(&XDP_VARIANTS).copied().collect();
        Err(format!("unknown variant {s:?} (one of {})", all.join(", ")))
    }
}

/// Runs the command.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let root = global.fs_root()?;
    match &args.command {
        Command::Probe { json, quick } => inspect::probe(&root, *json, *quick),
        Command::Check { file, json } => inspect::check(&root, file, *json),
        Command::Run { program, duration, json, per_cpu, pin, top, interface, variant } => {
            let options = run::Options {
                duration: *duration,
                json: *json,
                per_cpu: *per_cpu,
                pin: *pin,
                top: *top,
                interface: interface.as_deref(),
                variant: variant.as_deref(),
            };
            run::run(&root, *program, &options)
        }
        Command::List { json } => inspect::list(&root, *json),
        Command::Unpin => inspect::unpin(&root),
        Command::Programs { json } => inspect::programs(*json),
    }
}
