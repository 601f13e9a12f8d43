//! `hypermesh usage` from the native sampler: /proc and /sys under the root, with pressure,
//! disks, cgroup and filesystem space.

use super::{Args, pct, per_sec};
use crate::cmd::Global;
use crate::cmd::output::{Table, bytes, key_values, opt, snake_name};
use hypermesh_os::usage::filesystems::Filesystems;
use hypermesh_os::usage::rates::{CpuRates, MemoryRates, PsiRates, PsiReport, Rates};
use hypermesh_os::usage::{Report, Sampler, rates::CgroupReport};
use std::io::Write;
use std::process::ExitCode;

/// Samples twice `interval` apart and prints the rates and filesystem space.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let mut sampler = Sampler::new(global.fs_root()?);
    let before = sampler.sample();
    std::thread::sleep(args.interval);
    let after = sampler.sample();
    let report = Report::new(sampler.root(), &before, &after);
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        render(&report.rates, report.filesystems.as_ref())
    };
    // A closed stdout (`| head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if report.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into())
}

fn psi_cells(line: Option<&PsiRates>) -> [String; 4] {
    match line {
        Some(l) => [
            format!("{:.2}", l.avg10),
            format!("{:.2}", l.avg60),
            format!("{:.2}", l.avg300),
            pct(l.stall_percent),
        ],
        None => ["-".into(), "-".into(), "-".into(), "-".into()],
    }
}

fn psi_row(name: &str, p: &PsiReport) -> Vec<String> {
    let mut row = vec![name.to_string()];
    row.extend(psi_cells(p.some.as_ref()));
    row.extend(psi_cells(p.full.as_ref()));
    row
}

fn limit<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "no limit".into())
}

fn render_cgroup(c: &CgroupReport) -> String {
    if let Some(reason) = &c.unavailable {
        return format!("Cgroup\n  unavailable: {reason}\n");
    }
    let version = c.version.and_then(snake_name);
    key_values(
        "Cgroup",
        &[
            ("version", opt(version)),
            ("path", opt(c.path.clone())),
            (
                "cpu limit",
                limit(c.cpu_limit_cpus, |n| {
                    format!("{n:.2} CPUs ({} / {} us)", opt(c.cpu_quota_us), opt(c.cpu_period_us))
                }),
            ),
            ("cpuset", opt(c.cpuset.clone())),
            ("memory limit", limit(c.memory_limit_bytes, bytes)),
            ("memory in use", c.memory_current_bytes.map(bytes).unwrap_or_else(|| "-".into())),
            ("effective cpus", num(c.effective_cpus)),
            ("effective memory", c.effective_memory_bytes.map(bytes).unwrap_or_else(|| "-".into())),
        ],
    )
}

/// Renders a report as human tables (shared with `watch`).
pub fn render(r: &Rates, fs: Option<&Filesystems>) -> String {
    let mut out = format!("Interval {:.2} s\n\n", r.interval_seconds);
    if let Some(c) = &r.cpu {
        out += &cpu_part(c);
    }
    if let Some(l) = &r.load {
        out += &format!("Load average  {:.2} {:.2} {:.2}\n\n", l.one, l.five, l.fifteen);
    }
    out += &pressure_part(r);
    if let Some(m) = &r.memory {
        out += &memory_part(m);
    }
    out += &disks_part(r);
    out += &network_part(r);
    out += &render_cgroup(&r.cgroup);
    if let Some(fs) = fs {
        out.push('\n');
        out += &filesystems_part(fs);
    }
    if !r.errors.is_empty() {
        out += "\nCould not read:\n";
        for e in &r.errors {
            out += &format!("  {}: {}\n", e.source, e.message);
        }
    }
    out
}

/// Busy share, modes, switches and tasks, and the per-CPU table.
fn cpu_part(c: &CpuRates) -> String {
    let mut out = String::new();
    let m = c.modes.unwrap_or_default();
    out += &key_values(
        "CPU",
        &[
            ("busy", format!("{} of {} online CPUs", pct(c.total_percent), c.online_cpus)),
            (
                "modes",
                format!(
                    "user {:.1}  nice {:.1}  system {:.1}  iowait {:.1}  irq {:.1}  softirq {:.1}  steal {:.1}  guest {:.1}",
                    m.user, m.nice, m.system, m.iowait, m.irq, m.softirq, m.steal, m.guest
                ),
            ),
            ("context switches", format!("{}/s", num(c.context_switches_per_sec))),
            ("interrupts", format!("{}/s", num(c.interrupts_per_sec))),
            ("tasks", format!("{} running, {} blocked", opt(c.procs_running), opt(c.procs_blocked))),
        ],
    );
    let mut t = Table::new(&["  CPU", "BUSY", "USER", "SYSTEM", "IOWAIT", "STEAL"]);
    for p in &c.per_cpu {
        let m = p.modes;
        t.row(vec![
            format!("  cpu{}", p.cpu),
            pct(p.total_percent),
            pct(m.map(|m| m.user)),
            pct(m.map(|m| m.system)),
            pct(m.map(|m| m.iowait)),
            pct(m.map(|m| m.steal)),
        ]);
    }
    out += &t.render();
    out.push('\n');
    out
}

