//! `ebpf run PROGRAM`: loads one suite program, collects for `--duration`, prints its result
//! (tables, or one JSON line starting with program, variant and events).

use super::session::{
    collect, collect_loaded, fell_back_note, launch, preflight, print_json, print_loaded_json, started,
};
use super::{RunProgram, XDP_VARIANTS};
use crate::cmd::output::Table;
use anyhow::{Context, bail};
use hypermesh_ebpf::lifecycle::Loaded;
use hypermesh_ebpf::probe::mounts::Mounts;
use hypermesh_ebpf::programs::biolatency::Biolatency;
use hypermesh_ebpf::programs::exec::{self, Exec};
use hypermesh_ebpf::programs::runqlat::Runqlat;
use hypermesh_ebpf::programs::syscalls::Syscalls;
use hypermesh_ebpf::programs::tcp::Tcp;
use hypermesh_ebpf::programs::xdp_counter::{Mode, XdpCounter};
use hypermesh_os::FsRoot;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The options of `ebpf run`.
pub(super) struct Options<'a> {
    /// How long to collect.
    pub duration: Duration,
    /// One JSON line instead of tables.
    pub json: bool,
    /// runqlat: one histogram per CPU.
    pub per_cpu: bool,
    /// runqlat: pin and exit.
    pub pin: bool,
    /// syscalls: commands listed per syscall.
    pub top: usize,
    /// xdp-counter: the interface.
    pub interface: Option<&'a str>,
    /// The variant forced, canonical.
    pub variant: Option<&'a str>,
}

/// A tracing program's runner.
type Runner = fn(&FsRoot, &Options) -> anyhow::Result<ExitCode>;

/// Runs `program`: refuses `--pin` but for runqlat and an XDP `--variant` for tracing programs.
pub(super) fn run(root: &FsRoot, program: RunProgram, o: &Options) -> anyhow::Result<ExitCode> {
    let runner: Runner = match program {
        RunProgram::Runqlat => return run_runqlat(root, o),
        _ if o.pin => bail!("--pin is only supported for runqlat"),
        RunProgram::XdpCounter => {
            let interface = o.interface.context("xdp-counter needs --interface")?;
            return run_xdp(root, interface, o);
        }
        RunProgram::Syscalls => run_syscalls,
        RunProgram::Exec => run_exec,
        RunProgram::Tcp => run_tcp,
        RunProgram::Biolatency => run_biolatency,
    };
    if let Some(v) = o.variant.filter(|v| XDP_VARIANTS.contains(v)) {
        let name = clap::ValueEnum::to_possible_value(&program).map(|p| p.get_name().to_string());
        bail!("--variant {v} is for xdp-counter; {} attaches to tracing hooks", name.unwrap_or_default())
    }
    runner(root, o)
}

/// `run runqlat`: the run-queue latency histogram (per CPU with `--per-cpu`), or with `--pin`
/// the programs left attached.
fn run_runqlat(root: &FsRoot, o: &Options) -> anyhow::Result<ExitCode> {
    let (rq, setup) = launch::<Runqlat>(root, o)?;
    if o.pin {
        return pin(root, rq.into_loaded(), "runqlat");
    }
    let cost = collect_loaded(rq.loaded(), o, Some("Tracing run queue latency"));
    let hists = if o.per_cpu { rq.per_cpu()? } else { vec![rq.histogram()?] };
    if o.json {
        let events = hists.iter().map(|h| h.total()).sum();
        let fields = serde_json::json!({
            "unit": "usecs",
            "per_cpu": o.per_cpu,
            "histograms": hists,
            "setup_ms": setup.as_secs_f64() * 1e3,
        });
        print_loaded_json("runqlat", rq.loaded(), events, &cost, fields);
    } else {
        for (cpu, h) in hists.iter().enumerate() {
            if o.per_cpu {
                println!("\ncpu = {cpu}");
            }
            print!("{}", h.render("usecs"));
        }
    }
    if hists.iter().all(|h| h.total() == 0) {
        bail!("no run-queue latency was recorded in {:?}: the programs ran but saw no wakeups", o.duration);
    }
    Ok(ExitCode::SUCCESS)
}

