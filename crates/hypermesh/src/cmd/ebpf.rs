//! `hypermesh ebpf`: probe what this kernel allows, check bytecode, run programs, list, unpin.

use super::Global;
use super::output::{Table, key_values, opt};
use anyhow::{Context, bail};
use hypermesh_ebpf::check;
use hypermesh_ebpf::lifecycle::{self, Loaded};
use hypermesh_ebpf::probe::mounts::Mounts;
use hypermesh_ebpf::probe::{self, Probe, ProbeOptions, caps::Capabilities};
use hypermesh_ebpf::programs::biolatency::Biolatency;
use hypermesh_ebpf::programs::exec::{self, Exec};
use hypermesh_ebpf::programs::runqlat::Runqlat;
use hypermesh_ebpf::programs::syscalls::Syscalls;
use hypermesh_ebpf::programs::tcp::Tcp;
use hypermesh_ebpf::programs::xdp_counter::{self, Mode, XdpCounter};
use hypermesh_ebpf::stats::{self, Measurement, ProgramCost};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

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

/// How one suite program attaches (JSON) and its text lines, for `programs`.
type SuiteRow = (serde_json::Value, Vec<String>);

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

/// `spec`, forced to `variant` when one is given.
fn forced(spec: lifecycle::Spec, variant: Option<&str>) -> anyhow::Result<lifecycle::Spec> {
    match variant {
        Some(v) => Ok(spec.forcing(v).with_context(|| format!("--variant {v}"))?),
        None => Ok(spec),
    }
}

/// Starts a program, saying which variant was forced when that is why it failed.
fn started<T>(t: anyhow::Result<T>, program: &str, variant: Option<&str>) -> anyhow::Result<T> {
    match variant {
        Some(v) => t.with_context(|| format!("{program} cannot attach as {v} here (forced with --variant)")),
        None => t,
    }
}

/// The variant a program attached with, for `--json`: its kind, or the kinds joined by `+`
/// where hooks differ.
fn variant_of(loaded: &Loaded) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for c in loaded.chosen() {
        if !kinds.contains(&c.variant.kind()) {
            kinds.push(c.variant.kind());
        }
    }
    kinds.join("+")
}

/// The fields every `run --json` output starts with: program, variant, events counted.
fn summary(program: &str, variant: String, events: u64) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("program".into(), program.into());
    m.insert("variant".into(), variant.into());
    m.insert("events".into(), events.into());
    m
}

/// `summary` followed by `rest`'s fields, printed as one JSON line.
fn print_run_json(head: serde_json::Map<String, serde_json::Value>, rest: serde_json::Value) {
    let mut out = head;
    if let serde_json::Value::Object(fields) = rest {
        out.extend(fields);
    }
    println!("{}", serde_json::Value::Object(out));
}