/// The pressure (PSI) table, and why each missing resource is missing.
fn pressure_part(r: &Rates) -> String {
    let mut out = String::new();
    let mut t = Table::new(&[
        "PRESSURE", "SOME10", "SOME60", "SOME300", "SOME NOW", "FULL10", "FULL60", "FULL300", "FULL NOW",
    ]);
    for (name, p) in r.pressure.iter().filter(|(_, p)| p.unavailable.is_none()) {
        t.row(psi_row(name, p));
    }
    out += &t.render();
    for (name, p) in &r.pressure {
        if let Some(reason) = &p.unavailable {
            out += &format!("{name:<8}  unavailable: {reason}\n");
        }
    }
    out.push('\n');
    out
}

/// Memory in use, faults, swapping and paging.
fn memory_part(m: &MemoryRates) -> String {
    let mut out = String::new();
    let mut pairs = Vec::new();
    if let Some(now) = &m.now {
        pairs.push(("used", format!("{} of {}", bytes(now.used_bytes), bytes(now.total_bytes))));
        pairs.push(("available", bytes(now.available_bytes)));
        pairs.push(("cached", bytes(now.cached_bytes)));
        pairs.push((
            "swap used",
            format!("{} of {}", bytes(now.swap_used_bytes), bytes(now.swap_total_bytes)),
        ));
    }
    pairs.push((
        "page faults",
        format!("{}/s ({}/s major)", num(m.page_faults_per_sec), num(m.major_faults_per_sec)),
    ));
    pairs.push((
        "swap in/out",
        format!("{} / {} pages/s", num(m.swap_in_pages_per_sec), num(m.swap_out_pages_per_sec)),
    ));
    pairs.push((
        "paging in/out",
        format!("{} / {}", per_sec(m.page_in_bytes_per_sec), per_sec(m.page_out_bytes_per_sec)),
    ));
    out += &key_values("Memory", &pairs);
    out.push('\n');
    out
}

/// The disk table with its total row.
fn disks_part(r: &Rates) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["DISK", "KIND", "READ", "WRITE", "R/S", "W/S", "LATENCY", "UTIL", "QUEUE"]);
    for d in &r.disks {
        let kind = snake_name(d.kind);
        t.row(vec![
            d.name.clone(),
            opt(kind),
            per_sec(d.read_bytes_per_sec),
            per_sec(d.write_bytes_per_sec),
            num(d.reads_per_sec),
            num(d.writes_per_sec),
            d.avg_latency_ms.map(|l| format!("{l:.2} ms")).unwrap_or_else(|| "-".into()),
            pct(d.utilization_percent),
            d.queue_depth.map(|q| format!("{q:.2}")).unwrap_or_else(|| "-".into()),
        ]);
    }
    let dt = &r.disk_totals;
    t.row(vec![
        "total (disks)".into(),
        String::new(),
        per_sec(Some(dt.read_bytes_per_sec)),
        per_sec(Some(dt.write_bytes_per_sec)),
        num(Some(dt.reads_per_sec)),
        num(Some(dt.writes_per_sec)),
    ]);
    out += &t.render();
    out.push('\n');
    out
}

/// The interface table.
fn network_part(r: &Rates) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["INTERFACE", "RX", "TX", "RX PKT/S", "TX PKT/S", "ERRORS/S", "DROPS/S"]);
    for n in &r.network {
        let sum = |a: Option<f64>, b: Option<f64>| Some(a? + b?);
        t.row(vec![
            n.name.clone(),
            per_sec(n.rx_bytes_per_sec),
            per_sec(n.tx_bytes_per_sec),
            num(n.rx_packets_per_sec),
            num(n.tx_packets_per_sec),
            num(sum(n.rx_errors_per_sec, n.tx_errors_per_sec)),
            num(sum(n.rx_drops_per_sec, n.tx_drops_per_sec)),
        ]);
    }
    out += &t.render();
    out.push('\n');
    out
}

/// Space per mounted filesystem, and the mounts skipped with why.
fn filesystems_part(fs: &Filesystems) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["MOUNT", "TYPE", "SIZE", "USED", "FREE", "USE%"]);
    for f in &fs.mounts {
        t.row(vec![
            f.mount_point.clone(),
            f.fs_type.clone(),
            bytes(f.total_bytes),
            bytes(f.used_bytes),
            bytes(f.free_bytes),
            pct(f.used_percent),
        ]);
    }
    for s in &fs.skipped {
        t.row(vec![s.mount_point.clone(), s.fs_type.clone(), format!("({})", s.reason)]);
    }
    out += &t.render();
    out
}