/// Pins `loaded`'s links under bpffs (mounting it when needed) and prints the paths.
fn pin(root: &FsRoot, loaded: Loaded, spec: &str) -> anyhow::Result<ExitCode> {
    let mut mounts = Mounts::read(root)?;
    let bpffs = mounts.ensure("bpf")?;
    for note in &mounts.mounted {
        eprintln!("note: {note}");
    }
    for p in Loaded::pin(loaded, Path::new(&bpffs), spec)? {
        println!("pinned {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `run syscalls`: counts system calls for `duration`, then prints the busiest with their top
/// commands.
fn run_syscalls(root: &FsRoot, o: &Options) -> anyhow::Result<ExitCode> {
    let (sc, _) = launch::<Syscalls>(root, o)?;
    let cost = collect_loaded(sc.loaded(), o, Some("Counting system calls"));
    let counts = sc.counts(o.top)?;
    if o.json {
        let events = counts.iter().map(|c| c.count).sum();
        let fields = serde_json::json!({ "arch": std::env::consts::ARCH, "syscalls": counts });
        print_loaded_json("syscalls", sc.loaded(), events, &cost, fields);
    } else {
        println!("{:>6} {:>12}  top commands", "nr", "calls");
        for c in &counts {
            let comms: Vec<String> = c.by_comm.iter().map(|(comm, n)| format!("{comm}={n}")).collect();
            println!("{:>6} {:>12}  {}", c.nr, c.count, comms.join(" "));
        }
    }
    if counts.is_empty() {
        bail!("no system call was counted in {:?}: the program ran but saw none", o.duration);
    }
    Ok(ExitCode::SUCCESS)
}

/// `run exec`: successful execs per user and new command name.
fn run_exec(root: &FsRoot, o: &Options) -> anyhow::Result<ExitCode> {
    let (ex, _) = launch::<Exec>(root, o)?;
    let cost = collect_loaded(ex.loaded(), o, None);
    let counts = ex.counts()?;
    let uids: BTreeSet<u32> = counts.iter().map(|c| c.uid).collect();
    let names: BTreeMap<u32, Option<String>> = uids.into_iter().map(|u| (u, exec::user_name(u))).collect();
    if o.json {
        let execs: Vec<_> = counts
            .iter()
            .map(|c| serde_json::json!({ "uid": c.uid, "user": names[&c.uid], "comm": c.comm, "count": c.count }))
            .collect();
        let events = counts.iter().map(|c| c.count).sum();
        let fields = serde_json::json!({ "execs": execs });
        print_loaded_json("exec", ex.loaded(), events, &cost, fields);
    } else {
        let mut t = Table::new(&["EXECS", "USER", "COMM"]);
        for c in &counts {
            let user = names[&c.uid].clone().unwrap_or_else(|| c.uid.to_string());
            t.row(vec![c.count.to_string(), user, c.comm.clone()]);
        }
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}

/// `run tcp`: retransmits and resets per remote port, and state transitions.
fn run_tcp(root: &FsRoot, o: &Options) -> anyhow::Result<ExitCode> {
    let (tcp, _) = launch::<Tcp>(root, o)?;
    let cost = collect_loaded(tcp.loaded(), o, None);
    let (events, transitions) = (tcp.events()?, tcp.transitions()?);
    if o.json {
        let total = events.iter().map(|e| e.count).chain(transitions.iter().map(|t| t.count)).sum();
        let fields = serde_json::json!({ "tcp_events": events, "transitions": transitions });
        print_loaded_json("tcp", tcp.loaded(), total, &cost, fields);
    } else {
        events.iter().for_each(|e| println!("{:>10}  {} remote port {}", e.count, e.event, e.remote_port));
        transitions.iter().for_each(|t| println!("{:>10}  {} -> {}", t.count, t.from, t.to));
    }
    Ok(ExitCode::SUCCESS)
}

/// `run biolatency`: block I/O latency histograms per disk and operation.
fn run_biolatency(root: &FsRoot, o: &Options) -> anyhow::Result<ExitCode> {
    let (bio, _) = launch::<Biolatency>(root, o)?;
    let cost = collect_loaded(bio.loaded(), o, Some("Tracing block device I/O"));
    let hists = bio.histograms(root)?;
    if o.json {
        let events = hists.iter().map(|h| h.hist.total()).sum();
        let fields = serde_json::json!({ "unit": "usecs", "histograms": hists });
        print_loaded_json("biolatency", bio.loaded(), events, &cost, fields);
    } else {
        for h in &hists {
            println!("\ndisk = {} ({}:{}) op = {}", h.disk, h.major, h.minor, h.op);
            print!("{}", h.hist.render("usecs"));
        }
        if hists.is_empty() {
            println!("no block I/O completed in {:?}", o.duration);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `run xdp-counter`: counts received packets per protocol on `interface` for `duration`.
fn run_xdp(root: &FsRoot, interface: &str, o: &Options) -> anyhow::Result<ExitCode> {
    preflight(root)?;
    let modes: &[Mode] = match o.variant {
        None => &Mode::BEST_FIRST,
        Some("xdp_native") => &[Mode::Native],
        Some("xdp_generic") => &[Mode::Generic],
        Some(v) => bail!("xdp-counter attaches only as {}, not {v}", XDP_VARIANTS.join(" or ")),
    };
    let started_at = Instant::now();
    let xdp =
        started(XdpCounter::start_modes(interface, modes).map_err(Into::into), "xdp-counter", o.variant)?;
    let a = xdp.attached();
    if !o.json {
        let fell: Vec<String> = a.fell_back.iter().map(|(m, why)| format!("{m:?}: {why}")).collect();
        eprintln!("{interface}: attached as xdp {:?}{}", a.mode, fell_back_note(&fell));
        eprintln!("loaded and attached in {:.1} ms", started_at.elapsed().as_secs_f64() * 1e3);
        eprintln!("Counting packets received on {interface} for {:?}...", o.duration);
    }
    let cost = collect(&[a.prog_id], o.duration, o.json);
    let counts = xdp.counts()?;
    if o.json {
        let events = counts.iter().filter(|c| c.layer == "network").map(|c| c.packets).sum();
        let mode = match a.mode {
            Mode::Native => "xdp_native",
            Mode::Generic => "xdp_generic",
        };
        let fields = serde_json::json!({ "interface": interface, "protocols": counts });
        print_json("xdp-counter", mode.into(), events, serde_json::json!(a), &cost, fields);
    } else {
        println!("{:<10} {:<8} {:>12} {:>14}", "layer", "protocol", "packets", "bytes");
        for c in counts.iter().filter(|c| c.packets > 0) {
            println!("{:<10} {:<8} {:>12} {:>14}", c.layer, c.protocol, c.packets, c.bytes);
        }
    }
    Ok(ExitCode::SUCCESS)
}