/// Parses `5s`, `250ms`, `2m`, `1h` or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration like 5s or 500ms"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?} (use ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// Runs the command.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let root = global.fs_root()?;
    match &args.command {
        Command::Probe { json, quick } => {
            let opts = if *quick { ProbeOptions::quick() } else { ProbeOptions::full() };
            let p = probe::probe(&root, opts)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                print!("{}", render_probe(&p));
            }
            // Without the capabilities every load test above was refused: say why on stderr and
            // fail, as `bpftool feature probe` does, so scripts do not take "denied" for absent.
            if let Err(e) = lifecycle::preflight(&root) {
                eprintln!("hypermesh: probe incomplete: {e}");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file, json } => {
            let report = check::check_file(file, check::insn_limit(&Capabilities::read(&root)?))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for (sec, n) in &report.programs {
                    println!("{sec}: {n} instructions");
                }
                for p in &report.problems {
                    let at = p.index.map(|i| format!(" insn {i}")).unwrap_or_default();
                    println!("{}{at}: {}", p.section.as_deref().unwrap_or("program"), p.message);
                }
                println!("{}", if report.ok() { "ok" } else { "REJECTED" });
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Run { program: RunProgram::Runqlat, duration, json, per_cpu, pin, variant, .. } => {
            run_runqlat(&root, *duration, *json, *per_cpu, *pin, variant.as_deref())
        }
        Command::Run {
            program:
                RunProgram::Exec
                | RunProgram::Tcp
                | RunProgram::Syscalls
                | RunProgram::XdpCounter
                | RunProgram::Biolatency,
            pin: true,
            ..
        } => {
            bail!("--pin is only supported for runqlat")
        }
        Command::Run { program: RunProgram::XdpCounter, duration, json, interface, variant, .. } => {
            let interface = interface.as_deref().context("xdp-counter needs --interface")?;
            run_xdp(&root, interface, *duration, *json, variant.as_deref())
        }
        Command::Run { program, variant: Some(v), .. } if XDP_VARIANTS.contains(&v.as_str()) => {
            let name = clap::ValueEnum::to_possible_value(program).map(|p| p.get_name().to_string());
            bail!("--variant {v} is for xdp-counter; {} attaches to tracing hooks", name.unwrap_or_default())
        }
        Command::Run { program: RunProgram::Syscalls, duration, json, top, variant, .. } => {
            run_syscalls(&root, *duration, *json, *top, variant.as_deref())
        }
        Command::Run { program: RunProgram::Exec, duration, json, variant, .. } => {
            let spec = forced(exec::spec_from(0), variant.as_deref())?;
            let ex = start_reported(&root, *json, || Exec::start_spec(&spec), |e| e.loaded());
            let ex = started(ex, "exec", variant.as_deref())?;
            let cost = collect(&ex.loaded().prog_ids(), *duration, *json);
            let counts = ex.counts()?;
            let uids: BTreeSet<u32> = counts.iter().map(|c| c.uid).collect();
            let names: BTreeMap<u32, Option<String>> =
                uids.into_iter().map(|u| (u, exec::user_name(u))).collect();
            if *json {
                let execs: Vec<_> = counts
                    .iter()
                    .map(|c| serde_json::json!({ "uid": c.uid, "user": names[&c.uid], "comm": c.comm, "count": c.count }))
                    .collect();
                let events = counts.iter().map(|c| c.count).sum();
                print_run_json(
                    summary("exec", variant_of(ex.loaded()), events),
                    serde_json::json!({ "execs": execs, "attached": ex.loaded().chosen(), "self_cost": cost_json(&cost) }),
                );
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
        Command::Run { program: RunProgram::Tcp, duration, json, variant, .. } => {
            let spec = forced(hypermesh_ebpf::programs::tcp::spec(), variant.as_deref())?;
            let tcp = start_reported(&root, *json, || Tcp::start_spec(&spec), |t| t.loaded());
            let tcp = started(tcp, "tcp", variant.as_deref())?;
            let cost = collect(&tcp.loaded().prog_ids(), *duration, *json);
            let (events, transitions) = (tcp.events()?, tcp.transitions()?);
            if *json {
                let total = events.iter().map(|e| e.count).chain(transitions.iter().map(|t| t.count)).sum();
                print_run_json(
                    summary("tcp", variant_of(tcp.loaded()), total),
                    serde_json::json!({ "tcp_events": events, "transitions": transitions, "attached": tcp.loaded().chosen(), "self_cost": cost_json(&cost) }),
                );
            } else {
                events
                    .iter()
                    .for_each(|e| println!("{:>10}  {} remote port {}", e.count, e.event, e.remote_port));
                transitions.iter().for_each(|t| println!("{:>10}  {} -> {}", t.count, t.from, t.to));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { program: RunProgram::Biolatency, duration, json, variant, .. } => {
            let spec = forced(hypermesh_ebpf::programs::biolatency::spec(), variant.as_deref())?;
            let bio = start_reported(&root, *json, || Biolatency::start_spec(&spec), |b| b.loaded());
            let bio = started(bio, "biolatency", variant.as_deref())?;
            if !json {
                eprintln!("Tracing block device I/O for {duration:?}...");
            }
            let cost = collect(&bio.loaded().prog_ids(), *duration, *json);
            let hists = bio.histograms(&root)?;
            if *json {
                let events = hists.iter().map(|h| h.hist.total()).sum();
                print_run_json(
                    summary("biolatency", variant_of(bio.loaded()), events),
                    serde_json::json!({ "unit": "usecs", "histograms": hists, "attached": bio.loaded().chosen(), "self_cost": cost_json(&cost) }),
                );
            } else {
                for h in &hists {
                    println!("\ndisk = {} ({}:{}) op = {}", h.disk, h.major, h.minor, h.op);
                    print!("{}", h.hist.render("usecs"));
                }
                if hists.is_empty() {
                    println!("no block I/O completed in {duration:?}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List { json } => {
            let progs = lifecycle::list_programs()?;
            let pins = Mounts::read(&root)?
                .first("bpf")
                .map(|b| lifecycle::list_pins(Path::new(b)))
                .unwrap_or_default();
            if *json {
                println!("{}", serde_json::json!({ "programs": progs, "pins": pins }));
            } else {
                let mut t = Table::new(&["ID", "NAME", "TYPE", "OURS", "RUNS", "RUN_NS"]);
                for p in &progs {
                    let ty = probe::types::PROG_TYPES.get(p.prog_type as usize).copied().unwrap_or("?");
                    let ours = if p.ours { "*" } else { "" };
                    t.row(vec![
                        p.id.to_string(),
                        p.name.clone(),
                        ty.into(),
                        ours.into(),
                        p.run_count.to_string(),
                        p.run_time_ns.to_string(),
                    ]);
                }
                print!("{}", t.render());
                for p in &pins {
                    println!("pinned: {}", p.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Programs { json } => {
            let mut rows: Vec<(&str, Result<SuiteRow, String>)> = Vec::new();
            for spec in hypermesh_ebpf::programs::suite() {
                let attached = Loaded::load(&spec).map_err(|e| e.to_string()).map(|l| {
                    let lines = l.chosen().iter().map(|c| {
                        let fell: Vec<String> =
                            c.fell_back.iter().map(|(k, why)| format!("{k}: {why}")).collect();
                        format!("{:<20} {:<11} {}", c.hook, c.variant.kind(), fell.join("; "))
                    });
                    (serde_json::json!(l.chosen()), lines.collect())
                });
                rows.push((spec.name, attached));
            }
            let modes = "native if the interface's driver supports XDP, else generic";
            let xdp = xdp_counter::verify_loads().map_err(|e| e.to_string()).map(|_| {
                let json =
                    serde_json::json!([{ "hook": "receive", "variant": { "kind": "xdp" }, "modes": modes }]);
                (json, vec![format!("{:<20} {:<11} {modes}", "receive (--interface)", "xdp")])
            });
            rows.push(("xdp-counter", xdp));
            if *json {
                let out: Vec<_> = rows
                    .iter()
                    .map(|(name, a)| match a {
                        Ok((c, _)) => serde_json::json!({ "name": name, "attached": c }),
                        Err(e) => serde_json::json!({ "name": name, "error": e }),
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                for (name, a) in &rows {
                    match a {
                        Ok((_, lines)) => lines.iter().for_each(|l| println!("{name:<11} {l}")),
                        Err(e) => println!("{name:<11} unavailable: {e}"),
                    }
                }
            }
            Ok(if rows.iter().all(|r| r.1.is_ok()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Unpin => {
            let Some(bpffs) = Mounts::read(&root)?.first("bpf").map(PathBuf::from) else {
                println!("bpffs is not mounted: nothing pinned");
                return Ok(ExitCode::SUCCESS);
            };
            let removed = lifecycle::unpin_all(&bpffs)?;
            for p in &removed {
                println!("unpinned {}", p.display());
            }
            if removed.is_empty() {
                println!("nothing pinned under {}", bpffs.join(lifecycle::PIN_DIR).display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_runqlat(
    root: &hypermesh_os::FsRoot,
    duration: Duration,
    json: bool,
    per_cpu: bool,
    pin: bool,
    variant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    for note in lifecycle::preflight(root)? {
        eprintln!("note: {note}");
    }
    let spec = forced(hypermesh_ebpf::programs::runqlat::spec_from(0), variant)?;
    let start = Instant::now();
    let rq = started(Runqlat::start_spec(&spec).map_err(Into::into), "runqlat", variant)?;
    let setup = start.elapsed();
    if !json {
        report_attached(rq.loaded(), setup);
    }
    if pin {
        let mut mounts = Mounts::read(root)?;
        let bpffs = mounts.ensure("bpf")?;
        for note in &mounts.mounted {
            eprintln!("note: {note}");
        }
        let pinned = Loaded::pin(rq.into_loaded(), Path::new(&bpffs), "runqlat")?;
        for p in pinned {
            println!("pinned {}", p.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !json {
        eprintln!("Tracing run queue latency for {:?}...", duration);
    }
    let cost = collect(&rq.loaded().prog_ids(), duration, json);
    let hists = if per_cpu { rq.per_cpu()? } else { vec![rq.histogram()?] };
    if json {
        let events = hists.iter().map(|h| h.total()).sum();
        let out = serde_json::json!({
            "unit": "usecs",
            "per_cpu": per_cpu,
            "histograms": hists,
            "attached": rq.loaded().chosen(),
            "self_cost": cost_json(&cost),
            "setup_ms": setup.as_secs_f64() * 1e3,
        });
        print_run_json(summary("runqlat", variant_of(rq.loaded()), events), out);
    } else {
        for (cpu, h) in hists.iter().enumerate() {
            if per_cpu {
                println!("\ncpu = {cpu}");
            }
            print!("{}", h.render("usecs"));
        }
    }
    if hists.iter().all(|h| h.total() == 0) {
        bail!("no run-queue latency was recorded in {duration:?}: the programs ran but saw no wakeups");
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits `duration` with BPF run-time statistics on for `ids` (off again after); prints the
/// self-cost line on stderr unless `json`. Returns the cost, or why it is unknown.
fn collect(ids: &[u32], duration: Duration, json: bool) -> Result<Vec<ProgramCost>, String> {
    let measuring = Measurement::start(ids);
    std::thread::sleep(duration);
    let cost = measuring.and_then(Measurement::finish).map_err(|e| e.to_string());
    if !json {
        match &cost {
            Ok(c) => eprintln!("{}", stats::summary(c)),
            Err(e) => eprintln!("self-cost unavailable: {e}"),
        }
    }
    cost
}

/// The self-cost for `--json`: the per-program list, or `{"error": ...}`.
fn cost_json(cost: &Result<Vec<ProgramCost>, String>) -> serde_json::Value {
    match cost {
        Ok(c) => serde_json::json!(c),
        Err(e) => serde_json::json!({ "error": e }),
    }
}

/// Tells on stderr which variant each hook got, why better ones were passed over, and the setup time.
fn report_attached(loaded: &Loaded, setup: Duration) {
    for c in loaded.chosen() {
        let fell: Vec<String> = c.fell_back.iter().map(|(k, why)| format!("{k}: {why}")).collect();
        let note =
            if fell.is_empty() { String::new() } else { format!(" (fell back from {})", fell.join("; ")) };
        eprintln!("{}: attached as {}{note}", c.hook, c.variant.kind());
    }
    eprintln!("loaded and attached in {:.1} ms", setup.as_secs_f64() * 1e3);
}

/// Runs the preflight, starts a program and reports (unless `json`) how it attached.
fn start_reported<T>(
    root: &hypermesh_os::FsRoot,
    json: bool,
    start: impl FnOnce() -> hypermesh_ebpf::error::Result<T>,
    loaded: impl Fn(&T) -> &Loaded,
) -> anyhow::Result<T> {
    for note in lifecycle::preflight(root)? {
        eprintln!("note: {note}");
    }
    let started = Instant::now();
    let t = start()?;
    if !json {
        report_attached(loaded(&t), started.elapsed());
    }
    Ok(t)
}

/// `run syscalls`: counts system calls for `duration`, then prints the busiest with their top
/// commands.
fn run_syscalls(
    root: &hypermesh_os::FsRoot,
    duration: Duration,
    json: bool,
    top: usize,
    variant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let spec = forced(hypermesh_ebpf::programs::syscalls::spec(), variant)?;
    let sc = started(
        start_reported(root, json, || Syscalls::start_spec(&spec), |s| s.loaded()),
        "syscalls",
        variant,
    )?;
    if !json {
        eprintln!("Counting system calls for {duration:?}...");
    }
    let cost = collect(&sc.loaded().prog_ids(), duration, json);
    let counts = sc.counts(top)?;
    if json {
        let events = counts.iter().map(|c| c.count).sum();
        let out = serde_json::json!({
            "arch": std::env::consts::ARCH,
            "syscalls": counts,
            "attached": sc.loaded().chosen(),
            "self_cost": cost_json(&cost),
        });
        print_run_json(summary("syscalls", variant_of(sc.loaded()), events), out);
    } else {
        println!("{:>6} {:>12}  top commands", "nr", "calls");
        for c in &counts {
            let comms: Vec<String> = c.by_comm.iter().map(|(comm, n)| format!("{comm}={n}")).collect();
            println!("{:>6} {:>12}  {}", c.nr, c.count, comms.join(" "));
        }
    }
    if counts.is_empty() {
        bail!("no system call was counted in {duration:?}: the program ran but saw none");
    }
    Ok(ExitCode::SUCCESS)
}

/// `run xdp-counter`: counts received packets per protocol on `interface` for `duration`.
fn run_xdp(
    root: &hypermesh_os::FsRoot,
    interface: &str,
    duration: Duration,
    json: bool,
    variant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    lifecycle::preflight(root)?.iter().for_each(|note| eprintln!("note: {note}"));
    let modes: &[Mode] = match variant {
        None => &Mode::BEST_FIRST,
        Some("xdp_native") => &[Mode::Native],
        Some("xdp_generic") => &[Mode::Generic],
        Some(v) => bail!("xdp-counter attaches only as {}, not {v}", XDP_VARIANTS.join(" or ")),
    };
    let started_at = Instant::now();
    let xdp = started(XdpCounter::start_modes(interface, modes).map_err(Into::into), "xdp-counter", variant)?;
    let a = xdp.attached();
    if !json {
        let fell: Vec<String> = a.fell_back.iter().map(|(m, why)| format!("{m:?}: {why}")).collect();
        let note =
            if fell.is_empty() { String::new() } else { format!(" (fell back from {})", fell.join("; ")) };
        eprintln!("{interface}: attached as xdp {:?}{note}", a.mode);
        eprintln!("loaded and attached in {:.1} ms", started_at.elapsed().as_secs_f64() * 1e3);
        eprintln!("Counting packets received on {interface} for {duration:?}...");
    }
    let cost = collect(&[a.prog_id], duration, json);
    let counts = xdp.counts()?;
    if json {
        let events = counts.iter().filter(|c| c.layer == "network").map(|c| c.packets).sum();
        let mode = match a.mode {
            Mode::Native => "xdp_native",
            Mode::Generic => "xdp_generic",
        };
        print_run_json(
            summary("xdp-counter", mode.into(), events),
            serde_json::json!({ "interface": interface, "protocols": counts, "attached": a, "self_cost": cost_json(&cost) }),
        );
    } else {
        println!("{:<10} {:<8} {:>12} {:>14}", "layer", "protocol", "packets", "bytes");
        for c in counts.iter().filter(|c| c.packets > 0) {
            println!("{:<10} {:<8} {:>12} {:>14}", c.layer, c.protocol, c.packets, c.bytes);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render_probe(p: &Probe) -> String {
    let caps: Vec<String> =
        p.capabilities.iter().map(|(n, v)| format!("{n}{}", if *v { "" } else { "(missing)" })).collect();
    let mounts: Vec<String> = p
        .mounts
        .points
        .iter()
        .map(|(fs, at)| format!("{fs}={}", if at.is_empty() { "-".to_string() } else { at.join(",") }))
        .collect();
    let mut out = key_values(
        "Kernel",
        &[
            ("release", p.kernel.release.clone()),
            ("config", opt(p.kernel.config_source.clone())),
            ("btf", if p.btf.vmlinux { "vmlinux".into() } else { "none".into() }),
            (
                "jit",
                format!(
                    "enable={} harden={} always_on={}",
                    opt(p.jit.enable),
                    opt(p.jit.harden),
                    opt(p.jit.always_on)
                ),
            ),
            (
                "lockdown",
                p.lockdown.clone().unwrap_or_else(|| format!("unknown ({})", opt(p.details.get("lockdown")))),
            ),
            ("unprivileged_bpf_disabled", opt(p.unprivileged_bpf_disabled)),
            ("bpf_stats_enabled", opt(p.bpf_stats_enabled)),
            ("capabilities", caps.join(" ")),
            ("mounts", mounts.join(" ")),
        ],
    );
    for note in &p.mounts.mounted {
        out.push_str(&format!("  note: {note}\n"));
    }
    for (title, section, map) in [
        ("ATTACH", "attach", &p.attach),
        ("PROGRAM TYPE", "program_types", &p.program_types),
        ("MAP TYPE", "map_types", &p.map_types),
    ] {
        let mut t = Table::new(&[title, "VERDICT", "WHY"]);
        for (name, f) in map {
            let why = p.details.get(&format!("{section}.{name}")).cloned().unwrap_or_default();
            t.row(vec![name.clone(), f.verdict.as_str().into(), why]);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    let mut t = Table::new(&["XDP DEVICE", "PHYSICAL", "NATIVE", "FEATURES"]);
    for d in &p.xdp_devices {
        let name = d.name.clone().unwrap_or_else(|| format!("ifindex {}", d.ifindex));
        t.row(vec![name, d.physical.to_string(), d.native().to_string(), d.features.join(",")]);
    }
    out.push('\n');
    match p.details.get("xdp_devices") {
        Some(why) => out.push_str(&format!("XDP DEVICE: unknown ({why})\n")),
        None => out.push_str(&t.render()),
    }
    if let Some(h) = &p.helpers {
        out.push_str("\nHELPERS (per program type)\n");
        for (t, list) in h {
            out.push_str(&format!("  {t}: {} helpers\n", list.len()));
        }
    }
    out
}
